import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { inboxClient } from '../support/inbox.js';
import { waitFor } from '../support/wait-for.js';

// Test sends through the public API (POST /v1/workflows/{key}/test): each sending step of the
// current version sent once, now, to one recipient, through the normal commit and delivery path,
// marked as a test in the trigger and the delivery log.

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald({ 'retry-schedule': '50ms' });
  // Quiet hours around now (they hold emails) and the workflow's category turned off for in-app
  // messages: a test goes out all the same.
  const now = Date.now();
  const hhmm = (at: number) => new Date(at).toISOString().slice(11, 16);
  expect((await h.api('PUT', '/v1/subscribers/dan', { email: 'dan@example.com', timezone: 'UTC' })).status).toBe(200);
  const preferences = {
    categories: { billing: { channels: { in_app: false } } },
    quietHours: { start: hhmm(now - 3_600_000), end: hhmm(now + 3_600_000) },
  };
  expect((await h.api('PUT', '/v1/subscribers/dan/preferences', preferences)).status).toBe(200);
  for (const [key, body] of Object.entries(WORKFLOWS)) {
    const res = await h.api('PUT', `/v1/workflows/${key}`, body);
    expect(res.status, res.text).toBe(200);
  }
});
afterAll(async () => {
  await h?.close();
});

const WORKFLOWS = {
  invoice: {
    category: 'billing',
    steps: [
      { type: 'delay', for: '1h' },
      { type: 'email', ref: 'first', subject: 'Invoice {{ data.n }}', text: 'Your invoice {{ data.n }}' },
      { type: 'in_app', ref: 'never', if: 'data.n == 999', body: 'Conditional {{ data.n }}' },
      { type: 'throttle', limit: 1, window: '1d' },
      { type: 'digest', window: '1h' },
      { type: 'email', ref: 'second', subject: 'Digest of {{ digest.count }}: {{ digest.events[0].n }}', text: 'd' },
    ],
  },
  plain: { steps: [{ type: 'in_app', body: 'plain {{ data.n }}' }] },
  'only-waits': { steps: [{ type: 'delay', for: '1h' }] },
};

const SETTLED = ['sent', 'failed', 'skipped'];

async function settled(messageIds: string[]): Promise<any[]> {
  return waitFor(
    async () => {
      const messages = await Promise.all(messageIds.map(async (id) => (await h.api('GET', `/v1/messages/${id}`)).body));
      return messages.every((message) => SETTLED.includes(message.status)) ? messages : undefined;
    },
    { what: 'every message settled' },
  );
}

describe('POST /v1/workflows/{key}/test', () => {
  it('sends each sending step once, now, past the delay, condition, throttle, digest, preferences and quiet hours', async () => {
    const res = await h.api('POST', '/v1/workflows/invoice/test', { to: 'dan', data: { n: 7 } });
    expect(res.status, res.text).toBe(202);
    const { triggerId, messageIds } = res.body;
    expect(triggerId).toMatch(/^trg_/);
    expect(messageIds).toHaveLength(3);

    const messages = await settled(messageIds);
    expect(messages.map((m) => [m.stepIndex, m.channel, m.status, m.test])).toEqual([
      [1, 'email', 'sent', true],
      [2, 'in_app', 'sent', true],
      [5, 'email', 'sent', true],
    ]);
    expect(messages[0]).toMatchObject({ subject: 'Invoice 7', recipient: 'dan@example.com' });
    expect(messages[2]).toMatchObject({ subject: 'Digest of 1: 7' });

    // Delivered once each, through the dev mailbox; the in-app item is in the inbox.
    const mail = (await h.api('GET', '/v1/dev/mail?limit=100')).body.items.filter(
      (m: any) => m.to === 'dan@example.com',
    );
    expect(mail.map((m: any) => m.subject).sort()).toEqual(['Digest of 1: 7', 'Invoice 7']);
    const inbox = await inboxClient(h, 'dan');
    const items = (await inbox.call('GET', '/v1/inbox/items')).body.items;
    expect(items.map((item: any) => item.body)).toEqual(['Conditional 7']);

    // The trigger says it is a test; its run is complete at once.
    const trigger = (await h.api('GET', `/v1/triggers/${triggerId}`)).body;
    expect(trigger).toMatchObject({ triggerId, workflowKey: 'invoice', test: true, data: { n: 7 } });
    expect(trigger.runs).toHaveLength(1);
    expect(trigger.runs[0]).toMatchObject({ subscriberId: 'dan', state: 'completed' });
    expect(trigger.runs[0].messages.every((m: any) => m.test === true)).toBe(true);
  });

  it('marks the messages of tests and only those, and the delivery log filters on it', async () => {
    const test = await h.api('POST', '/v1/workflows/plain/test', {
      to: { subscriberId: 'eve', email: 'eve@example.com' },
    });
    expect(test.status, test.text).toBe(202);
    const real = await h.api('POST', '/v1/workflows/plain/trigger', { to: 'eve', data: { n: 1 } });
    expect(real.status, real.text).toBe(202);
    const [testMessage] = await settled(test.body.messageIds);
    const [realMessage] = await settled(real.body.messageIds);
    expect(testMessage.test).toBe(true);
    expect(realMessage.test).toBe(false);
    expect((await h.api('GET', `/v1/triggers/${real.body.triggerId}`)).body.test).toBe(false);
    // The inline recipient was created, as a trigger creates one.
    expect((await h.api('GET', '/v1/subscribers/eve')).body.email).toBe('eve@example.com');

    const tests = (await h.api('GET', '/v1/messages?test=true&limit=100')).body.items;
    expect(tests.length).toBeGreaterThanOrEqual(4);
    expect(tests.every((m: any) => m.test === true)).toBe(true);
    expect(tests.map((m: any) => m.id)).toContain(testMessage.id);
    const others = (await h.api('GET', '/v1/messages?test=false&limit=100')).body.items;
    expect(others.every((m: any) => m.test === false)).toBe(true);
    expect(others.map((m: any) => m.id)).toEqual([realMessage.id]);
    const combined = (await h.api('GET', '/v1/messages?test=true&subscriberId=eve')).body.items;
    expect(combined.map((m: any) => m.id)).toEqual([testMessage.id]);
    const byTrigger = (await h.api('GET', `/v1/messages?test=false&triggerId=${test.body.triggerId}`)).body.items;
    expect(byTrigger).toEqual([]);
  });

  it('refuses an unknown recipient or workflow, a workflow that sends nothing, and a topic or a list', async () => {
    expectProblem(await h.api('POST', '/v1/workflows/plain/test', { to: 'nobody' }), 422, 'UNKNOWN_SUBSCRIBERS');
    expectProblem(await h.api('POST', '/v1/workflows/no-such/test', { to: 'dan' }), 404, 'WORKFLOW_NOT_FOUND');
    const nothing = await h.api('POST', '/v1/workflows/only-waits/test', { to: 'dan' });
    expectProblem(nothing, 422, 'VALIDATION_FAILED');
    expect(nothing.body.detail).toMatch(/no step that sends/);
    expectProblem(await h.api('POST', '/v1/workflows/plain/test', { to: { topic: 'all' } }), 422, 'VALIDATION_FAILED');
    expectProblem(await h.api('POST', '/v1/workflows/plain/test', { to: ['dan'] }), 422, 'VALIDATION_FAILED');
  });
});
