import { describe, expect, it } from 'vitest';
import { BUILT_IN_PROVIDERS, findProvider, PROVIDERS, providersOf } from '../../src/channels/registry.js';
import { addressFor, devicesFor } from '../../src/core/addresses.js';
import { AttemptPlan, MAX_PROVIDERS_PER_ATTEMPT, waitingFor, type Guard } from '../../src/core/attempt-plan.js';
import { CircuitBreaker } from '../../src/core/circuit-breaker.js';
import type { Clock } from '../../src/core/clock.js';
import {
  beforeIntegrations,
  candidatesFor,
  chatRecipient,
  deliveredWithCompletion,
  devicesRecipient,
  goneDevices,
  guardOf,
  pushCandidates,
  pushFanOut,
  pushOutcome,
  pushWaitsFor,
  redactUrl,
  routeTo,
  textAddress,
  webhookBody,
  webhookUrl,
  type ProviderTraits,
} from '../../src/core/delivery-policy.js';
import type { DispatchRequest } from '../../src/core/dispatch.js';
import { RateLimiter } from '../../src/core/rate-limiter.js';
import type { ChannelType, ProviderOutcome, PushDevice, Subscriber } from '../../src/core/types.js';

/** A clock the test moves. */
function fakeClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

function subscriber(fields: Partial<Subscriber> = {}): Subscriber {
  return {
    subscriberId: 'sub-1',
    email: null,
    phone: null,
    name: null,
    locale: null,
    timezone: null,
    data: null,
    push: null,
    chat: null,
    webhookUrl: null,
    preferences: null,
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}

/** An integration as the rules see it, with a real provider definition from the registry. */
function integration(
  id: string,
  channel: ChannelType,
  provider: string,
  fields: { config?: Record<string, unknown>; unusable?: string; limiter?: RateLimiter } = {},
) {
  const definition = findProvider(channel, provider) ?? BUILT_IN_PROVIDERS.find((d) => d.provider === provider);
  return {
    id,
    provider,
    definition: definition as ProviderTraits | undefined,
    config: fields.config ?? {},
    unusable: fields.unusable,
    pausedUntil: 0,
    limiter: fields.limiter,
  };
}

const WEB_PUSH = { endpoint: 'https://push.example.com/e1', keys: { p256dh: 'p', auth: 'a' } };
const deliverable = (address: string) => address.includes('@') && !address.endsWith('@');

describe('addresses: each provider reads its own shape', () => {
  const full = subscriber({
    email: 'ada@example.com',
    phone: '+1 (415) 555-0100',
    chat: { slack: 'C123', telegram: '42', discord: 'https://discord.com/api/webhooks/1/t' },
    push: { webPush: [WEB_PUSH], fcm: ['f1', 'f2'], apns: ['a1'] },
    webhookUrl: 'https://hooks.example.com/ada',
  });

  it('every email provider, the dev mailbox included, reads the email address', () => {
    for (const definition of providersOf('email')) {
      expect(definition.address, definition.provider).toBe('email');
      expect(textAddress(integration('x', 'email', definition.provider), full)).toBe('ada@example.com');
    }
    expect(providersOf('email').map((d) => d.provider)).toContain('dev-mailbox');
  });

  it('every sms provider reads the phone number without spaces, parentheses, dots or dashes', () => {
    for (const definition of providersOf('sms')) {
      expect(textAddress(integration('x', 'sms', definition.provider), full), definition.provider).toBe('+14155550100');
    }
    const clean = '+14155550100';
    expect(addressFor({ address: 'phone' }, subscriber({ phone: clean }), {})).toBe(clean);
    expect(addressFor({ address: 'phone' }, subscriber({ phone: '415.555.0100' }), {})).toBe('4155550100');
  });

  it("chat providers read their own key of the subscriber's chat addresses, else the integration's default", () => {
    expect(textAddress(integration('s', 'chat', 'slack'), full)).toBe('C123');
    expect(textAddress(integration('t', 'chat', 'telegram'), full)).toBe('42');
    expect(textAddress(integration('d', 'chat', 'discord'), full)).toBe('https://discord.com/api/webhooks/1/t');
    expect(textAddress(integration('m', 'chat', 'mattermost'), full)).toBeUndefined();
    const fixed = integration('m', 'chat', 'mattermost', { config: { webhookUrl: 'https://mm.example.com/hooks/x' } });
    expect(textAddress(fixed, full)).toBe('https://mm.example.com/hooks/x');
    const slackDefault = integration('s', 'chat', 'slack', { config: { botToken: 'xoxb-1', channel: 'C-all' } });
    expect(textAddress(slackDefault, subscriber())).toBe('C-all');
  });

  it('push providers read the devices of their kind', () => {
    const kinds = providersOf('push').map((d) => (d.address === 'push' ? d.pushKind : undefined));
    expect(kinds).toEqual(['webPush', 'fcm', 'apns']);
    const devices: PushDevice[] = [];
    expect(devicesFor({ address: 'push', pushKind: 'fcm' }, full, devices)).toBe(2);
    expect(devicesFor({ address: 'push', pushKind: 'webPush' }, full, devices)).toBe(1);
    expect(devices).toEqual([
      { kind: 'fcm', token: 'f1' },
      { kind: 'fcm', token: 'f2' },
      { kind: 'webPush', subscription: WEB_PUSH },
    ]);
    expect(devicesFor({ address: 'push', pushKind: 'apns' }, subscriber(), devices)).toBe(0);
  });

  it("the webhook provider reads the subscriber's webhookUrl, else the integration's url", () => {
    const hooks = integration('hooks', 'webhook', 'webhook', { config: { url: 'https://default.example.com/in' } });
    expect(textAddress(hooks, full)).toBe('https://hooks.example.com/ada');
    expect(textAddress(hooks, subscriber())).toBe('https://default.example.com/in');
  });

  it('an empty string is no address', () => {
    const empty = subscriber({ email: '', phone: '', chat: { slack: '' }, webhookUrl: '' });
    expect(textAddress(integration('e', 'email', 'smtp'), empty)).toBeUndefined();
    expect(textAddress(integration('s', 'sms', 'twilio'), empty)).toBeUndefined();
    expect(textAddress(integration('c', 'chat', 'slack'), empty)).toBeUndefined();
    expect(textAddress(integration('w', 'webhook', 'webhook'), empty)).toBeUndefined();
  });

  it('every provider in the registry declares the shape its channel reads', () => {
    const shapeOf: Record<ChannelType, string> = {
      email: 'email',
      sms: 'phone',
      chat: 'chat',
      push: 'push',
      webhook: 'url',
    };
    for (const definition of [...PROVIDERS, ...BUILT_IN_PROVIDERS]) {
      expect(definition.address, definition.provider).toBe(shapeOf[definition.channel]);
    }
  });
});

describe('skip and refusal reasons', () => {
  const skip = (reason: string) => ({ outcome: { status: 'skipped', reason }, attempts: [], recipient: null });

  it('skips a subscriber no provider of the channel can reach, before any integration is looked up', () => {
    const none = subscriber();
    expect(beforeIntegrations('email', providersOf('email'), none, deliverable)).toEqual(
      skip('subscriber has no email address'),
    );
    expect(beforeIntegrations('sms', providersOf('sms'), none, deliverable)).toEqual(
      skip('subscriber has no phone number'),
    );
    expect(beforeIntegrations('push', providersOf('push'), none, deliverable)).toEqual(
      skip('subscriber has no push devices'),
    );
    // Chat and webhook addresses may be an integration's default: decided with the integrations.
    expect(beforeIntegrations('chat', providersOf('chat'), none, deliverable)).toBeUndefined();
    expect(beforeIntegrations('webhook', providersOf('webhook'), none, deliverable)).toBeUndefined();
  });

  it('fails an email address no provider could deliver to, naming it as the recipient', () => {
    expect(beforeIntegrations('email', providersOf('email'), subscriber({ email: 'ada@' }), deliverable)).toEqual({
      outcome: { status: 'failed', reason: 'invalid email address: ada@' },
      attempts: [],
      recipient: 'ada@',
    });
    expect(
      beforeIntegrations('email', providersOf('email'), subscriber({ email: 'ada@example.com' }), deliverable),
    ).toBeUndefined();
  });

  it('goes on for a subscriber with devices of any push kind', () => {
    const apnsOnly = subscriber({ push: { apns: ['a1'] } });
    expect(beforeIntegrations('push', providersOf('push'), apnsOnly, deliverable)).toBeUndefined();
  });

  it('skips a channel without an enabled integration', () => {
    expect(routeTo('sms', [], subscriber({ phone: '+14155550100' }))).toEqual(skip('no enabled sms integration'));
    expect(routeTo('chat', [], subscriber({ chat: { slack: 'C1' } }))).toEqual(skip('no enabled chat integration'));
  });

  it('skips a chat message no integration has an address for, naming the providers', () => {
    const candidates = [integration('d', 'chat', 'discord'), integration('t', 'chat', 'teams')];
    expect(routeTo('chat', candidates, subscriber({ chat: { slack: 'C1' } }))).toEqual(
      skip('subscriber has no chat address for discord, teams'),
    );
  });

  it('keeps the chat integrations that reach the subscriber, in priority order (the same array when all do)', () => {
    const slack = integration('s', 'chat', 'slack');
    const telegram = integration('t', 'chat', 'telegram');
    const discord = integration('d', 'chat', 'discord');
    const both = [slack, discord, telegram];
    expect(routeTo('chat', both, subscriber({ chat: { telegram: '42', slack: 'C1' } }))).toEqual([slack, telegram]);
    const all = [slack, telegram];
    expect(routeTo('chat', all, subscriber({ chat: { telegram: '42', slack: 'C1' } }))).toBe(all);
  });

  it('keeps every email and sms integration: they share the address, and the plan names the unusable ones', () => {
    const candidates = [integration('a', 'sms', 'twilio', { unusable: 'credentials do not open' })];
    expect(routeTo('sms', candidates, subscriber({ phone: '+14155550100' }))).toBe(candidates);
  });

  it('lets built-in providers stand in only while the environment has no integration of the channel', () => {
    const devMailbox = [integration('dev-mailbox', 'email', 'dev-mailbox')];
    const smtp = [integration('mail', 'email', 'smtp')];
    expect(candidatesFor([], devMailbox)).toBe(devMailbox);
    expect(candidatesFor(smtp, devMailbox)).toBe(smtp);
  });

  it('sends webhooks to the step URL, else the subscriber’s, else the integration’s, signed by the first integration', () => {
    const hooks = integration('hooks', 'webhook', 'webhook', { config: { url: 'https://default.example.com/in' } });
    const withUrl = subscriber({ webhookUrl: 'https://sub.example.com/in' });
    expect(webhookUrl('https://step.example.com/in', withUrl, hooks)).toBe('https://step.example.com/in');
    expect(webhookUrl(null, withUrl, hooks)).toBe('https://sub.example.com/in');
    expect(webhookUrl(null, subscriber(), hooks)).toBe('https://default.example.com/in');
    expect(webhookUrl(null, subscriber(), integration('bare', 'webhook', 'webhook'))).toEqual(
      skip('no webhook URL: the step has no url, the subscriber no webhookUrl, the integration no url'),
    );
    expect(webhookUrl(null, withUrl, undefined)).toEqual(
      skip(
        'no enabled webhook integration to sign with: PUT /v1/integrations/{id} {"channel": "webhook", "provider": "webhook"}',
      ),
    );
  });

  it("posts the step's body, else the trigger in Herald's shape", () => {
    const request = {
      environmentId: 'env',
      messageId: 'msg_1',
      triggerId: 'trg_1',
      workflowKey: 'welcome',
      subscriber: subscriber(),
      data: { plan: 'pro' },
      rendered: { type: 'webhook', url: null, body: null },
    } satisfies DispatchRequest;
    expect(JSON.parse(webhookBody(request, null))).toEqual({
      workflow: 'welcome',
      triggerId: 'trg_1',
      messageId: 'msg_1',
      subscriberId: 'sub-1',
      data: { plan: 'pro' },
    });
    expect(webhookBody(request, { n: 1 })).toBe('{"n":1}');
  });

  it('delivers in-app messages with their completion, never through a provider', () => {
    const inApp = { type: 'in_app', title: null, body: 'Hi', actionUrl: null, avatarUrl: null, data: null } as const;
    expect(deliveredWithCompletion(inApp)).toBe(true);
    expect(deliveredWithCompletion({ type: 'sms', text: 'Hi' })).toBe(false);
  });
});

describe('guards', () => {
  it('guards sends per integration, per receiver for per-subscriber URLs, and not at all inside Herald', () => {
    expect(guardOf(integration('a', 'sms', 'twilio').definition)).toBe('integration');
    expect(guardOf(integration('a', 'chat', 'slack').definition)).toBe('integration');
    expect(guardOf(integration('h', 'webhook', 'webhook').definition)).toBe('receiver');
    expect(guardOf(integration('d', 'email', 'dev-mailbox').definition)).toBe('none');
  });
});

describe('the attempt plan', () => {
  const breakerOptions = { threshold: 2, cooldownMs: 1_000 };
  const guardOfIntegration = (id: string, breaker = new CircuitBreaker(breakerOptions)): Guard => ({
    name: id,
    breaker,
  });
  const transient = (reason: string, extra: Partial<ProviderOutcome> = {}) =>
    ({ status: 'retry', reason, ...extra }) as ProviderOutcome;

  /** Which of the candidates the plan admits, in order, at the clock's time. */
  function admitted(
    plan: AttemptPlan,
    candidates: { integration: ReturnType<typeof integration>; guard: Guard }[],
    clock: Clock,
  ) {
    return candidates.filter(({ integration, guard }) => plan.admits(integration, guard, clock.now()));
  }

  it('passes over the unusable, the paused and the open in priority order, and says why', () => {
    const clock = fakeClock();
    const broken = integration('broken', 'sms', 'twilio', { unusable: 'credentials do not open' });
    const paused = integration('paused', 'sms', 'twilio');
    paused.pausedUntil = clock.now() + 4_000;
    const open = integration('open', 'sms', 'twilio');
    const openGuard = guardOfIntegration('open');
    openGuard.breaker.failure(clock.now(), 'HTTP 502');
    openGuard.breaker.failure(clock.now(), 'HTTP 502');
    const healthy = integration('healthy', 'sms', 'twilio');
    const candidates = [
      { integration: broken, guard: guardOfIntegration('broken') },
      { integration: paused, guard: guardOfIntegration('paused') },
      { integration: open, guard: openGuard },
      { integration: healthy, guard: guardOfIntegration('healthy') },
    ];
    const plan = new AttemptPlan('sms');
    expect(admitted(plan, candidates, clock).map((c) => c.integration.id)).toEqual(['healthy']);
    expect(plan.exhausted()).toEqual({
      status: 'retry',
      reason:
        'no sms integration could take the message now (skipped broken: credentials do not open; ' +
        "paused: paused by the provider's Retry-After; open: circuit open)",
      retryAfterMs: 4_000,
    });
  });

  it('lets one trial through a half-open breaker once the cool-down has passed, and closes it on success', () => {
    const clock = fakeClock();
    const primary = integration('primary', 'sms', 'twilio');
    const guard = guardOfIntegration('primary');
    guard.breaker.failure(clock.now(), 'timeout');
    guard.breaker.failure(clock.now(), 'timeout');
    expect(guard.breaker.snapshot().state).toBe('open');

    clock.advance(999);
    expect(new AttemptPlan('sms').admits(primary, guard, clock.now())).toBe(false);
    clock.advance(1);
    const trial = new AttemptPlan('sms');
    expect(trial.admits(primary, guard, clock.now())).toBe(true);
    expect(guard.breaker.snapshot().state).toBe('half-open');
    // A second message meanwhile: the one trial is taken.
    expect(new AttemptPlan('sms').admits(primary, guard, clock.now())).toBe(false);
    expect(trial.settle(primary, guard, { status: 'sent' }, clock.now(), false)).toBe(true);
    expect(guard.breaker.snapshot().state).toBe('closed');
  });

  it('opens the breaker again when the trial fails, for another cool-down', () => {
    const clock = fakeClock();
    const primary = integration('primary', 'sms', 'twilio');
    const guard = guardOfIntegration('primary');
    guard.breaker.failure(clock.now(), 'timeout');
    guard.breaker.failure(clock.now(), 'timeout');
    clock.advance(1_000);
    const trial = new AttemptPlan('sms');
    expect(trial.admits(primary, guard, clock.now())).toBe(true);
    expect(trial.settle(primary, guard, transient('HTTP 503'), clock.now(), false)).toBe(false);
    expect(guard.breaker.snapshot()).toMatchObject({ state: 'open', lastFailure: 'HTTP 503' });
    clock.advance(500);
    expect(new AttemptPlan('sms').admits(primary, guard, clock.now())).toBe(false);
  });

  it("pauses an integration for a provider's Retry-After, passes it over meanwhile, and takes it back after", () => {
    const clock = fakeClock();
    const primary = integration('primary', 'sms', 'twilio');
    const guard = guardOfIntegration('primary');
    const first = new AttemptPlan('sms');
    expect(first.admits(primary, guard, clock.now())).toBe(true);
    const throttled = transient('HTTP 429', { retryAfterMs: 5_000, providerAnswered: true });
    expect(first.settle(primary, guard, throttled, clock.now(), false)).toBe(false);
    expect(primary.pausedUntil).toBe(clock.now() + 5_000);
    expect(guard.breaker.snapshot().state).toBe('closed'); // the provider answered: it is up
    expect(first.exhausted()).toMatchObject({ status: 'retry', reason: 'HTTP 429', retryAfterMs: 5_000 });

    clock.advance(1_000);
    const second = new AttemptPlan('sms');
    expect(second.admits(primary, guard, clock.now())).toBe(false);
    expect(second.exhausted()).toMatchObject({ retryAfterMs: 4_000 });
    clock.advance(4_000);
    expect(new AttemptPlan('sms').admits(primary, guard, clock.now())).toBe(true);
  });

  it("does not pause the integration for one receiver's Retry-After", () => {
    const clock = fakeClock();
    const hooks = integration('hooks', 'webhook', 'webhook');
    const receiver = guardOfIntegration('https://a.example.com');
    const plan = new AttemptPlan('webhook', 'wait', false);
    plan.admits(hooks, receiver, clock.now());
    plan.settle(hooks, receiver, transient('HTTP 429', { retryAfterMs: 5_000 }), clock.now(), false);
    expect(hooks.pausedUntil).toBe(0);
  });

  it('tries at most MAX_PROVIDERS_PER_ATTEMPT integrations, and none once the deadline passed', () => {
    const clock = fakeClock();
    const plan = new AttemptPlan('sms');
    for (let i = 0; i < MAX_PROVIDERS_PER_ATTEMPT; i++) {
      expect(plan.more(false)).toBe(true);
      const candidate = integration(`i${i}`, 'sms', 'twilio');
      plan.admits(candidate, guardOfIntegration(candidate.id), clock.now());
      plan.settle(candidate, guardOfIntegration(candidate.id), transient(`down ${i}`), clock.now(), false);
    }
    expect(plan.more(false)).toBe(false);
    expect(new AttemptPlan('sms').more(true)).toBe(false);
    expect(plan.exhausted()).toMatchObject({ status: 'retry', reason: 'down 2' });
  });

  it('tells the breaker: failures count, answers and rejections do not, an aborted send frees the trial', () => {
    const clock = fakeClock();
    const candidate = integration('a', 'sms', 'twilio');
    const guard = guardOfIntegration('a');
    const settle = (outcome: ProviderOutcome, aborted = false) => {
      const plan = new AttemptPlan('sms');
      plan.admits(candidate, guard, clock.now());
      return plan.settle(candidate, guard, outcome, clock.now(), aborted);
    };
    expect(settle({ status: 'failed', reason: 'invalid number' })).toBe(true);
    settle(transient('SMTP 451', { providerAnswered: true }));
    settle(transient('cut short'), true);
    expect(guard.breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    settle(transient('ECONNRESET'));
    settle(transient('ECONNRESET'));
    expect(guard.breaker.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 2 });
  });

  it('waits for a busy first destination, but passes over a busy one after a send, or for a push device', () => {
    const clock = fakeClock();
    const a = integration('a', 'sms', 'twilio');
    const guard = guardOfIntegration('a');
    const waiting = new AttemptPlan('sms');
    waiting.admits(a, guard, clock.now());
    expect(waiting.busy(guard, 8)).toBe(true);

    const afterSend = new AttemptPlan('sms');
    afterSend.admits(a, guard, clock.now());
    afterSend.settle(a, guard, transient('HTTP 503'), clock.now(), false);
    const b = integration('b', 'sms', 'twilio');
    const busyGuard = guardOfIntegration('b');
    afterSend.admits(b, busyGuard, clock.now());
    expect(afterSend.busy(busyGuard, 8)).toBe(false);
    expect(afterSend.exhausted().status === 'retry' && afterSend.exhausted()).toMatchObject({
      reason: 'HTTP 503 (skipped b: 8 sends in flight (its limit))',
    });

    const device = new AttemptPlan('push', 'pass');
    device.admits(a, guardOfIntegration('a'), clock.now());
    expect(device.busy(guardOfIntegration('a'), 8)).toBe(false);
  });

  it('says why a message waits for a busy destination, naming what it passed over', () => {
    expect(waitingFor('hooks', 8, 8, 1_500)).toEqual({
      status: 'retry',
      deferred: true,
      reason: 'waiting for hooks: 8 sends in flight there (--destination-concurrency 8)',
      retryAfterMs: 1_500,
    });
    const clock = fakeClock();
    const plan = new AttemptPlan('sms');
    plan.admits(integration('x', 'sms', 'twilio', { unusable: 'gone' }), undefined, clock.now());
    expect(plan.waitingFor('a', 2, 2, 300)).toMatchObject({
      reason: 'waiting for a: 2 sends in flight there (--destination-concurrency 2) (skipped x: gone)',
    });
  });

  it('passes over an integration over its rate limit until the bucket has a token again', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ limit: 1, intervalMs: 1_000 }, clock.now());
    const limited = integration('limited', 'sms', 'twilio', { limiter });
    const first = new AttemptPlan('sms');
    expect(first.withinRateLimit(limited, undefined, clock.now())).toBe(true);
    const second = new AttemptPlan('sms');
    expect(second.withinRateLimit(limited, undefined, clock.now())).toBe(false);
    expect(second.exhausted()).toEqual({
      status: 'retry',
      reason: 'no sms integration could take the message now (skipped limited: over its rate limit)',
      retryAfterMs: 1_000,
    });
    clock.advance(1_000);
    expect(new AttemptPlan('sms').withinRateLimit(limited, undefined, clock.now())).toBe(true);
  });
});

describe('push fan-out', () => {
  const webpush = integration('wp', 'push', 'webpush');
  const fcmA = integration('fcm-a', 'push', 'fcm');
  const fcmB = integration('fcm-b', 'push', 'fcm');
  const apns = integration('apns', 'push', 'apns');
  const devices = subscriber({ push: { apns: ['a1'], fcm: ['f1', 'f2'], webPush: [WEB_PUSH] } });

  it('sends to every device an enabled integration of its kind can reach, grouped by kind in provider order', () => {
    expect(pushFanOut(providersOf('push'), [apns, fcmA, webpush], devices)).toEqual([
      { kind: 'webPush', subscription: WEB_PUSH },
      { kind: 'fcm', token: 'f1' },
      { kind: 'fcm', token: 'f2' },
      { kind: 'apns', token: 'a1' },
    ]);
    expect(pushFanOut(providersOf('push'), [fcmA], devices)).toEqual([
      { kind: 'fcm', token: 'f1' },
      { kind: 'fcm', token: 'f2' },
    ]);
  });

  it('skips a push no integration can take, naming the device kinds', () => {
    expect(pushFanOut(providersOf('push'), [webpush], subscriber({ push: { apns: ['a1'], fcm: ['f1'] } }))).toEqual({
      outcome: { status: 'skipped', reason: 'no enabled push integration for fcm, apns' },
      attempts: [],
      recipient: null,
    });
  });

  it("routes each device through its kind's integrations, in priority order", () => {
    const all = [fcmA, apns, fcmB, webpush];
    expect(pushCandidates({ kind: 'fcm', token: 'f1' }, all)).toEqual([fcmA, fcmB]);
    expect(pushCandidates({ kind: 'webPush', subscription: WEB_PUSH }, all)).toEqual([webpush]);
  });

  it('makes the whole message wait when the first usable integration of a needed kind is full', () => {
    const usable = pushFanOut(providersOf('push'), [fcmA, apns], devices) as PushDevice[];
    const full = new Set<unknown>([apns]);
    expect(pushWaitsFor(usable, [fcmA, apns], (i) => full.has(i))).toBe(apns);
    expect(pushWaitsFor(usable, [fcmA, apns], () => false)).toBeUndefined();
    // The first of a kind that cannot be used is not waited for: its failover passes it over.
    const broken = integration('fcm-broken', 'push', 'fcm', { unusable: 'bad key' });
    expect(pushWaitsFor(usable, [broken, fcmA], (i) => i === fcmA)).toBe(fcmA);
  });

  it('is sent when one device took it, else retried when one may be, else failed with every reason', () => {
    const f1: PushDevice = { kind: 'fcm', token: 'f1' };
    const f2: PushDevice = { kind: 'fcm', token: 'f2' };
    const sent = { status: 'sent', providerMessageId: 'p2' } as const;
    expect(
      pushOutcome([
        { device: f1, outcome: { status: 'failed', reason: 'gone', gone: true } },
        { device: f2, outcome: sent },
      ]),
    ).toEqual({ status: 'sent', providerMessageId: 'p2', detail: '1 of 2 devices' });
    const retry = { status: 'retry', reason: 'HTTP 503' } as const;
    expect(
      pushOutcome([
        { device: f1, outcome: { status: 'failed', reason: 'bad token' } },
        { device: f2, outcome: retry },
      ]),
    ).toBe(retry);
    expect(
      pushOutcome([
        { device: f1, outcome: { status: 'failed', reason: 'bad token' } },
        { device: f2, outcome: { status: 'failed', reason: 'gone', gone: true } },
      ]),
    ).toEqual({ status: 'failed', reason: 'no device took it: bad token; gone' });
  });

  it('names the devices a provider says are gone, by kind, for removal', () => {
    const gone = (device: PushDevice) => ({
      device,
      outcome: { status: 'failed', reason: 'gone', gone: true } as const,
    });
    expect(
      goneDevices([
        gone({ kind: 'webPush', subscription: WEB_PUSH }),
        { device: { kind: 'fcm', token: 'f1' }, outcome: { status: 'sent' } },
        gone({ kind: 'fcm', token: 'f2' }),
        gone({ kind: 'fcm', token: 'f3' }),
        { device: { kind: 'apns', token: 'a1' }, outcome: { status: 'failed', reason: 'bad topic' } },
      ]),
    ).toEqual([
      { kind: 'webPush', ids: [WEB_PUSH.endpoint] },
      { kind: 'fcm', ids: ['f2', 'f3'] },
    ]);
    expect(goneDevices([{ device: { kind: 'fcm', token: 'f1' }, outcome: { status: 'sent' } }])).toEqual([]);
  });
});

describe('what the log calls the recipient', () => {
  it('redacts URLs past their first path segment, keeps ids, counts devices', () => {
    expect(redactUrl('https://hooks.slack.com/services/T1/B1/secret')).toBe('https://hooks.slack.com/services/…');
    expect(chatRecipient('slack', 'https://hooks.slack.com/services/T1/B1/secret')).toBe(
      'slack:https://hooks.slack.com/services/…',
    );
    expect(chatRecipient('telegram', '42')).toBe('telegram:42');
    expect(devicesRecipient(1)).toBe('1 device');
    expect(devicesRecipient(3)).toBe('3 devices');
  });
});
