import { addressFor, devicesFor, type AddressShape } from './addresses.js';
import type { DispatchRequest, DispatchResult } from './dispatch.js';
import type { RenderedInApp, RenderedStep } from './templates.js';
import type { ChannelType, DeliveryOutcome, ProviderOutcome, PushDevice, Subscriber } from './types.js';

/**
 * The rules of where a message goes: the subscriber's address for a channel (as each provider's
 * shape reads it, core/addresses.ts), why a message goes nowhere (skip reasons), which provider
 * stands in when an environment has none, what guards each send, how a push fans out to devices,
 * and what the log calls the recipient. The dispatcher (channels/dispatcher.ts) asks these and
 * does the sending; the order of attempts is core/attempt-plan.ts.
 *
 * The functions take the integrations as channels hold them, through the few fields they read.
 * None allocates on the way to a send beyond what it returns.
 */

/** What these rules read of an integration, or of a provider when no integration is configured. */
export interface Routable {
  readonly provider: string;
  /** Its provider's definition: where it reads the address, whether it is local. Undefined for an unknown provider. */
  readonly definition: ProviderTraits | undefined;
  /** The opened config (chat and webhook integrations hold default destinations there). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly unusable: string | undefined;
}

/** What a provider definition says about delivery. */
export type ProviderTraits = AddressShape & {
  /**
   * Delivers inside Herald (the dev mailbox writes to Herald's own database): nothing outside to
   * protect, so no breaker, slot limit or Retry-After applies.
   */
  readonly local?: boolean;
};

/** A message of a channel whose providers deliver it; in-app messages never reach a provider. */
export type ProviderChannelStep = Exclude<RenderedStep, { type: 'in_app' }>;

const NO_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The in-app decision: an in-app message is delivered by its own completion. Its inbox item is
 * written in the transaction that records the outcome (core/deliver-job.ts, addedToInbox), so the
 * message is `sent` exactly when the item is in the inbox. A provider would send first and record
 * after, and a crash between the two would lose the item or show it twice; so in-app has no
 * provider, breaker or slot.
 */
export function deliveredWithCompletion(rendered: RenderedStep): rendered is { type: 'in_app' } & RenderedInApp {
  return rendered.type === 'in_app';
}

/** Why a subscriber is skipped, per channel whose address the subscriber holds for every provider. */
const NO_ADDRESS: Partial<Record<ChannelType, string>> = {
  email: 'subscriber has no email address',
  sms: 'subscriber has no phone number',
  push: 'subscriber has no push devices',
};

/**
 * Before any integration is looked up: a subscriber none of the channel's providers (`shapes`,
 * every provider Herald has for it) finds an address for is skipped; an email address that
 * cannot be delivered to fails the message (no provider could take it, and no retry would help).
 * Chat and webhook addresses may come from an integration's config: they are decided with the
 * integrations (routeTo, webhookUrl). Undefined: go on.
 */
export function beforeIntegrations(
  channel: ChannelType,
  shapes: readonly AddressShape[],
  subscriber: Subscriber,
  isDeliverableEmail: (address: string) => boolean,
): DispatchResult | undefined {
  const missing = NO_ADDRESS[channel];
  if (!missing) return undefined;
  for (const shape of shapes) {
    if (shape.address === 'push') {
      if ((subscriber.push?.[shape.pushKind]?.length ?? 0) > 0) return undefined;
      continue;
    }
    const address = addressFor(shape, subscriber, NO_CONFIG);
    if (address === undefined) continue;
    if (shape.address === 'email' && !isDeliverableEmail(address)) {
      return refused('failed', `invalid email address: ${address}`, address);
    }
    return undefined;
  }
  return refused('skipped', missing);
}

/**
 * The integrations a message may use: the environment's enabled ones of the channel, in priority
 * order; when it has none, the built-in providers that stand in for them (the dev mailbox for
 * email, so that a fresh Herald shows what it would have sent: GET /v1/dev/mail).
 */
export function candidatesFor<I>(found: readonly I[], builtIns: readonly I[]): readonly I[] {
  return found.length > 0 ? found : builtIns;
}

/**
 * Of the candidates, those that find an address for the subscriber, in the same order; a refusal
 * when there are none, or none reaches the subscriber. Every email and sms provider reads the
 * subscriber's one address of the channel (their shapes say so: ChannelAddressShapes), which
 * beforeIntegrations found: they all go on, and the plan passes over the unusable ones, naming
 * them. A chat address is the provider's own, or its integration's default: those without one
 * drop out (the very array is returned when none does).
 */
export function routeTo<I extends Routable>(
  channel: 'email' | 'sms' | 'chat',
  candidates: readonly I[],
  subscriber: Subscriber,
): readonly I[] | DispatchResult {
  if (candidates.length === 0) return refused('skipped', `no enabled ${channel} integration`);
  if (channel !== 'chat') return candidates;
  let reaching = 0;
  for (const candidate of candidates) if (textAddress(candidate, subscriber) !== undefined) reaching++;
  if (reaching === candidates.length) return candidates;
  if (reaching === 0) {
    const providers = candidates.map((candidate) => candidate.provider).join(', ');
    return refused('skipped', `subscriber has no chat address for ${providers}`);
  }
  return candidates.filter((candidate) => textAddress(candidate, subscriber) !== undefined);
}

/** The address a candidate's provider reads for the subscriber (email, sms, chat, webhook), or undefined. */
export function textAddress(candidate: Routable, subscriber: Subscriber): string | undefined {
  const shape = candidate.definition;
  if (!shape || shape.address === 'push') return undefined;
  return addressFor(shape, subscriber, candidate.config);
}

/** What protects a send through a provider: see Guard in attempt-plan.ts. */
export type GuardKind = 'integration' | 'receiver' | 'none';

/**
 * A provider that delivers inside Herald has nothing to guard; one that sends to a URL of the
 * subscriber's own (webhooks) is guarded per receiver (the URL's origin), since one receiver that
 * hangs says nothing of the others; every other send is guarded per integration.
 */
export function guardOf(definition: ProviderTraits | undefined): GuardKind {
  if (definition?.local) return 'none';
  return definition?.address === 'url' ? 'receiver' : 'integration';
}

/**
 * Where a webhook goes: the step's rendered URL, else the subscriber's (`webhookUrl`), else the
 * integration's default (`config.url`). Only the first enabled webhook integration (`signer`)
 * signs: webhooks do not fail over, there is one receiver. A refusal when there is no URL, or
 * nothing to sign with.
 */
export function webhookUrl<I extends Routable>(
  stepUrl: string | null,
  subscriber: Subscriber,
  signer: I | undefined,
): string | DispatchResult {
  const url = stepUrl || (signer ? textAddress(signer, subscriber) : subscriber.webhookUrl || undefined);
  if (!url) {
    return refused(
      'skipped',
      'no webhook URL: the step has no url, the subscriber no webhookUrl, the integration no url',
    );
  }
  if (!signer) {
    return refused(
      'skipped',
      'no enabled webhook integration to sign with: PUT /v1/integrations/{id} {"channel": "webhook", "provider": "webhook"}',
    );
  }
  return url;
}

/** A webhook's JSON body: the step's rendered body, else the trigger in Herald's own shape. */
export function webhookBody(request: DispatchRequest, body: unknown): string {
  return JSON.stringify(
    body ?? {
      workflow: request.workflowKey,
      triggerId: request.triggerId,
      messageId: request.messageId,
      subscriberId: request.subscriber.subscriberId,
      data: request.data,
    },
  );
}

/** The integration's push device kind, or undefined for a provider of another channel. */
function pushKindOf(candidate: Routable): PushDevice['kind'] | undefined {
  return candidate.definition?.address === 'push' ? candidate.definition.pushKind : undefined;
}

/**
 * Push fan-out: the subscriber's devices that an enabled integration of their kind can reach, in
 * the order of the channel's providers (`shapes`; a kind listed twice is read once); a refusal
 * naming the kinds when none can.
 */
export function pushFanOut<I extends Routable>(
  shapes: readonly AddressShape[],
  candidates: readonly I[],
  subscriber: Subscriber,
): PushDevice[] | DispatchResult {
  const devices: PushDevice[] = [];
  for (let i = 0; i < shapes.length; i++) {
    const shape = shapes[i]!;
    if (shape.address !== 'push') continue;
    const kind = shape.pushKind;
    if (shapes.findIndex((other) => other.address === 'push' && other.pushKind === kind) !== i) continue;
    if (candidates.some((candidate) => pushKindOf(candidate) === kind)) devicesFor(shape, subscriber, devices);
  }
  if (devices.length > 0) return devices;
  const kinds: string[] = [];
  for (const shape of shapes) {
    if (shape.address !== 'push' || kinds.includes(shape.pushKind)) continue;
    if ((subscriber.push?.[shape.pushKind]?.length ?? 0) > 0) kinds.push(shape.pushKind);
  }
  return refused('skipped', `no enabled push integration for ${kinds.join(', ')}`);
}

/** The integrations one device's push may go through, in priority order: those of its kind. */
export function pushCandidates<I extends Routable>(device: PushDevice, candidates: readonly I[]): I[] {
  return candidates.filter((candidate) => pushKindOf(candidate) === device.kind);
}

/**
 * Every device gets the message in the same attempt, or none does: when the first usable
 * integration of a kind the devices need is at its slot limit, the whole message waits for it
 * (nothing sent yet). Returns that integration, or undefined to go on. The devices come grouped by
 * kind (pushFanOut), so a kind's first device is where the kind changes.
 */
export function pushWaitsFor<I extends Routable>(
  devices: readonly PushDevice[],
  candidates: readonly I[],
  isFull: (integration: I) => boolean,
): I | undefined {
  for (let i = 0; i < devices.length; i++) {
    const kind = devices[i]!.kind;
    if (i > 0 && devices[i - 1]!.kind === kind) continue;
    const first = candidates.find((candidate) => pushKindOf(candidate) === kind && !candidate.unusable);
    if (first && isFull(first)) return first;
  }
  return undefined;
}

/** One device's outcome after its failover. */
export interface DeviceOutcome {
  device: PushDevice;
  outcome: ProviderOutcome;
}

/**
 * A push's outcome from its devices': sent when one device took it (its detail says how many
 * did), else the first retry, else failed with every device's reason.
 */
export function pushOutcome(results: readonly DeviceOutcome[]): DeliveryOutcome {
  let sent = 0;
  let providerMessageId: string | undefined;
  let retry: DeliveryOutcome | undefined;
  for (const { outcome } of results) {
    if (outcome.status === 'sent') {
      sent++;
      providerMessageId ||= outcome.providerMessageId;
    } else if (outcome.status === 'retry') retry ??= outcome;
  }
  if (sent > 0) {
    return { status: 'sent', providerMessageId, detail: `${sent} of ${results.length} devices` };
  }
  if (retry) return retry;
  const reasons = results.map((result) => (result.outcome as { reason: string }).reason);
  return { status: 'failed', reason: `no device took it: ${reasons.join('; ')}`.slice(0, 1000) };
}

/**
 * The devices whose provider said they are gone for good (an unregistered token): removed from
 * the subscriber, by kind. Empty (and allocation-free) when none is.
 */
export function goneDevices(results: readonly DeviceOutcome[]): { kind: PushDevice['kind']; ids: string[] }[] {
  let gone: { kind: PushDevice['kind']; ids: string[] }[] | undefined;
  for (const { device, outcome } of results) {
    if (outcome.status !== 'failed' || !('gone' in outcome) || !outcome.gone) continue;
    gone ??= [];
    let entry = gone.find((group) => group.kind === device.kind);
    if (!entry) gone.push((entry = { kind: device.kind, ids: [] }));
    entry.ids.push(device.kind === 'webPush' ? device.subscription.endpoint : device.token);
  }
  return gone ?? NONE_GONE;
}

const NONE_GONE: { kind: PushDevice['kind']; ids: string[] }[] = [];

/** The recipient the log shows for a chat destination: a URL redacted, an id as it is. */
export function chatRecipient(provider: string, destination: string): string {
  return `${provider}:${/^https?:/.test(destination) ? redactUrl(destination) : destination}`;
}

/** The recipient the log shows for a push: how many devices. */
export function devicesRecipient(count: number): string {
  return `${count} ${count === 1 ? 'device' : 'devices'}`;
}

/** A URL for the log: its origin and first path segment; the rest often holds a token. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const segments = url.pathname.split('/').filter(Boolean);
    return `${url.origin}/${segments[0] ?? ''}${segments.length > 1 ? '/…' : ''}`;
  } catch {
    return raw.slice(0, 40);
  }
}

/** A message that goes nowhere: skipped (nothing to retry), or failed with the address it was refused for. */
export function refused(status: 'skipped' | 'failed', reason: string, recipient: string | null = null): DispatchResult {
  return { outcome: { status, reason }, attempts: [], recipient };
}
