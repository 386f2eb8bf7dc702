import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { subscriberHash } from '../../src/core/inbox-credentials.js';
import { spawnHerald } from '../support/child-herald.js';
import { call, startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';
import { deliverInApp, inboxClient } from '../support/inbox.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { dropSchemas, testDatabaseUrl, testSchema } from '../support/test-database.js';

// Realtime across processes: a worker process writes the item, and browsers connected to any API
// process hear of it through PostgreSQL NOTIFY. Each Herald here has its own pool and listener.
const schema = testSchema();
// Split roles need the same secret key on every process (the inbox secret is sealed with it).
const shared = { database: testDatabaseUrl(schema), 'secret-key': 'postgres-inbox-secret-key-0123456789abcdef' };

let first: TestHerald;
let second: TestHerald;
let worker: TestHerald;
const streams: SseClient[] = [];

beforeAll(async () => {
  first = await startTestHerald({ ...shared, role: 'api' });
  second = await startTestHerald({ ...shared, role: 'api' });
  worker = await startTestHerald({ ...shared, role: 'worker' });
  await first.api('PUT', '/v1/workflows/note', { steps: [{ type: 'in_app', body: 'Note {{ data.n }}' }] });
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await worker?.close();
  await second?.close();
  await first?.close();
  await dropSchemas(schema);
});

async function stream(
  h: Pick<TestHerald, 'url'>,
  subscriberId: string,
  hash: string,
  headers: Record<string, string> = {},
) {
  const client = await openSse(
    `${h.url}/v1/inbox/stream?${new URLSearchParams({ subscriberId, subscriberHash: hash })}`,
    headers,
  );
  streams.push(client);
  await client.waitFor(1, 'counts');
  return client;
}

it('delivers an item written by a worker process to streams on every API process', async () => {
  const sub = await inboxClient(first, 'cross-process');
  const onFirst = await stream(first, sub.subscriberId, sub.hash);
  const onSecond = await stream(second, sub.subscriberId, sub.hash);

  const triggered = Date.now();
  const res = await second.api('POST', '/v1/workflows/note/trigger', {
    to: { subscriberId: sub.subscriberId },
    data: { n: 1 },
  });
  expect(res.status).toBe(202);
  const id = res.body.messageIds[0];
  for (const client of [onFirst, onSecond]) {
    const [created] = await client.waitFor(1, 'item.created');
    expect(created).toMatchObject({ id: '1', data: { item: { id, body: 'Note 1' } } });
  }
  // For the record, not asserted (timing belongs to bench/): trigger → event on both API processes.
  console.info(`cross-process inbox event after ${Date.now() - triggered} ms`);

  // A change made through one API process reaches the stream on the other.
  const read = await sub.call('POST', `/v1/inbox/items/${id}/read`);
  expect(read.status).toBe(200);
  const [updated] = await onSecond.waitFor(1, 'item.updated');
  expect(updated).toMatchObject({ id: '2', data: { item: { id, readAt: expect.any(Number) } } });
});

it('resumes on another API process from the Last-Event-ID the first one gave', async () => {
  const sub = await inboxClient(first, 'switches-process');
  const onFirst = await stream(first, sub.subscriberId, sub.hash);
  await deliverInApp(first, 'note', sub.subscriberId, { n: 1 });
  await onFirst.waitFor(1, 'item.created');
  onFirst.close();
  const missed = [
    await deliverInApp(first, 'note', sub.subscriberId, { n: 2 }),
    await deliverInApp(first, 'note', sub.subscriberId, { n: 3 }),
  ];
  const onSecond = await stream(second, sub.subscriberId, sub.hash, { 'last-event-id': '1' });
  const replayed = await onSecond.waitFor(2, 'item.created');
  expect(replayed.map((event) => [event.id, event.data.item.id])).toEqual([
    ['2', missed[0]],
    ['3', missed[1]],
  ]);
});

it('catches up a stream whose process missed notifications while its listener reconnected', async () => {
  const sub = await inboxClient(first, 'missed-notify');
  const onFirst = await stream(first, sub.subscriberId, sub.hash);
  // Cut every LISTEN connection of this schema: notifications sent until they reconnect are lost.
  const admin = new pg.Client({ connectionString: testDatabaseUrl(schema).replace(/\?.*$/, '') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
      [`LISTEN "herald_%_${schema}"`],
    );
    expect(rowCount).toBeGreaterThan(0);
  } finally {
    await admin.end();
  }
  const id = await deliverInApp(first, 'note', sub.subscriberId, { n: 1 });
  // No later event arrives to reveal the gap: the reconnect itself makes the stream look.
  const [created] = await onFirst.waitFor(1, 'item.created');
  expect(created).toMatchObject({ id: '1', data: { item: { id } } });
});

it('ends the streams every process holds when any process rotates the secret', async () => {
  // A separate OS process (the built CLI) on the same database: it hears of the rotation only
  // through PostgreSQL.
  const dir = mkdtempSync(join(tmpdir(), 'herald-rotation-'));
  const child = await spawnHerald(
    ['--database', testDatabaseUrl(schema), '--role', 'api', '--data-dir', dir, '--api-key', TEST_API_KEY],
    { HERALD_LOG_LEVEL: 'warn', HERALD_SECRET_KEY: shared['secret-key'] },
  );
  try {
    const sub = await inboxClient(first, 'rotated-elsewhere');
    const onChild = await stream(child, sub.subscriberId, sub.hash);
    const onSecond = await stream(second, sub.subscriberId, sub.hash);

    const rotated = await first.api('POST', '/v1/inbox/settings/rotate-secret');
    expect(rotated.status).toBe(200);
    for (const client of [onChild, onSecond]) {
      await client.waitForEnd();
      expect(client.events.at(-1)).toMatchObject({ event: 'closed', data: { reason: 'revoked' } });
    }
    // The process forgot the old secret before it ended the streams: the old hash is refused at once.
    const old = await call(`${child.url}/v1/inbox/counts`, 'GET', undefined, sub.headers);
    expect(old.status).toBe(401);
    const renewed = subscriberHash(rotated.body.secret, sub.subscriberId);
    const reopened = await stream(child, sub.subscriberId, renewed);
    expect(reopened.status).toBe(200);
  } finally {
    child.process.kill('SIGTERM');
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
