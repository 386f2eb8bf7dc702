import type pg from 'pg';
import { inTransaction } from './connection.js';
import { POSTGRES_MIGRATIONS } from './schema.js';

/**
 * Any constant will do, as long as every Herald process uses the same one: it names the lock that
 * serialises migrations across all processes on this database ("HERALD" in ASCII).
 */
const MIGRATION_LOCK = 0x48455241_4c44;

/**
 * Applies pending migrations in order, in one transaction under a transaction-scoped advisory lock,
 * so that many processes starting at once apply each migration exactly once (the others wait, then
 * find nothing left to do). Safe to call on every start. Creates `schema` first when given.
 * Returns the ids applied.
 */
export function migratePostgres(pool: pg.Pool, schema?: string): Promise<number[]> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // Under the lock: two concurrent CREATE … IF NOT EXISTS can still collide on the catalog.
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS herald_migrations (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const done = new Set(
      (await client.query<{ id: number }>('SELECT id FROM herald_migrations')).rows.map((row) => row.id),
    );
    const applied: number[] = [];
    for (const migration of POSTGRES_MIGRATIONS) {
      if (done.has(migration.id)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO herald_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
        migration.id,
        migration.name,
        Date.now(),
      ]);
      applied.push(migration.id);
    }
    return applied;
  });
}

/**
 * True when every known migration has been applied (what /readyz checks). A schema a newer Herald
 * has migrated further counts as current: migrations only add, so processes of the previous
 * version keep working during a rolling upgrade.
 */
export async function postgresSchemaIsCurrent(pool: pg.Pool): Promise<boolean> {
  const result = await pool.query<{ id: number | null }>('SELECT MAX(id) AS id FROM herald_migrations');
  return (result.rows[0]?.id ?? 0) >= POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.id;
}
