import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { TEST_DATABASE_URL } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

// The server is up but the database refuses connections (SQLSTATE 55000), as during maintenance:
// `ALTER DATABASE … ALLOW_CONNECTIONS false` and its sessions ended. That is an outage, not a bug.
const database = `herald_t_${process.env.HERALD_TEST_RUN ?? 'local'}_refuse_${randomBytes(4).toString('hex')}`;
let admin: pg.Client;
let h: TestHerald;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  h = await startTestHerald({ database: url.toString() });
  await h.api('PUT', '/v1/workflows/w', { steps: [{ type: 'email', subject: 'Hi', text: 'x' }] });
  await h.api('PUT', '/v1/subscribers/ann', { email: 'ann@example.com' });
});

afterAll(async () => {
  await admin?.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`).catch(() => undefined);
  await h?.close();
  await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin?.end();
});

const refuse = async (refused: boolean) => {
  await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS ${!refused}`);
  if (refused) {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database]);
  }
};

it('answers 503 with Retry-After while the database refuses connections, and recovers by itself', async () => {
  expect((await h.api('POST', '/v1/workflows/w/trigger', { to: 'ann' })).status).toBe(202);
  await refuse(true);

  for (const [method, path, body] of [
    ['POST', '/v1/workflows/w/trigger', { to: 'ann' }],
    ['GET', '/v1/messages'],
    ['GET', '/v1/subscribers/ann'],
    ['PUT', '/v1/subscribers/bob', { email: 'bob@example.com' }],
    ['GET', '/v1/workflows'],
  ] as const) {
    const res = await h.api(method, path, body);
    expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
    expect(res.headers.get('retry-after'), `${method} ${path}`).toBe('1');
  }
  expectProblem(await h.api('GET', '/readyz'), 503, 'SERVICE_UNAVAILABLE');
  expect((await h.api('GET', '/healthz')).status).toBe(200);
  // Nothing was let in: the database still has no session from Herald.
  const sessions = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database]);
  expect(sessions.rows[0].n).toBe(0);

  await refuse(false);
  await waitFor(async () => (await h.api('GET', '/readyz')).status === 200, { what: '/readyz 200 again' });
  const after = await h.api('POST', '/v1/workflows/w/trigger', { to: 'ann' });
  expect(after.status).toBe(202);
  await waitFor(async () => (await h.api('GET', `/v1/messages/${after.body.messageIds[0]}`)).body.status === 'sent', {
    what: 'the trigger accepted after the outage to be delivered',
  });
  expect((await h.api('GET', '/v1/subscribers/bob')).status).toBe(404);
});
