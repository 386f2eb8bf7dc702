import type { CompletedAttempt } from '../core/store.js';
import type { CircuitBreaker } from '../core/circuit-breaker.js';
import type { DestinationGate, GateLease } from './destination-gate.js';
import type { LiveIntegration } from './integration-directory.js';
import type { ProviderOutcome } from './provider.js';

/** Integrations tried per attempt at most: failover within one attempt stays bounded in time. */
export const MAX_PROVIDERS_PER_ATTEMPT = 3;

/** Where a send goes, as far as breakers and slot limits are concerned. */
export interface Destination {
  /** For the log: the integration id, or a webhook receiver's origin. */
  name: string;
  breaker: CircuitBreaker;
  gate: DestinationGate;
}

export interface FailoverOptions {
  /**
   * The destination a send through this integration goes to; by default the integration itself.
   * Webhooks name their receiver's origin; undefined for a URL that names none (refused anyway).
   */
  destinationOf?(integration: LiveIntegration): Destination | undefined;
  /**
   * true: a provider's Retry-After pauses the whole integration (it speaks for every message).
   * false for webhooks: one receiver's throttling says nothing of another's.
   */
  pausesIntegration?: boolean;
  /**
   * 'defer': when the first integration to try is at its limit, the message waits for it (put
   * back in the queue, not failed over: a busy provider is not a failing one). 'skip': it is
   * passed over like an open one — push, whose devices must all go in the same attempt.
   */
  whenBusy?: 'defer' | 'skip';
  /** Slots already held by this message (push: several devices through one integration hold one). */
  held?: SharedLeases;
  /** Called after each send, when its slot is freed and its breaker told (webhooks forget healthy receivers). */
  settled?(destination: Destination): void;
}

export interface FailoverResult {
  outcome: ProviderOutcome;
  attempts: CompletedAttempt[];
  via?: LiveIntegration;
}

export function outcomeDetail(outcome: ProviderOutcome): string {
  return outcome.status === 'sent' ? (outcome.detail ?? outcome.providerMessageId ?? 'accepted') : outcome.reason;
}

/** The integration as its own destination. */
function itself(integration: LiveIntegration): Destination {
  return { name: integration.id, breaker: integration.breaker, gate: integration.gate };
}

/** Why a message waits for a busy destination, and for how long. */
export function waitingFor(destination: Destination, note = ''): ProviderOutcome {
  const { gate } = destination;
  return {
    status: 'retry',
    deferred: true,
    reason:
      `waiting for ${destination.name}: ${gate.busy} sends in flight there ` +
      `(--destination-concurrency ${gate.limit})${note}`,
    retryAfterMs: gate.deferMs(),
  };
}

/**
 * Tries the integrations in order until one takes the message or rejects it for good. An open
 * breaker, a provider's Retry-After or an exhausted rate limit skip an integration at once; a
 * destination at its limit makes the message wait (see FailoverOptions.whenBusy).
 */
export async function failover(
  candidates: readonly LiveIntegration[],
  channel: string,
  send: (integration: LiveIntegration) => Promise<ProviderOutcome>,
  signal: AbortSignal,
  clock: { now(): number },
  options: FailoverOptions = {},
): Promise<FailoverResult> {
  const { pausesIntegration = true, whenBusy = 'defer' } = options;
  const attempts: CompletedAttempt[] = [];
  const skipped: string[] = [];
  const waits: number[] = [];
  const note = () => (skipped.length > 0 ? ` (skipped ${skipped.join('; ')})` : '');
  let lastRetry: Extract<ProviderOutcome, { status: 'retry' }> | undefined;
  for (const integration of candidates) {
    if (attempts.length >= MAX_PROVIDERS_PER_ATTEMPT || signal.aborted) break;
    const now = clock.now();
    if (integration.unusable) {
      skipped.push(`${integration.id}: ${integration.unusable}`);
      continue;
    }
    if (integration.pausedUntil > now) {
      skipped.push(`${integration.id}: paused by the provider's Retry-After`);
      waits.push(integration.pausedUntil - now);
      continue;
    }
    const destination = options.destinationOf ? options.destinationOf(integration) : itself(integration);
    if (destination && !destination.breaker.tryAcquire(now)) {
      skipped.push(`${destination.name}: circuit open`);
      continue;
    }
    let lease: GateLease | undefined;
    if (destination) {
      lease = options.held
        ? options.held.take(destination.gate)
        : whenBusy === 'defer'
          ? await destination.gate.acquire(signal)
          : destination.gate.tryAcquire();
      if (!lease) {
        destination.breaker.release();
        if (whenBusy === 'defer' && attempts.length === 0) {
          return { outcome: waitingFor(destination, note()), attempts };
        }
        skipped.push(`${destination.name}: ${destination.gate.busy} sends in flight (its limit)`);
        continue;
      }
    }
    const wait = integration.limiter?.take(clock.now()) ?? 0;
    if (wait > 0) {
      lease?.release();
      destination?.breaker.release();
      skipped.push(`${integration.id}: over its rate limit`);
      waits.push(wait);
      continue;
    }
    const started = clock.now();
    let outcome: ProviderOutcome;
    try {
      outcome = await send(integration);
    } finally {
      lease?.release();
    }
    const at = clock.now();
    attempts.push({
      at: started,
      outcome: outcome.status,
      detail: outcomeDetail(outcome),
      durationMs: at - started,
      integrationId: integration.id,
      provider: integration.provider,
    });
    if (destination) {
      // A rejection is an answer too: the provider is up. Cut short by the job's deadline, or
      // answered by a provider that is up (a 429, an SMTP 4xx): not a breaker failure either.
      if (outcome.status !== 'retry') destination.breaker.success(at);
      else if (signal.aborted) destination.breaker.release();
      else if (outcome.providerAnswered) destination.breaker.success(at);
      else destination.breaker.failure(at, outcome.reason);
      options.settled?.(destination);
    }
    if (outcome.status !== 'retry') return { outcome, attempts, via: integration };
    if (pausesIntegration && outcome.retryAfterMs) integration.pausedUntil = at + outcome.retryAfterMs;
    lastRetry = outcome;
  }
  if (lastRetry) return { outcome: { ...lastRetry, reason: `${lastRetry.reason}${note()}` }, attempts };
  return {
    outcome: {
      status: 'retry',
      reason: `no ${channel} integration could take the message now${note()}`,
      retryAfterMs: waits.length > 0 ? Math.min(...waits) : undefined,
    },
    attempts,
  };
}

/**
 * Slots one message holds, by destination: a push to five devices through one integration holds
 * one slot of it, not five. Each take of a held gate shares its lease; the last release frees it.
 */
export class SharedLeases {
  private readonly held = new Map<DestinationGate, { lease: GateLease; count: number }>();

  take(gate: DestinationGate): GateLease | undefined {
    let entry = this.held.get(gate);
    if (!entry) {
      const lease = gate.tryAcquire();
      if (!lease) return undefined;
      entry = { lease, count: 0 };
      this.held.set(gate, entry);
    }
    entry.count++;
    const shared = entry;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (--shared.count === 0) {
          this.held.delete(gate);
          shared.lease.release();
        }
      },
    };
  }
}
