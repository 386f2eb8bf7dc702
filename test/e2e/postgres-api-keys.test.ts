import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { dropSchemas, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

// Two API processes on one PostgreSQL schema: a key revoked through one stops working there at
// once, and in the other when its key cache lapses (10 s by default; 500 ms here).
const schema = testSchema();
const shared = {
  database: testDatabaseUrl(schema),
  role: 'api',
  'secret-key': 'postgres-api-keys-secret-key-0123456789abcdef',
};
const CACHE_TTL_MS = 500;

let first: TestHerald;
let second: TestHerald;
beforeAll(async () => {
  first = await startTestHerald(shared, { auth: { cacheTtlMs: CACHE_TTL_MS } });
  second = await startTestHerald(shared, { auth: { cacheTtlMs: CACHE_TTL_MS } });
});
afterAll(async () => {
  await second?.close();
  await first?.close();
  await dropSchemas(schema);
});

it('a key revoked through one process is refused there at once and by the other within its cache lifetime', async () => {
  const created = await first.api('POST', '/v1/api-keys', { name: 'shared' });
  expect(created.status).toBe(201);
  const auth = { authorization: `Bearer ${created.body.key}` };
  // Both processes have seen (and cached) the key.
  expect((await call(first.url + '/v1/workflows', 'GET', undefined, auth)).status).toBe(200);
  expect((await call(second.url + '/v1/workflows', 'GET', undefined, auth)).status).toBe(200);
  expect((await second.api('GET', '/v1/api-keys')).body.items.map((key: { id: string }) => key.id)).toContain(
    created.body.id,
  );

  expect((await first.api('DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(204);
  expectProblem(await call(first.url + '/v1/workflows', 'GET', undefined, auth), 401, 'UNAUTHORIZED');
  await waitFor(async () => (await call(second.url + '/v1/workflows', 'GET', undefined, auth)).status === 401, {
    what: 'the other process to refuse the revoked key',
  });
});

it('a worker process, which serves no API, keeps no dev API key', async () => {
  const worker = await startTestHerald({ ...shared, role: 'worker', 'api-key': '' });
  try {
    expect(worker.herald.apiKey).toEqual({ kind: 'none' });
    expect(existsSync(join(worker.dir, 'api-key'))).toBe(false);
  } finally {
    await worker.close();
  }
});
