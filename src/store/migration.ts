/**
 * A versioned schema change. Each dialect lists its own in order; a migration is applied once,
 * inside a transaction, and recorded in `herald_migrations`.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}
