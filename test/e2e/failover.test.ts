import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'failover-token';

/** Twilio's Messages API, one per "provider": 201 with a sid naming which one took the message. */
async function startTwilioFake(name: string): Promise<FakeHttp> {
  return startFakeHttp((request) => {
    const form = new URLSearchParams(request.body);
    return { status: 201, body: { sid: `SM-${name}-${form.get('To')}`, status: 'queued' } };
  });
}

let h: TestHerald;
let primary: FakeHttp;
let secondary: FakeHttp;
let run = 0;

beforeAll(async () => {
  primary = await startTwilioFake('primary');
  secondary = await startTwilioFake('secondary');
  h = await startTestHerald({
    'secret-key': 'failover-test-secret-key-0123456789abcdef',
    'allow-private-networks': '127.0.0.0/8',
    'retry-schedule': '50ms,50ms',
    'breaker-threshold': '2',
    // Long enough that a send right after the breaker opens finds it still open on a busy machine.
    'breaker-cooldown': '3s',
  });
  await h.api('PUT', '/v1/workflows/code', { steps: [{ type: 'sms', text: 'Your code is {{ data.code }}' }] });
});
afterAll(async () => {
  await h.close();
  await primary.close();
  await secondary.close();
});

/** Fresh integrations (and so fresh breakers) for each test: ids differ per test. */
let ids: { primary: string; secondary: string };
beforeEach(async () => {
  run++;
  primary.setFault(undefined);
  secondary.setFault(undefined);
  for (const integration of await h.api('GET', '/v1/integrations').then((r) => r.body.items)) {
    await h.api('DELETE', `/v1/integrations/${integration.id}`);
  }
  ids = { primary: `twilio-a${run}`, secondary: `twilio-b${run}` };
  const config = (fake: FakeHttp) => ({ accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: fake.url });
  await h.api('PUT', `/v1/integrations/${ids.primary}`, {
    channel: 'sms',
    provider: 'twilio',
    config: config(primary),
    priority: 1,
  });
  await h.api('PUT', `/v1/integrations/${ids.secondary}`, {
    channel: 'sms',
    provider: 'twilio',
    config: config(secondary),
    priority: 2,
  });
});

let phone = 4155550100;
async function sendOne(): Promise<any> {
  const to = `+1${phone++}`;
  const res = await h.api('POST', '/v1/workflows/code/trigger', {
    to: { subscriberId: `s-${to}`, phone: to },
    data: { code: 42 },
  });
  expect(res.status).toBe(202);
  const id = res.body.messageIds[0];
  return waitFor(
    async () => {
      const message = (await h.api('GET', `/v1/messages/${id}`)).body;
      return ['sent', 'failed'].includes(message.status) ? message : undefined;
    },
    { what: `message ${id} to finish` },
  );
}

const circuit = async (id: string) => (await h.api('GET', `/v1/integrations/${id}`)).body.circuit;

describe('failover between integrations of a channel', () => {
  it('sends through the next integration when the first is down, in the same attempt', async () => {
    primary.setFault('unavailable-503');
    const message = await sendOne();
    expect(message).toMatchObject({ status: 'sent', providerMessageId: expect.stringMatching(/^SM-secondary-/) });
    expect(message.attempts).toMatchObject([
      { outcome: 'retry', integrationId: ids.primary, provider: 'twilio', detail: expect.stringContaining('503') },
      { outcome: 'sent', integrationId: ids.secondary, provider: 'twilio' },
    ]);
    expect(message.attemptCount).toBe(2);
  });

  it('opens the breaker after repeated failures, skips the dead provider, and closes it after recovery', async () => {
    primary.setFault('html-502');
    await sendOne();
    await sendOne(); // the second failure in a row opens the breaker (threshold 2)
    await waitFor(async () => (await circuit(ids.primary))?.state === 'open', { what: 'the breaker to open' });
    expect(await circuit(ids.primary)).toMatchObject({
      consecutiveFailures: 2,
      openedAt: expect.any(Number),
      lastFailure: expect.stringContaining('502'),
    });
    const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(metrics).toContain(`herald_integration_circuit_open{integration="${ids.primary}",provider="twilio"} 1`);

    // While open, the primary is not even tried.
    const seen = primary.requests.length;
    const skipped = await sendOne();
    expect(skipped.attempts).toMatchObject([{ outcome: 'sent', integrationId: ids.secondary }]);
    expect(primary.requests.length).toBe(seen);

    // The provider recovers; after the cool-down one trial goes through, succeeds, and closes it.
    primary.setFault(undefined);
    const recovered = await waitFor(
      async () => {
        const message = await sendOne();
        return message.attempts[0].integrationId === ids.primary ? message : undefined;
      },
      { what: 'a message through the recovered primary' },
    );
    expect(recovered).toMatchObject({ status: 'sent', providerMessageId: expect.stringMatching(/^SM-primary-/) });
    await waitFor(async () => (await circuit(ids.primary))?.state === 'closed', { what: 'the breaker to close' });
    const after = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(after).toContain(`herald_integration_circuit_open{integration="${ids.primary}",provider="twilio"} 0`);
  });

  it("honours a provider's Retry-After: the throttled integration is set aside, not counted as down", async () => {
    primary.setFault('retry-after-seconds'); // 429, Retry-After: 7
    const first = await sendOne();
    expect(first.attempts.map((a: any) => [a.integrationId, a.outcome])).toEqual([
      [ids.primary, 'retry'],
      [ids.secondary, 'sent'],
    ]);
    const seen = primary.requests.length;
    const second = await sendOne();
    expect(second.attempts).toMatchObject([{ integrationId: ids.secondary, outcome: 'sent' }]);
    expect(primary.requests.length).toBe(seen); // paused for 7 s
    expect((await circuit(ids.primary))?.state ?? 'closed').toBe('closed');
  });

  it('retries the message when every integration fails, and fails it when the schedule runs out', async () => {
    primary.setFault('unavailable-503');
    secondary.setFault('reset');
    const message = await sendOne();
    expect(message.status).toBe('failed');
    expect(message.reason).toMatch(/^gave up after 3 attempts: /);
    // Each of the three runs tried what its breakers allowed; every attempt is in the log.
    expect(message.attempts.length).toBeGreaterThanOrEqual(3);
    expect(message.attempts.every((a: any) => a.outcome === 'retry')).toBe(true);
  });

  it('stops at a permanent rejection instead of failing over', async () => {
    // Twilio's 400 for an invalid number: another provider would refuse it too.
    const rejecting = await startFakeHttp(() => ({
      status: 400,
      body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 },
    }));
    try {
      await h.api('PUT', `/v1/integrations/${ids.primary}`, {
        channel: 'sms',
        provider: 'twilio',
        config: { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: rejecting.url },
        priority: 1,
      });
      const seen = secondary.requests.length;
      const message = await sendOne();
      expect(message).toMatchObject({ status: 'failed', reason: expect.stringContaining('21211') });
      expect(message.attempts).toHaveLength(1);
      expect(secondary.requests.length).toBe(seen);
    } finally {
      await rejecting.close();
    }
  });

  it('keeps to a rate limit per integration, moving on to the next one', async () => {
    await h.api('PUT', `/v1/integrations/${ids.primary}`, {
      channel: 'sms',
      provider: 'twilio',
      config: { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: primary.url },
      priority: 1,
      rateLimit: { limit: 1, interval: '1h' },
    });
    const first = await sendOne();
    const second = await sendOne();
    expect(first.attempts).toMatchObject([{ integrationId: ids.primary, outcome: 'sent' }]);
    expect(second.attempts).toMatchObject([{ integrationId: ids.secondary, outcome: 'sent' }]);
  });

  it('skips disabled integrations', async () => {
    await h.api('PUT', `/v1/integrations/${ids.primary}`, {
      channel: 'sms',
      provider: 'twilio',
      config: { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: primary.url },
      enabled: false,
    });
    const message = await sendOne();
    expect(message.attempts).toMatchObject([{ integrationId: ids.secondary, outcome: 'sent' }]);
  });
});
