import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHousekeeping } from '../../src/worker/housekeeping.js';
import { addUser, setUpOwner, signIn } from '../support/dashboard.js';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

/**
 * GET /v1/stats/messages and /v1/stats/queue through the public API: after sends, failures, a
 * retry, skips (at the run's advance and at delivery) and a cancel, the rollup's figures are the
 * delivery log's.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let h: TestHerald;
let receiverUrl: string;
let closeReceiver: () => Promise<void>;
/** Requests to /flaky so far: the first of each message is answered 503. */
const flakyCalls = new Map<string, number>();

beforeAll(async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      let status = 200;
      if (req.url === '/gone') status = 410;
      if (req.url === '/flaky') {
        const id = String(req.headers['webhook-id']);
        const calls = (flakyCalls.get(id) ?? 0) + 1;
        flakyCalls.set(id, calls);
        if (calls === 1) status = 503;
      }
      if (req.url === '/busy') status = 503;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeReceiver = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  h = await startTestHerald({
    'secret-key': 'stats-test-secret-key-0123456789abcdef',
    'allow-private-networks': '127.0.0.0/8',
    // A first retry at once, the next an hour later: /busy's job then waits in the queue.
    'retry-schedule': '50ms,1h',
  });
  const integration = await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' });
  expect(integration.status, integration.text).toBe(201);
});
afterAll(async () => {
  await h?.close();
  await closeReceiver?.();
});

async function putWorkflow(key: string, steps: Record<string, unknown>[]) {
  const res = await h.api('PUT', `/v1/workflows/${key}`, { steps });
  expect(res.status, res.text).toBe(200);
}

async function trigger(key: string, body: Record<string, unknown>): Promise<string[]> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, body);
  expect(res.status, res.text).toBe(202);
  return res.body.messageIds as string[];
}

const FINAL = ['sent', 'failed', 'skipped', 'canceled'];

async function settled(ids: string[]) {
  return waitFor(
    async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await h.api('GET', `/v1/messages/${id}`)).body.status));
      return statuses.every((s) => FINAL.includes(s)) && statuses;
    },
    { what: 'every message to settle', timeoutMs: 15_000 },
  );
}

/** COUNT(*) over the delivery log, by hour of the outcome, channel and status. */
async function countedFromLog(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let cursor: string | undefined;
  do {
    const res = await h.api('GET', `/v1/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    for (const m of res.body.items) {
      if (!FINAL.includes(m.status)) continue;
      const key = `${m.updatedAt - (m.updatedAt % HOUR)} ${m.channel} ${m.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    cursor = res.body.nextCursor ?? undefined;
  } while (cursor);
  return counts;
}

function pointsOf(body: any): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const series of body.series) {
    expect(series.total).toBe(series.points.reduce((sum: number, p: any) => sum + p.count, 0));
    for (const point of series.points) counts[`${point.at} ${series.channel} ${series.status}`] = point.count;
  }
  return counts;
}

describe('message stats', () => {
  it('counts sent, failed, skipped and canceled per channel as the delivery log has them', async () => {
    await putWorkflow('ok', [{ type: 'webhook', url: `${receiverUrl}/ok` }]);
    await putWorkflow('gone', [{ type: 'webhook', url: `${receiverUrl}/gone` }]);
    await putWorkflow('flaky', [{ type: 'webhook', url: `${receiverUrl}/flaky` }]);
    // The second step goes only when the first was sent: after a 410 it is skipped at the run's advance.
    await putWorkflow('chain', [
      { type: 'webhook', ref: 'first', url: `${receiverUrl}/gone` },
      { type: 'webhook', if: "steps.first.status == 'sent'", url: `${receiverUrl}/ok` },
    ]);
    await putWorkflow('mail', [{ type: 'email', subject: 'Hi', text: 'Hello' }]);
    await putWorkflow('later', [
      { type: 'delay', for: '1h' },
      { type: 'webhook', url: `${receiverUrl}/ok` },
    ]);

    const ids = [
      ...(await trigger('ok', { to: [{ subscriberId: 'a' }, { subscriberId: 'b' }, { subscriberId: 'c' }] })),
      ...(await trigger('gone', { to: [{ subscriberId: 'a' }, { subscriberId: 'b' }] })),
      ...(await trigger('flaky', { to: { subscriberId: 'a' } })),
      ...(await trigger('chain', { to: { subscriberId: 'c' } })),
      // No address: skipped at delivery.
      ...(await trigger('mail', { to: { subscriberId: 'noaddress' } })),
      ...(await trigger('mail', { to: { subscriberId: 'ann', email: 'ann@example.com' } })),
    ];
    const canceled = await trigger('later', {
      to: [{ subscriberId: 'a' }, { subscriberId: 'b' }],
      cancellationKey: 'k',
    });
    const cancel = await h.api('POST', '/v1/triggers/cancel', { cancellationKey: 'k' });
    expect(cancel.body).toMatchObject({ messages: 2 });
    await settled([...ids, ...canceled]);

    const log = await countedFromLog();
    const byHour = await h.api('GET', '/v1/stats/messages');
    expect(byHour.status, byHour.text).toBe(200);
    expect(byHour.body.bucket).toBe('hour');
    expect(pointsOf(byHour.body)).toEqual(log);

    const totals = Object.fromEntries(byHour.body.series.map((s: any) => [`${s.channel} ${s.status}`, s.total]));
    expect(totals).toEqual({
      'email sent': 1,
      'email skipped': 1,
      'webhook canceled': 2,
      'webhook failed': 3,
      'webhook sent': 4,
      'webhook skipped': 1,
    });
    expect(flakyCalls.size).toBe(1);

    // By day: the sum of the day's hours.
    const byDay = await h.api('GET', '/v1/stats/messages?bucket=day');
    expect(byDay.status, byDay.text).toBe(200);
    expect(byDay.body.since % DAY).toBe(0);
    for (const series of byDay.body.series) {
      expect(series.total).toBe(totals[`${series.channel} ${series.status}`]);
      for (const point of series.points) expect(point.at % DAY).toBe(0);
    }

    // A range before any of it holds nothing.
    const before = await h.api('GET', `/v1/stats/messages?since=${Date.now() - 3 * DAY}&until=${Date.now() - 2 * DAY}`);
    expect(before.body.series).toEqual([]);
  });

  it('refuses a range that ends before it starts, or one too long for its bucket, naming the fix', async () => {
    const now = Date.now();
    const backwards = await h.api('GET', `/v1/stats/messages?since=${now}&until=${now - HOUR}`);
    expectProblem(backwards, 400, 'INVALID_REQUEST');
    expect(backwards.body.detail).toMatch(/since .* must be before until/);
    const long = await h.api('GET', `/v1/stats/messages?since=${now - 60 * DAY}&until=${now}`);
    expectProblem(long, 400, 'INVALID_REQUEST');
    expect(long.body.detail).toMatch(/bucket=day/);
    expect((await h.api('GET', `/v1/stats/messages?since=${now - 60 * DAY}&until=${now}&bucket=day`)).status).toBe(200);
    expectProblem(await h.api('GET', '/v1/stats/messages?bucket=week'), 400);
    expectProblem(await h.api('GET', '/v1/stats/messages?until=99999999999999999999'), 400);
  });

  it('may be read by every role, viewers included (the dashboard reads them with a session)', async () => {
    const owner = await setUpOwner(h);
    const viewer = await addUser(owner, 'viewer@example.com', 'viewer');
    const session = await signIn(h, viewer);
    expect((await session.call('GET', '/v1/stats/messages')).status).toBe(200);
    expect((await session.call('GET', '/v1/stats/queue')).status).toBe(200);
  });

  it('answers the queue depth and the oldest due job, counting a job waiting for its retry', async () => {
    expect((await h.api('GET', '/v1/stats/queue')).body).toEqual({ depth: 0, oldestDueAgeMs: 0 });
    await h.api('PUT', '/v1/workflows/busy', { steps: [{ type: 'webhook', url: `${receiverUrl}/busy` }] });
    const [id] = await trigger('busy', { to: { subscriberId: 'z' } });
    await waitFor(async () => (await h.api('GET', `/v1/messages/${id}`)).body.attemptCount === 2, {
      what: 'two attempts, the next one an hour away',
    });
    const queue = await h.api('GET', '/v1/stats/queue');
    expect(queue.status, queue.text).toBe(200);
    expect(queue.body.depth).toBe(1);
    // Not due for an hour: nothing has waited.
    expect(queue.body.oldestDueAgeMs).toBe(0);
  });

  it("drops the rollup's hours with --retention, at housekeeping's pass", async () => {
    const all = () =>
      h.api('GET', `/v1/stats/messages?since=${Date.now() - 7 * DAY}&until=${Date.now() + HOUR}&bucket=day`);
    expect((await all()).body.series.length).toBeGreaterThan(0);
    // Three days on, with a day's retention: every hour counted so far is past it.
    const housekeeping = startHousekeeping(
      { store: h.herald.store, clock: { now: () => Date.now() + 3 * DAY }, logger: pino({ level: 'silent' }) },
      { idempotencyWindowMs: HOUR, retentionMs: DAY, firstPassMs: 0 },
    );
    try {
      await waitFor(async () => (await all()).body.series.length === 0, { what: 'the rollup to be pruned' });
    } finally {
      await housekeeping.stop();
    }
  });
});
