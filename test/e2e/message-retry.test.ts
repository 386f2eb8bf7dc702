import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUpOwner, signIn, type Browser } from '../support/dashboard.js';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// Retrying one failed message and re-driving every failed message matching a filter
// (POST /v1/messages/{id}/retry, POST /v1/messages/redrive), against a webhook receiver that
// refuses for good (410 Gone: failed after one attempt) until it is fixed.

let h: TestHerald;
let receiverUrl: string;
let closeReceiver: () => Promise<void>;
/** While true the receiver answers 410 Gone, which fails a webhook message at once. */
let broken = true;
const deliveries: string[] = [];
let admin: Browser;
let viewer: Browser;

beforeAll(async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      deliveries.push(req.url ?? '');
      res.writeHead(broken ? 410 : 200, { 'content-type': 'text/plain' });
      res.end(broken ? 'gone' : 'ok');
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
    'secret-key': 'message-retry-test-secret-key-0123456789',
    'allow-private-networks': '127.0.0.0/8',
    'retry-schedule': '50ms',
  });
  const integration = await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' });
  expect(integration.status, integration.text).toBe(201);
  for (const key of ['retry-one', 'bulk-a', 'bulk-b', 'range', 'twice', 'paged', 'roles']) {
    const res = await h.api('PUT', `/v1/workflows/${key}`, {
      steps: [{ type: 'webhook', url: `${receiverUrl}/${key}`, body: { hello: '{{ subscriber.subscriberId }}' } }],
    });
    expect(res.status, res.text).toBe(200);
  }
  const owner = await setUpOwner(h);
  admin = await signIn(h, await addUser(owner, 'admin@example.com', 'admin'));
  viewer = await signIn(h, await addUser(owner, 'viewer@example.com', 'viewer'));
});
afterAll(async () => {
  await h?.close();
  await closeReceiver?.();
});

const FINAL = ['sent', 'failed', 'skipped'];

/** Waits until the message is final and returns it with its attempts. */
function finalMessage(id: string): Promise<any> {
  return waitFor(
    async () => {
      const res = await h.api('GET', `/v1/messages/${id}`);
      return FINAL.includes(res.body.status) && res.body.attempts.length === res.body.attemptCount
        ? res.body
        : undefined;
    },
    { what: `message ${id} to be final` },
  );
}

/** Triggers `key` for each subscriber and waits until every message failed; returns their ids. */
async function failedMessages(key: string, subscribers: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const subscriberId of subscribers) {
    const res = await h.api('POST', `/v1/workflows/${key}/trigger`, { to: { subscriberId } });
    expect(res.status, res.text).toBe(202);
    ids.push(...(res.body.messageIds as string[]));
  }
  for (const id of ids) expect((await finalMessage(id)).status).toBe('failed');
  return ids;
}

/** Waits until the messages are final again after `attempts` attempts each; returns their statuses. */
async function statusesAfter(ids: string[], attempts: number): Promise<string[]> {
  const statuses: string[] = [];
  for (const id of ids) {
    const message = await waitFor(
      async () => {
        const m = await finalMessage(id);
        return m.attemptCount >= attempts ? m : undefined;
      },
      { what: `message ${id} to reach ${attempts} attempts` },
    );
    expect(message.attempts).toHaveLength(attempts);
    statuses.push(message.status);
  }
  return statuses;
}

describe('POST /v1/messages/{id}/retry', () => {
  it('sends the same failed message again once the peer is fixed, keeping its attempts', async () => {
    broken = true;
    const [id] = await failedMessages('retry-one', ['ada']);
    const failed = await finalMessage(id!);
    expect(failed).toMatchObject({ status: 'failed', attemptCount: 1, reason: expect.stringMatching(/410/) });

    broken = false;
    const res = await h.api('POST', `/v1/messages/${id}/retry`);
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ id, triggerId: failed.triggerId, workflowKey: 'retry-one' });
    expect(['queued', 'sending', 'sent']).toContain(res.body.status);

    const sent = await waitFor(
      async () => {
        const m = await finalMessage(id!);
        return m.status === 'sent' ? m : undefined;
      },
      { what: 'the retried message to be sent' },
    );
    expect(sent).toMatchObject({ id, triggerId: failed.triggerId, attemptCount: 2, reason: null });
    expect(sent.attempts.map((a: any) => a.outcome)).toEqual(['failed', 'sent']);
    expect(sent.attempts[0]).toEqual(failed.attempts[0]);
    expect(deliveries.filter((path) => path === '/retry-one')).toHaveLength(2);
    // The same message, not a new one: the trigger still has one.
    const ofTrigger = await h.api('GET', `/v1/messages?triggerId=${failed.triggerId}`);
    expect(ofTrigger.body.items.map((m: any) => m.id)).toEqual([id]);

    expectProblem(await h.api('POST', `/v1/messages/${id}/retry`), 409, 'MESSAGE_NOT_RETRYABLE');
    const again = await h.api('POST', `/v1/messages/${id}/retry`);
    expect(again.body.detail).toMatch(/is sent/);
    expectProblem(await h.api('POST', '/v1/messages/msg_nope/retry'), 404, 'MESSAGE_NOT_FOUND');
  });
});

describe('POST /v1/messages/redrive', () => {
  it('re-queues exactly the failed messages of one workflow', async () => {
    broken = true;
    const a = await failedMessages('bulk-a', ['ann', 'bea']);
    const b = await failedMessages('bulk-b', ['cid']);
    broken = false;
    const res = await h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'bulk-a' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ redriven: 2, more: false });
    expect(await statusesAfter(a, 2)).toEqual(['sent', 'sent']);
    expect(await finalMessage(b[0]!)).toMatchObject({ status: 'failed', attemptCount: 1 });
    // Nothing failed is left of that workflow.
    expect((await h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'bulk-a' })).body).toEqual({
      redriven: 0,
      more: false,
    });
    const byChannelAndSubscriber = await h.api('POST', '/v1/messages/redrive', {
      status: 'failed',
      channel: 'webhook',
      subscriberId: 'cid',
    });
    expect(byChannelAndSubscriber.body).toEqual({ redriven: 1, more: false });
    expect(await statusesAfter(b, 2)).toEqual(['sent']);
  });

  it('re-queues by creation time: since is inclusive, until exclusive', async () => {
    broken = true;
    const [early] = await failedMessages('range', ['early']);
    const { createdAt } = await finalMessage(early!);
    const boundary = createdAt + 1;
    await waitFor(() => Date.now() > boundary, { what: 'a later millisecond' });
    const [late] = await failedMessages('range', ['late']);
    const iso = new Date(boundary).toISOString();

    const listed = async (query: string) =>
      (await h.api('GET', `/v1/messages?workflow=range&${query}`)).body.items.map((m: any) => m.id);
    expect(await listed(`until=${iso}`)).toEqual([early]);
    expect(await listed(`from=${iso}`)).toEqual([late]);
    expectProblem(await h.api('GET', `/v1/messages?since=0&from=${iso}`), 400, 'INVALID_REQUEST');

    broken = false;
    const before = await h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'range', until: iso });
    expect(before.body).toEqual({ redriven: 1, more: false });
    expect(await statusesAfter([early!], 2)).toEqual(['sent']);
    expect(await finalMessage(late!)).toMatchObject({ status: 'failed', attemptCount: 1 });
    const after = await h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'range', since: iso });
    expect(after.body).toEqual({ redriven: 1, more: false });
    expect(await statusesAfter([late!], 2)).toEqual(['sent']);
  });

  it('never queues one message twice when re-driven twice at once', async () => {
    broken = true;
    const ids = await failedMessages('twice', ['one', 'two', 'three']);
    const [first, second] = await Promise.all([
      h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'twice' }),
      h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'twice' }),
    ]);
    expect(first!.body.redriven + second!.body.redriven).toBe(3);
    // Each message was attempted once more, not twice more: one job each.
    expect(await statusesAfter(ids, 2)).toEqual(['failed', 'failed', 'failed']);
    expect(deliveries.filter((path) => path === '/twice')).toHaveLength(6);
  });

  it('stops at limit and says when more failed messages match', async () => {
    broken = true;
    const ids = await failedMessages('paged', ['p1', 'p2', 'p3']);
    broken = false;
    const first = await h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'paged', limit: 2 });
    expect(first.body).toEqual({ redriven: 2, more: true });
    // Oldest first.
    expect(await statusesAfter(ids.slice(0, 2), 2)).toEqual(['sent', 'sent']);
    const rest = await h.api('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'paged', limit: 2 });
    expect(rest.body).toEqual({ redriven: 1, more: false });
    expect(await statusesAfter(ids.slice(2), 2)).toEqual(['sent']);
  });

  it('refuses a body that does not say status failed, or asks for too many', async () => {
    expectProblem(await h.api('POST', '/v1/messages/redrive', {}), 422, 'VALIDATION_FAILED');
    expectProblem(await h.api('POST', '/v1/messages/redrive', { status: 'sent' }), 422, 'VALIDATION_FAILED');
    expectProblem(
      await h.api('POST', '/v1/messages/redrive', { status: 'failed', limit: 10_001 }),
      422,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await h.api('POST', '/v1/messages/redrive', { status: 'failed', since: 'yesterday' }),
      422,
      'VALIDATION_FAILED',
    );
  });
});

describe('who may retry', () => {
  it('admins and owners through sessions, not viewers; both are audited', async () => {
    broken = true;
    const [id] = await failedMessages('roles', ['rhea']);
    expectProblem(await viewer.call('POST', `/v1/messages/${id}/retry`), 403, 'FORBIDDEN');
    expectProblem(await viewer.call('POST', '/v1/messages/redrive', { status: 'failed' }), 403, 'FORBIDDEN');
    expect((await finalMessage(id!)).attemptCount).toBe(1);

    const retried = await admin.call('POST', `/v1/messages/${id}/retry`);
    expect(retried.status, retried.text).toBe(202);
    await statusesAfter([id!], 2);
    const redriven = await admin.call('POST', '/v1/messages/redrive', { status: 'failed', workflow: 'roles' });
    expect(redriven.body).toEqual({ redriven: 1, more: false });
    await statusesAfter([id!], 3);

    const events = await waitFor(
      async () => {
        const res = await h.api('GET', '/v1/audit?limit=100');
        const ours = res.body.items.filter((e: any) => e.action.startsWith('POST /v1/messages/'));
        return ours.length >= 2 && ours;
      },
      { what: 'the audit events' },
    );
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'POST /v1/messages/{id}/retry', target: { id }, status: 202 }),
        expect.objectContaining({ action: 'POST /v1/messages/redrive', status: 200 }),
      ]),
    );
  });
});
