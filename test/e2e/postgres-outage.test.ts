import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { dropSchemas, TEST_DATABASE_URL, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

// PostgreSQL goes away and comes back. Herald reaches it through a TCP proxy the test can take
// down: every connection is cut and new ones are refused, as when the server stops or restarts.
const schema = testSchema();
const server = new URL(TEST_DATABASE_URL);
let proxy: TcpProxy;
let sink: SmtpSink;
let h: TestHerald;

beforeAll(async () => {
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  // Each email is held a little, so the outage lands while sends are in flight.
  sink = await startSmtpSink({ holdMs: () => 200 });
  const viaProxy = new URL(TEST_DATABASE_URL);
  viaProxy.port = String(proxy.port);
  viaProxy.searchParams.set('schema', schema);
  h = await startTestHerald({
    database: viaProxy.toString(),
    'smtp-url': sink.url,
    'retry-schedule': '200ms,500ms,1s,2s,5s',
  });
  expect(
    (await h.api('PUT', '/v1/workflows/outage', { steps: [{ type: 'email', subject: 'Hi', text: 'x' }] })).status,
  ).toBe(200);
});

afterAll(async () => {
  await proxy?.up().catch(() => undefined);
  await h?.close();
  await sink?.close();
  await proxy?.close();
  await dropSchemas(schema);
});

function trigger(prefix: string, count: number) {
  const to = Array.from({ length: count }, (_, i) => ({
    subscriberId: `${prefix}${i}`,
    email: `${prefix}${i}@example.com`,
  }));
  return h.api('POST', '/v1/workflows/outage/trigger', { to });
}

it('answers 503 with Retry-After while the database is down, and loses nothing accepted before', async () => {
  const before = await trigger('before-', 20);
  expect(before.status).toBe(202);
  // The outage starts while those 20 are being delivered.
  await waitFor(() => sink.received.length >= 2, { what: 'the first deliveries' });
  await proxy.down();

  for (const [method, path, body] of [
    ['POST', '/v1/workflows/outage/trigger', { to: { subscriberId: 'during-0' } }],
    ['GET', '/v1/messages'],
    ['GET', `/v1/messages/${before.body.messageIds[0]}`],
    ['PUT', '/v1/subscribers/during-1', { email: 'd1@example.com' }],
  ] as const) {
    const res = await h.api(method, path, body);
    expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
    expect(res.headers.get('retry-after'), `${method} ${path}`).toBe('1');
  }
  const ready = await h.api('GET', '/readyz');
  expectProblem(ready, 503, 'SERVICE_UNAVAILABLE');
  expect((await h.api('GET', '/healthz')).status).toBe(200); // the process itself is fine

  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await proxy.up();

  // Back by itself: ready again, accepting again, and every message accepted before is delivered.
  await waitFor(async () => (await h.api('GET', '/readyz')).status === 200, { what: '/readyz 200 again' });
  const after = await waitFor(
    async () => {
      const res = await trigger('after-', 5);
      return res.status === 202 ? res : undefined;
    },
    { what: 'a trigger accepted again' },
  );
  const accepted = [...before.body.messageIds, ...after.body.messageIds] as string[];
  await waitFor(() => accepted.every((id) => sink.received.some((mail) => mail.heraldMessageId === id)), {
    timeoutMs: 30_000,
    what: 'every accepted message at the sink',
  });
  const log = await waitFor(async () => {
    const page = await h.api('GET', '/v1/messages?status=sent&limit=100');
    return page.body.items.length === accepted.length ? page.body.items : undefined;
  });
  expect(new Set(log.map((m: { id: string }) => m.id))).toEqual(new Set(accepted));
  // The trigger refused with 503 was not committed: nothing for that subscriber.
  expect((await h.api('GET', '/v1/messages?subscriberId=during-0')).body.items).toEqual([]);
});
