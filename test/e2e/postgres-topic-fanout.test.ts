import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { dropSchemas, TEST_DATABASE_URL, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { startWebhookCounter, type WebhookCounter } from '../support/webhook-counter.js';

// Topic fan-out across processes on one PostgreSQL schema: two Herald processes share a fan-out's
// pages (each page taken by whichever claims the fan-out's timer), both are killed (SIGKILL) in the
// middle of it, and two new ones finish it: every member is reached by exactly one message.
//
// The subscribers are created through the store before Herald starts (the API has no bulk route);
// the members are added, and the fan-out triggered, through the API.

const MEMBERS = 30_000;
const API_KEY = 'hk_pg_topic_fanout_0123456789abcdef';
const auth = { authorization: `Bearer ${API_KEY}` };
const schema = testSchema();
const member = (i: number) => `p${String(i).padStart(6, '0')}`;

let dir: string;
let sink: WebhookCounter;
const children: ChildHerald[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-pg-fanout-'));
  sink = await startWebhookCounter();
  const store = await createPostgresStore({ connectionString: TEST_DATABASE_URL, schema });
  try {
    const env = await store.defaultEnvironmentId();
    for (let i = 0; i < MEMBERS; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => store.putSubscriber(env, member(i + j), {}, 0)));
    }
  } finally {
    await store.close();
  }
}, 60_000);

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }
  await sink?.close();
  await dropSchemas(schema);
  rmSync(dir, { recursive: true, force: true });
});

function spawnTwo(): Promise<ChildHerald[]> {
  const env = {
    HERALD_API_KEY: API_KEY,
    HERALD_SECRET_KEY: 'pg-topic-fanout-secret-key-0123456789abcdef',
    HERALD_DATABASE: testDatabaseUrl(schema),
  };
  // A short lease: the new processes take over the fan-out the dead ones held, soon.
  const args = ['--data-dir', dir, '--job-lease', '2s', '--allow-private-networks', '127.0.0.1/32'];
  return Promise.all(
    [0, 1].map(async () => {
      const child = await spawnHerald(args, env);
      children.push(child);
      return child;
    }),
  );
}

async function api(child: ChildHerald, method: string, path: string, body?: unknown) {
  const res = await call(child.url + path, method, body, auth);
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  return res.body;
}

const fanoutOf = async (child: ChildHerald, triggerId: string) =>
  (await api(child, 'GET', `/v1/triggers/${triggerId}?limit=1`)).fanout as { state: string; recipients: number };

it('reaches each member once when the processes sharing a fan-out are killed', { timeout: 120_000 }, async () => {
  let [first, second] = await spawnTwo();
  await api(first!, 'PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' });
  await api(first!, 'PUT', '/v1/workflows/announce', {
    steps: [{ type: 'webhook', url: `${sink.url}/hook/{{ subscriber.subscriberId }}` }],
  });
  for (let i = 0; i < MEMBERS; i += 10_000) {
    const subscriberIds = Array.from({ length: 10_000 }, (_, j) => member(i + j));
    // Half the calls to each process: membership is the database's, not a process's.
    const added = await api(i % 20_000 === 0 ? first! : second!, 'POST', '/v1/topics/everyone/subscribers', {
      subscriberIds,
    });
    expect(added.added).toBe(10_000);
  }
  // Direct recipients too, some of them members: each is reached once.
  const { triggerId } = await api(second!, 'POST', '/v1/workflows/announce/trigger', {
    to: [{ topic: 'everyone' }, member(7), member(29_999)],
    actor: member(12_345),
  });

  const before = await waitFor(
    async () => {
      const fanout = await fanoutOf(first!, triggerId);
      return fanout.recipients >= 6_000 ? fanout : undefined;
    },
    { timeoutMs: 60_000, what: '6,000 members reached' },
  );
  for (const child of [first!, second!]) child.process.kill('SIGKILL');
  expect(await Promise.all([first!.exited, second!.exited])).toEqual(['SIGKILL', 'SIGKILL']);
  expect(before.state).toBe('running');

  [first, second] = await spawnTwo();
  const after = await waitFor(
    async () => {
      const fanout = await fanoutOf(second!, triggerId);
      return fanout.state === 'done' ? fanout : undefined;
    },
    { timeoutMs: 60_000, what: 'the fan-out to end' },
  );
  // Everyone but the actor.
  expect(after.recipients).toBe(MEMBERS - 1);
  await waitFor(() => sink.bySubscriber.size >= MEMBERS - 1, { timeoutMs: 90_000, what: 'every member reached' });

  // Exactly one message each: a message sent again after the kill has the same id (at-least-once).
  expect([...sink.bySubscriber].filter(([, ids]) => ids.size !== 1).map(([id]) => id)).toEqual([]);
  const expected = Array.from({ length: MEMBERS }, (_, i) => member(i)).filter((id) => id !== member(12_345));
  expect(expected.filter((id) => !sink.bySubscriber.has(id))).toEqual([]);
  expect(sink.bySubscriber.has(member(12_345))).toBe(false);
  expect(sink.bySubscriber.size).toBe(MEMBERS - 1);
});
