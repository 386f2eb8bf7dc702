import type { Database } from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './schema.js';

/** Applies pending migrations in order; safe to call on every start. Returns the ids applied. */
export function migrateSqlite(db: Database): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS herald_migrations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied: number[] = [];
  // IMMEDIATE takes the write lock first, so two processes starting at once cannot both apply one.
  const apply = db.transaction(() => {
    const done = new Set(
      (db.prepare('SELECT id FROM herald_migrations').all() as { id: number }[]).map((row) => row.id),
    );
    for (const migration of SQLITE_MIGRATIONS) {
      if (done.has(migration.id)) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO herald_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
        migration.id,
        migration.name,
        Date.now(),
      );
      applied.push(migration.id);
    }
  });
  apply.immediate();
  return applied;
}

/**
 * True when every known migration has been applied (what /readyz checks). A schema a newer Herald
 * has migrated further counts as current: migrations only add, so processes of the previous
 * version keep working during a rolling upgrade.
 */
export function sqliteSchemaIsCurrent(db: Database): boolean {
  const row = db.prepare('SELECT MAX(id) AS id FROM herald_migrations').get() as { id: number | null };
  return (row.id ?? 0) >= SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.id;
}
