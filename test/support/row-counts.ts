import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { TestHerald } from './herald.js';
import { TEST_DATABASE_URL } from './test-database.js';

/**
 * How many rows each of a test Herald's tables holds, read from the database itself (SQLite: its
 * file, read-only beside the running Herald; PostgreSQL: its schema): what a call that must write
 * nothing is held to.
 */
export async function rowCounts(h: TestHerald): Promise<Record<string, number>> {
  if (h.schema === undefined) {
    const db = new BetterSqlite3(join(h.dir, 'herald.db'), { readonly: true });
    try {
      const tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
        .pluck()
        .all() as string[];
      return Object.fromEntries(
        tables.map((table) => [table, db.prepare(`SELECT COUNT(*) FROM "${table}"`).pluck().get() as number]),
      );
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [h.schema],
    );
    const counts: Record<string, number> = {};
    for (const { name } of rows) {
      const result = await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${h.schema}"."${name}"`);
      counts[name] = Number(result.rows[0]!.n);
    }
    return counts;
  } finally {
    await client.end();
  }
}
