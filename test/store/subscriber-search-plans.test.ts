import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubscriberSearch } from '../../src/core/subscriber-search.js';
import { migrateDatabase } from '../../src/store/open-store.js';
import { listSubscribersQuery as postgresQuery } from '../../src/store/postgres/subscribers.js';
import { listSubscribersQuery as sqliteQuery } from '../../src/store/sqlite/subscribers.js';
import { TEST_DATABASE_URL, testDatabaseUrl, testSchema } from '../support/test-database.js';

// GET /v1/subscribers walks an index from the search's range, in the order it answers: no scan of
// the environment and no sort, so a page costs the same at any size. The plans of the SQL each
// store runs (its own listSubscribersQuery), on freshly migrated databases. PostgreSQL's planner
// would scan so small a table: sequential scans are turned off to see which index it can use.

const SEARCHES: [string, SubscriberSearch, string][] = [
  ['every subscriber', { limit: 50, by: 'id', prefix: '' }, 'id'],
  ['by id prefix, next page', { limit: 50, by: 'id', prefix: 'ann', after: { key: 'ann1', id: 'ann1' } }, 'id'],
  ['by email prefix', { limit: 50, by: 'email', prefix: 'ann@' }, 'email'],
  ['by email prefix, next page', { limit: 50, by: 'email', prefix: 'ann', after: { key: 'ann@x', id: 'a' } }, 'email'],
];

describe('subscriber lists walk an index, in order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-plans-'));
  const schema = testSchema();
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let sqlite: BetterSqlite3.Database;

  beforeAll(async () => {
    await migrateDatabase({ database: join(dir, 'herald.db'), dataDir: dir });
    await migrateDatabase({ database: testDatabaseUrl(schema), dataDir: dir });
    sqlite = new BetterSqlite3(join(dir, 'herald.db'), { readonly: true });
    await client.connect();
    await client.query(`SET search_path TO ${schema}; SET enable_seqscan = off`);
  });
  afterAll(async () => {
    sqlite?.close();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, search, by] of SEARCHES) {
    it(`SQLite: ${name}`, () => {
      const { sql, params } = sqliteQuery('env_development', search);
      const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[])
        .map((row) => row.detail)
        .join('\n');
      expect(plan).toMatch(
        by === 'id' ? /SEARCH subscribers USING PRIMARY KEY/ : /SEARCH subscribers USING INDEX subscribers_by_email/,
      );
      expect(plan).not.toMatch(/TEMP B-TREE|SCAN/);
    });

    it(`PostgreSQL: ${name}`, async () => {
      const { sql, params } = postgresQuery('env_development', search);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toMatch(new RegExp(`Index Scan using subscribers_by_${by} on subscribers`));
      expect(plan).not.toMatch(/Sort|Seq Scan/);
    });
  }
});
