import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config/settings.js';
import { startFakeHttp } from '../support/fake-http.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A receiver that never answers must not hold the queue (issue 11, item 7): one destination holds
 * at most --destination-concurrency slots, webhook receivers have breakers of their own, and the
 * messages for healthy destinations flow meanwhile. Assertions are on order and status, not time.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An HTTP receiver on loopback: `hang` reads each request and never answers. */
async function receiver(hang: boolean): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(req.url ?? '/');
      if (!hang) res.end('ok');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** A Herald with four delivery slots, two per destination, that may reach loopback receivers. */
async function herald(settings: Record<string, string>): Promise<TestHerald> {
  const h = await startTestHerald({
    'secret-key': 'destination-limits-secret-key-0123456789',
    'allow-private-networks': '127.0.0.0/8',
    concurrency: '4',
    'destination-concurrency': '2',
    'shutdown-timeout': '0s', // hanging sends are cut at close, not waited for
    ...settings,
  });
  cleanups.push(() => h.close());
  const hooks = await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' });
  expect(hooks.status, hooks.text).toBe(201);
  const workflow = await h.api('PUT', '/v1/workflows/hook', { steps: [{ type: 'webhook', url: '{{ data.target }}' }] });
  expect(workflow.status, workflow.text).toBe(200);
  return h;
}

/** Triggers `count` messages of `workflow` in one trigger; answers their ids. */
async function trigger(h: TestHerald, workflow: string, count: number, data: Record<string, unknown>, to = 'p') {
  const res = await h.api('POST', `/v1/workflows/${workflow}/trigger`, {
    to: Array.from({ length: count }, (_, i) => ({ subscriberId: `${to}-${i}`, phone: `+1415555010${i}` })),
    data,
  });
  expect(res.status, res.text).toBe(202);
  return res.body.messageIds as string[];
}

async function messages(h: TestHerald, ids: string[]): Promise<any[]> {
  return Promise.all(ids.map(async (id) => (await h.api('GET', `/v1/messages/${id}`)).body));
}

const WAITING = /^waiting for .*: 2 sends in flight there \(--destination-concurrency 2\)/;

describe('a webhook receiver that never answers', () => {
  it('holds at most its share of the slots: every healthy message is delivered while its messages wait', async () => {
    const hanging = await receiver(true);
    const healthy = await receiver(false);
    // A send timeout far longer than the test: nothing sent to the hanging receiver ever ends.
    const h = await herald({ 'send-timeout': '10m' });

    // The hanging receiver's messages come first in the queue.
    const stuck = await trigger(h, 'hook', 6, { target: `${hanging.url}/in` }, 'stuck');
    const flowing = await trigger(h, 'hook', 6, { target: `${healthy.url}/in` }, 'flowing');

    await waitFor(
      async () => {
        const done = await messages(h, flowing);
        const waiting = await messages(h, stuck);
        return (
          done.every((m) => m.status === 'sent') && waiting.filter((m) => WAITING.test(m.reason ?? '')).length === 4
        );
      },
      { timeoutMs: 20_000, what: 'the healthy messages to be sent while four stuck ones wait' },
    );
    expect(healthy.requests).toHaveLength(6);
    // Two sends hold the hanging receiver's share; the other four were put back, never sent.
    expect(hanging.requests).toHaveLength(2);
    const stuckNow = await messages(h, stuck);
    expect(stuckNow.filter((m) => m.status === 'sent' || m.status === 'failed')).toEqual([]);
    for (const message of stuckNow.filter((m) => WAITING.test(m.reason ?? ''))) {
      expect(message).toMatchObject({ attemptCount: 0, attempts: [] });
      expect(message.reason).toContain(new URL(hanging.url).origin);
    }
  });

  it('opens its own breaker: its messages are refused without a request, the others flow', async () => {
    const hanging = await receiver(true);
    const healthy = await receiver(false);
    const h = await herald({
      'send-timeout': '300ms',
      'breaker-threshold': '2',
      'breaker-cooldown': '10m',
      'retry-schedule': '50ms,50ms,50ms',
    });

    const stuck = await trigger(h, 'hook', 6, { target: `${hanging.url}/in` }, 'stuck');
    const flowing = await trigger(h, 'hook', 6, { target: `${healthy.url}/in` }, 'flowing');

    const final = await waitFor(
      async () => {
        const all = await messages(h, [...stuck, ...flowing]);
        return all.every((m) => m.status === 'sent' || m.status === 'failed') ? all : undefined;
      },
      { timeoutMs: 20_000, what: 'every message to end' },
    );
    const [stuckNow, flowingNow] = [final.slice(0, 6), final.slice(6)];
    expect(flowingNow.map((m) => m.status)).toEqual(Array(6).fill('sent'));
    expect(stuckNow.map((m) => m.status)).toEqual(Array(6).fill('failed'));
    for (const message of stuckNow) expect(message.reason).toMatch(/circuit open/);
    // Fewer requests than messages: once open, the breaker refuses without calling the receiver
    // (without one, each of the six would have been tried four times).
    expect(hanging.requests.length).toBeLessThan(6);
    expect(stuckNow.filter((m) => m.attemptCount === 0).length).toBeGreaterThan(0);
  });
});

describe('a provider that never answers', () => {
  it('holds at most its share of the slots while another channel delivers', async () => {
    const sms = await startFakeHttp(() => ({ status: 201, body: { sid: 'SM1', status: 'queued' } }));
    cleanups.push(() => sms.close());
    sms.setFault('no-answer');
    const healthy = await receiver(false);
    const h = await herald({ 'send-timeout': '10m' });
    const saved = await h.api('PUT', '/v1/integrations/sms-hang', {
      channel: 'sms',
      provider: 'twilio',
      config: { accountSid: `AC${'0'.repeat(32)}`, authToken: 'token', from: '+15005550006', baseUrl: sms.url },
    });
    expect(saved.status, saved.text).toBe(201);
    await h.api('PUT', '/v1/workflows/code', { steps: [{ type: 'sms', text: 'Your code' }] });

    const stuck = await trigger(h, 'code', 6, {}, 'sms');
    const flowing = await trigger(h, 'hook', 6, { target: `${healthy.url}/in` }, 'flowing');

    await waitFor(
      async () => {
        const done = await messages(h, flowing);
        const waiting = await messages(h, stuck);
        return (
          done.every((m) => m.status === 'sent') && waiting.filter((m) => WAITING.test(m.reason ?? '')).length === 4
        );
      },
      { timeoutMs: 20_000, what: 'the webhooks to be sent while four SMS wait' },
    );
    expect(sms.requests).toHaveLength(2);
    const stuckNow = await messages(h, stuck);
    expect(stuckNow.filter((m) => m.status === 'sent' || m.status === 'failed')).toEqual([]);
    expect(stuckNow.filter((m) => WAITING.test(m.reason ?? ''))[0].reason).toMatch(/^waiting for sms-hang:/);
  });
});

describe('--destination-concurrency', () => {
  it('is half of --concurrency unless set, and a whole number from 1', () => {
    expect(resolveConfig({}, {}).destinationConcurrency).toBe(16);
    expect(resolveConfig({ concurrency: '5' }, {}).destinationConcurrency).toBe(3);
    expect(resolveConfig({ concurrency: '1' }, {}).destinationConcurrency).toBe(1);
    expect(resolveConfig({}, { HERALD_DESTINATION_CONCURRENCY: '4' }).destinationConcurrency).toBe(4);
    expect(() => resolveConfig({ 'destination-concurrency': '0' }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ 'destination-concurrency': 'many' }, {})).toThrow(/--destination-concurrency/);
  });
});
