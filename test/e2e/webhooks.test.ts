import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The webhook step through the public API only: a real Herald POSTs to a real loopback receiver,
 * and every signature is checked with the official Standard Webhooks library, with the secret the
 * API handed out.
 */

const SECRET_KEY = 'webhook-test-secret-key-0123456789abcdef';
/** Four retries 50 ms apart: a retried message ends (sent or failed) within a second. */
const RETRY_SCHEDULE = '50ms,50ms,50ms,50ms';
const METADATA_URL = 'http://169.254.169.254/latest/meta-data/';

interface Delivery {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** `hang`: never answer (the sender's timeout ends it); `reset`: drop the connection unanswered. */
type Reply = Answer | 'hang' | 'reset';

interface Receiver {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Every request that reached the receiver, in order of arrival. */
  deliveries: Delivery[];
  close(): Promise<void>;
}

/** A loopback HTTP receiver; `answer` decides each reply from the request and how many came before (0-based). */
async function startReceiver(
  answer: (delivery: Delivery, index: number) => Reply = () => ({ status: 200 }),
): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const delivery = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = deliveries.push(delivery) - 1;
      const reply = answer(delivery, index);
      if (reply === 'hang') return;
      if (reply === 'reset') return req.socket.destroy();
      const { status, headers = {}, body = 'ok' } = reply;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(answer?: (delivery: Delivery, index: number) => Reply): Promise<Receiver> {
  const started = await startReceiver(answer);
  cleanups.push(() => started.close());
  return started;
}

/** A Herald that may reach loopback receivers (unless `settings` say otherwise). */
async function herald(settings: Record<string, string> = {}): Promise<TestHerald> {
  const h = await startTestHerald({
    'secret-key': SECRET_KEY,
    'allow-private-networks': '127.0.0.0/8',
    'retry-schedule': RETRY_SCHEDULE,
    ...settings,
  });
  cleanups.push(() => h.close());
  return h;
}

/** Creates the environment's webhook integration; returns the generated secret from the create answer. */
async function webhookIntegration(h: TestHerald, config?: Record<string, unknown>): Promise<string | undefined> {
  const res = await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook', config });
  expect(res.status, res.text).toBe(201);
  return res.body.secret as string | undefined;
}

async function putWorkflow(h: TestHerald, key: string, step: Record<string, unknown>): Promise<void> {
  const res = await h.api('PUT', `/v1/workflows/${key}`, { steps: [{ type: 'webhook', ...step }] });
  expect(res.status, res.text).toBe(200);
}

async function trigger(
  h: TestHerald,
  key: string,
  body: Record<string, unknown>,
): Promise<{ triggerId: string; messageIds: string[] }> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, body);
  expect(res.status, res.text).toBe(202);
  return res.body;
}

const FINAL = ['sent', 'failed', 'skipped'];

/** Waits until the message is final (sent, failed or skipped) and returns it with its attempts. */
async function finalMessage(h: TestHerald, id: string): Promise<any> {
  return waitFor(
    async () => {
      const res = await h.api('GET', `/v1/messages/${id}`);
      return FINAL.includes(res.body.status) ? res.body : undefined;
    },
    { what: `message ${id} to be final` },
  );
}

/** Verifies a delivery with the official library; returns the parsed body or throws. */
function verify(secret: string, delivery: Pick<Delivery, 'headers' | 'body'>): unknown {
  return new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
}

function signatures(delivery: Delivery): string[] {
  return String(delivery.headers['webhook-signature']).split(' ');
}

describe('webhook step: signing', () => {
  it('POSTs the default body, signed so the standardwebhooks library verifies it with the secret from the create answer', async () => {
    const r = await receiver();
    const h = await herald();
    const secret = await webhookIntegration(h);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    // Shown once: later answers mask it.
    const got = await h.api('GET', '/v1/integrations/hooks');
    expect(got.body.secret).toBeUndefined();
    expect(got.text).not.toContain(secret!.slice(6));

    await putWorkflow(h, 'order-paid', { url: `${r.url}/hooks/orders` });
    const data = {
      order: { id: 'ord_1', total: 12.5, items: ['tea', 'cake'] },
      note: 'Grüße 🎉 "quoted" <b>',
      paid: true,
    };
    const { triggerId, messageIds } = await trigger(h, 'order-paid', { to: { subscriberId: 'ada' }, data });
    const message = await finalMessage(h, messageIds[0]!);
    expect(message).toMatchObject({ status: 'sent', channel: 'webhook', attemptCount: 1 });
    expect(message.attempts).toMatchObject([{ outcome: 'sent', integrationId: 'hooks', provider: 'webhook' }]);

    expect(r.deliveries).toHaveLength(1);
    const [delivery] = r.deliveries;
    expect(delivery).toMatchObject({ method: 'POST', path: '/hooks/orders' });
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.headers['webhook-id']).toBe(messageIds[0]);
    expect(delivery!.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(signatures(delivery!)).toHaveLength(1);
    expect(signatures(delivery!)[0]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

    const body = verify(secret!, delivery!);
    expect(body).toEqual({ workflow: 'order-paid', triggerId, messageId: messageIds[0], subscriberId: 'ada', data });
    expect(Object.keys(body as object)).toEqual(['workflow', 'triggerId', 'messageId', 'subscriberId', 'data']);
    // The log keeps what was sent.
    expect(JSON.parse(message.content.text)).toEqual(body);

    const tampered = { ...delivery!, body: delivery!.body.replace('12.5', '1250') };
    expect(tampered.body).not.toBe(delivery!.body);
    expect(() => verify(secret!, tampered)).toThrow(/signature/i);
    const forged = { ...delivery!, headers: { ...delivery!.headers, 'webhook-id': 'msg_someone_else' } };
    expect(() => verify(secret!, forged)).toThrow(/signature/i);
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, delivery!)).toThrow(/signature/i);
  });

  it('signs with a secret given in config.secret, keeps it when the masked value is sent back, and refuses a malformed one (422)', async () => {
    const r = await receiver();
    const h = await herald();
    const given = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;
    expect(await webhookIntegration(h, { secret: given })).toBeUndefined(); // not echoed: the caller has it
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const first = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    expect((await finalMessage(h, first.messageIds[0]!)).status).toBe('sent');
    expect(() => verify(given, r.deliveries[0]!)).not.toThrow();

    // A GET → PUT round trip sends the masked secret back: the stored one stays.
    const shown = (await h.api('GET', '/v1/integrations/hooks')).body;
    expect(shown.config.secret).toMatch(/^••••/);
    const replaced = await h.api('PUT', '/v1/integrations/hooks', {
      channel: 'webhook',
      provider: 'webhook',
      config: shown.config,
    });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.secret).toBeUndefined();
    const second = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    expect((await finalMessage(h, second.messageIds[0]!)).status).toBe('sent');
    expect(r.deliveries).toHaveLength(2);
    expect(() => verify(given, r.deliveries[1]!)).not.toThrow();

    for (const secret of ['not-a-secret', 'whsec_', `whsec_${Buffer.alloc(8).toString('base64')}`, 'whsec_!!!!', 42]) {
      const res = await h.api('PUT', '/v1/integrations/bad', {
        channel: 'webhook',
        provider: 'webhook',
        config: { secret },
      });
      expectProblem(res, 422, 'VALIDATION_FAILED');
      expect(res.body.errors).toContainEqual(expect.objectContaining({ path: '/config/secret' }));
    }
    const unknown = await h.api('PUT', '/v1/integrations/bad', {
      channel: 'webhook',
      provider: 'webhook',
      config: { colour: 'red' },
    });
    expectProblem(unknown, 422, 'VALIDATION_FAILED');
    const notHttp = await h.api('PUT', '/v1/integrations/bad', {
      channel: 'webhook',
      provider: 'webhook',
      config: { url: 'ftp://example.com/in' },
    });
    expectProblem(notHttp, 422, 'VALIDATION_FAILED');
    expect((await h.api('GET', '/v1/integrations/bad')).status).toBe(404);
  });

  it('after rotate-secret signs with the new and the old secret, and either one verifies', async () => {
    const r = await receiver();
    const h = await herald();
    const old = (await webhookIntegration(h))!;
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const before = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    expect((await finalMessage(h, before.messageIds[0]!)).status).toBe('sent');
    expect(signatures(r.deliveries[0]!)).toHaveLength(1);

    const rotated = await h.api('POST', '/v1/integrations/hooks/rotate-secret');
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect((await h.api('GET', '/v1/integrations/hooks')).body.secret).toBeUndefined();

    const after = await trigger(h, 'w', { to: { subscriberId: 'ada' }, data: { n: 2 } });
    expect((await finalMessage(h, after.messageIds[0]!)).status).toBe('sent');
    expect(r.deliveries).toHaveLength(2);
    const delivery = r.deliveries[1]!;
    expect(signatures(delivery)).toHaveLength(2);
    expect(signatures(delivery).every((signature) => /^v1,/.test(signature))).toBe(true);
    expect(verify(fresh, delivery)).toMatchObject({ messageId: after.messageIds[0], data: { n: 2 } });
    expect(verify(old, delivery)).toMatchObject({ messageId: after.messageIds[0] });
    // Each secret matches exactly one of the two signatures.
    for (const secret of [fresh, old]) {
      const matching = signatures(delivery).filter((signature) => {
        try {
          verify(secret, { ...delivery, headers: { ...delivery.headers, 'webhook-signature': signature } });
          return true;
        } catch {
          return false;
        }
      });
      expect(matching).toHaveLength(1);
    }
    expect(() => verify(`whsec_${Buffer.alloc(32, 9).toString('base64')}`, delivery)).toThrow(/signature/i);

    const notWebhook = await h.api('POST', '/v1/integrations/nope/rotate-secret');
    expectProblem(notWebhook, 404);
  });
});

describe('webhook step: outcomes and retries', () => {
  it('keeps webhook-id (the message id) across retries after 500 and 429 + Retry-After, then records sent', async () => {
    const r = await receiver((_delivery, index) =>
      index === 0
        ? { status: 500, body: 'database is down' }
        : index === 1
          ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' }
          : { status: 200 },
    );
    const h = await herald();
    const secret = (await webhookIntegration(h))!;
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'ada' }, data: { x: 1 } });
    const message = await finalMessage(h, messageIds[0]!);

    expect(message.status).toBe('sent');
    expect(message.attemptCount).toBe(3);
    expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'retry', 'sent']);
    expect(message.attempts[0].detail).toMatch(/HTTP 500.*database is down/);
    expect(message.attempts[1].detail).toMatch(/HTTP 429.*slow down/);
    // Retry-After: 1 outweighs the 50 ms schedule.
    expect(message.attempts[2].at - message.attempts[1].at).toBeGreaterThanOrEqual(1000);

    expect(r.deliveries).toHaveLength(3);
    expect(r.deliveries.map((d) => d.headers['webhook-id'])).toEqual([messageIds[0], messageIds[0], messageIds[0]]);
    const bodies = r.deliveries.map((d) => verify(secret, d));
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it('retries a receiver that does not answer in time or drops the connection, with the same webhook-id', async () => {
    const r = await receiver((_delivery, index) => (index === 0 ? 'hang' : index === 1 ? 'reset' : { status: 202 }));
    const h = await herald({ 'send-timeout': '300ms' });
    const secret = (await webhookIntegration(h))!;
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    const message = await finalMessage(h, messageIds[0]!);
    expect(message.status).toBe('sent');
    expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'retry', 'sent']);
    expect(message.attempts[0].detail).toMatch(/timed out/);
    expect(message.attempts[1].detail).toMatch(/reset|closed|socket/i);
    expect(r.deliveries).toHaveLength(3);
    for (const delivery of r.deliveries) {
      expect(delivery.headers['webhook-id']).toBe(messageIds[0]);
      expect(() => verify(secret, delivery)).not.toThrow();
    }
  });

  it('records 410 Gone as failed after one attempt, with no retry', async () => {
    const r = await receiver(() => ({ status: 410, body: 'unsubscribed' }));
    const h = await herald();
    await webhookIntegration(h);
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    const message = await finalMessage(h, messageIds[0]!);
    expect(message).toMatchObject({ status: 'failed', attemptCount: 1, reason: expect.stringMatching(/410/) });
    expect(message.attempts).toMatchObject([{ outcome: 'failed' }]);
    expect(r.deliveries).toHaveLength(1);
  });

  // Each webhook goes to its subscriber's own receiver: a Retry-After must not pause the integration.
  it("honours one receiver's Retry-After for its own message only, not for other receivers", async () => {
    const r = await receiver((delivery) =>
      delivery.path === '/slow' ? { status: 429, headers: { 'retry-after': '3600' } } : { status: 200 },
    );
    const h = await herald();
    await webhookIntegration(h);
    await putWorkflow(h, 'w', { url: `${r.url}/{{ data.path }}` });
    const slow = await trigger(h, 'w', { to: { subscriberId: 'ada' }, data: { path: 'slow' } });
    await waitFor(async () => (await h.api('GET', `/v1/messages/${slow.messageIds[0]}`)).body.status === 'retrying');
    const other = await trigger(h, 'w', { to: { subscriberId: 'bob' }, data: { path: 'fast' } });
    const message = await waitFor(async () => {
      const res = await h.api('GET', `/v1/messages/${other.messageIds[0]}`);
      return ['sent', 'retrying', 'failed'].includes(res.body.status) ? res.body : undefined;
    });
    expect(message.reason).toBeNull();
    expect(message.status).toBe('sent');
    expect(r.deliveries.map((d) => d.path)).toEqual(['/slow', '/fast']);
  });

  it('does not follow redirects (to the metadata address or anywhere else) and retries instead', async () => {
    const r = await receiver((_delivery, index) =>
      index === 0
        ? { status: 302, headers: { location: METADATA_URL } }
        : index === 1
          ? { status: 307, headers: { location: '/landing' } }
          : { status: 204 },
    );
    const h = await herald();
    await webhookIntegration(h);
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    const message = await finalMessage(h, messageIds[0]!);
    expect(message.status).toBe('sent');
    expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'retry', 'sent']);
    expect(message.attempts[0].detail).toMatch(/HTTP 302: redirect not followed/);
    expect(message.attempts[1].detail).toMatch(/HTTP 307: redirect not followed/);
    // Every request went to the step's URL: /landing never, and the metadata address is not ours.
    expect(r.deliveries.map((d) => d.path)).toEqual(['/in', '/in', '/in']);
  });

  it('gives up after the retry schedule when the receiver keeps failing', async () => {
    const r = await receiver(() => ({ status: 503 }));
    const h = await herald({ 'retry-schedule': '20ms,20ms' });
    await webhookIntegration(h);
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    const message = await finalMessage(h, messageIds[0]!);
    expect(message).toMatchObject({
      status: 'failed',
      attemptCount: 3,
      reason: expect.stringMatching(/^gave up after 3 attempts: .*503/),
    });
    expect(r.deliveries).toHaveLength(3);
  });
});

describe('webhook step: templates and addresses', () => {
  it('renders the url from the subscriber and the body from a JSON template, keeping whole values typed', async () => {
    const r = await receiver();
    const h = await herald();
    const secret = (await webhookIntegration(h))!;
    await putWorkflow(h, 'shipped', {
      url: '{{ subscriber.data.hook }}',
      body: {
        event: 'order.shipped',
        order: '{{ data.order }}',
        id: '{{ data.order.id }}',
        missing: '{{ data.nothing }}',
        text: 'Hello {{ subscriber.name }}, order {{ data.order.id }} ({{ data.order.items | size }} items)',
        nested: [{ workflow: '{{ workflow.key }}', fixed: 42, flag: true, none: null }],
      },
    });
    const order = {
      id: 7,
      items: [
        { sku: 'A', qty: 2 },
        { sku: 'B', qty: 1 },
      ],
      gift: false,
    };
    const { messageIds } = await trigger(h, 'shipped', {
      to: [
        { subscriberId: 'ada', name: 'Ada', data: { hook: `${r.url}/ada` } },
        { subscriberId: 'bob', name: 'Bob', data: { hook: `${r.url}/bob?tenant=1` } },
      ],
      data: { order },
    });
    for (const id of messageIds) expect((await finalMessage(h, id)).status).toBe('sent');

    expect(r.deliveries.map((d) => d.path).sort()).toEqual(['/ada', '/bob?tenant=1']);
    for (const name of ['Ada', 'Bob']) {
      const delivery = r.deliveries.find((d) => d.path.startsWith(`/${name.toLowerCase()}`))!;
      expect(verify(secret, delivery)).toEqual({
        event: 'order.shipped',
        order,
        id: 7,
        missing: null,
        text: `Hello ${name}, order 7 (2 items)`,
        nested: [{ workflow: 'shipped', fixed: 42, flag: true, none: null }],
      });
    }
  });

  it('renders the url from trigger data', async () => {
    const r = await receiver();
    const h = await herald();
    await webhookIntegration(h);
    await putWorkflow(h, 'w', { url: '{{ data.callback }}/{{ subscriber.subscriberId }}' });
    const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'ada' }, data: { callback: `${r.url}/cb` } });
    const message = await finalMessage(h, messageIds[0]!);
    expect(message.status).toBe('sent');
    expect(r.deliveries.map((d) => d.path)).toEqual(['/cb/ada']);
  });

  it("POSTs to the subscriber's webhookUrl when the step has no url, and skips subscribers without one", async () => {
    const r = await receiver();
    const h = await herald();
    const secret = (await webhookIntegration(h))!;
    const put = await h.api('PUT', '/v1/subscribers/bob', { webhookUrl: `${r.url}/bob-hook` });
    expect(put.status, put.text).toBe(200);
    await putWorkflow(h, 'w', {});
    const { messageIds } = await trigger(h, 'w', { to: ['bob', { subscriberId: 'carol' }] });
    const [bob, carol] = [await finalMessage(h, messageIds[0]!), await finalMessage(h, messageIds[1]!)];
    expect(bob).toMatchObject({ subscriberId: 'bob', status: 'sent' });
    expect(carol).toMatchObject({
      subscriberId: 'carol',
      status: 'skipped',
      reason: expect.stringMatching(/no webhook URL/),
      attemptCount: 0,
    });
    expect(r.deliveries.map((d) => d.path)).toEqual(['/bob-hook']);
    expect(verify(secret, r.deliveries[0]!)).toMatchObject({ subscriberId: 'bob', messageId: messageIds[0] });
  });

  it("reads Apprise's json:// URL as the integration's default target, used when neither step nor subscriber names one", async () => {
    const r = await receiver();
    const h = await herald();
    const res = await h.api('PUT', '/v1/integrations/hooks', { url: `${r.url.replace('http:', 'json:')}/default` });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ channel: 'webhook', provider: 'webhook', config: { url: `${r.url}/default` } });
    await putWorkflow(h, 'w', {});
    const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'dora' } });
    expect(await finalMessage(h, messageIds[0]!)).toMatchObject({ status: 'sent' });
    expect(r.deliveries.map((d) => d.path)).toEqual(['/default']);
    expect(verify(res.body.secret, r.deliveries[0]!)).toMatchObject({ subscriberId: 'dora' });
  });

  it('skips the message, naming PUT /v1/integrations, when the environment has no (enabled) webhook integration', async () => {
    const r = await receiver();
    const h = await herald();
    await putWorkflow(h, 'w', { url: `${r.url}/in` });
    const none = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    expect(await finalMessage(h, none.messageIds[0]!)).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('PUT /v1/integrations'),
    });

    const disabled = await h.api('PUT', '/v1/integrations/hooks', {
      channel: 'webhook',
      provider: 'webhook',
      enabled: false,
    });
    expect(disabled.status, disabled.text).toBe(201);
    const off = await trigger(h, 'w', { to: { subscriberId: 'ada' } });
    expect(await finalMessage(h, off.messageIds[0]!)).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('PUT /v1/integrations'),
    });
    expect(r.deliveries).toHaveLength(0);
  });
});

describe('webhook step: SSRF guard (no allow-private-networks)', () => {
  it('refuses a loopback webhookUrl on the subscriber with 422 naming /webhookUrl', async () => {
    const r = await receiver();
    const h = await herald({ 'allow-private-networks': '' });
    for (const url of [`${r.url}/in`, 'http://169.254.169.254/', 'http://localhost/hook', 'http://[::1]/hook']) {
      const res = await h.api('PUT', '/v1/subscribers/eve', { webhookUrl: url });
      expectProblem(res, 422, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([{ path: '/webhookUrl', message: expect.stringMatching(/^refused: /) }]);
    }
    expect((await h.api('GET', '/v1/subscribers/eve')).status).toBe(404);
    expect(r.deliveries).toHaveLength(0);
  });

  it('refuses a webhook step whose literal url points inward when the workflow is saved (422 naming the step)', async () => {
    const h = await herald({ 'allow-private-networks': '' });
    const res = await h.api('PUT', '/v1/workflows/inward', {
      steps: [
        { type: 'webhook', url: 'https://hooks.example.com/{{ data.path }}' },
        { type: 'webhook', url: METADATA_URL },
      ],
    });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    expect(res.body.errors).toEqual([
      { path: '/steps/1/url', message: expect.stringMatching(/^refused: .*HERALD_ALLOW_PRIVATE_NETWORKS/) },
    ]);
    expect((await h.api('GET', '/v1/workflows/inward')).status).toBe(404);
  });

  it('fails a message whose rendered url points inward, without a request, with a reason saying refused', async () => {
    const r = await receiver();
    const h = await herald({ 'allow-private-networks': '' });
    await webhookIntegration(h);
    await putWorkflow(h, 'w', { url: '{{ data.target }}' });
    const port = new URL(r.url).port;
    const targets = [
      METADATA_URL,
      `${r.url}/in`,
      `http://localhost:${port}/in`,
      `http://[::1]:${port}/in`,
      `http://2130706433:${port}/in`, // 127.0.0.1 as one decimal number
      `http://[::ffff:127.0.0.1]:${port}/in`,
    ];
    for (const target of targets) {
      const { messageIds } = await trigger(h, 'w', { to: { subscriberId: 'ada' }, data: { target } });
      const message = await finalMessage(h, messageIds[0]!);
      expect(message, target).toMatchObject({
        status: 'failed',
        attemptCount: 1,
        reason: expect.stringContaining('refused'),
      });
    }
    expect(r.deliveries).toHaveLength(0);
  });
});
