import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The test suite runs twice: on SQLite (always) and on PostgreSQL (`HERALD_TEST_STORE=postgres`,
 * set by the `postgres` project in vitest.config.ts). On PostgreSQL every Herald a test starts gets
 * a schema of its own, named after this run so the global teardown can drop what a test left.
 */
export const TEST_DATABASE_URL = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ON_POSTGRES = process.env.HERALD_TEST_STORE === 'postgres';
const RUN = process.env.HERALD_TEST_RUN ?? 'local';

/** A schema name no other test of this run uses; `seed` makes it repeatable (one data dir → one schema). */
export function testSchema(seed?: string): string {
  const tail = seed === undefined ? randomBytes(5).toString('hex') : createHash('sha1').update(seed).digest('hex');
  return `herald_t_${RUN}_${tail.slice(0, 10)}`;
}

/** The `--database` value of a Herald on that schema. */
export function testDatabaseUrl(schema: string): string {
  return `${TEST_DATABASE_URL}?schema=${schema}`;
}

export async function dropSchemas(pattern: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
      [pattern],
    );
    for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Every schema this run's tests created (the global teardown). */
export function dropRunSchemas(): Promise<void> {
  return dropSchemas(`herald\\_t\\_${RUN}\\_%`);
}
