import type { CircuitBreaker } from './circuit-breaker.js';
import type { RateLimiter } from './rate-limiter.js';
import type { DeliveryOutcome, ProviderOutcome } from './types.js';

/** Integrations tried per attempt at most: failover within one attempt stays bounded in time. */
export const MAX_PROVIDERS_PER_ATTEMPT = 3;

/** What the plan needs to know of an integration (channels' LiveIntegration has this and more). */
export interface PlannedIntegration {
  readonly id: string;
  /** Why it cannot be used (credentials do not open, config no longer valid): passed over. */
  readonly unusable: string | undefined;
  /** A provider's Retry-After: passed over until then. The plan sets it. */
  pausedUntil: number;
  readonly limiter: RateLimiter | undefined;
}

/**
 * What protects the place a send goes to: an integration, or one receiver of a per-subscriber URL
 * (guardOf in delivery-policy.ts). Undefined for a send that goes nowhere outside Herald.
 */
export interface Guard {
  /** For the log: the integration id, or the receiver's origin. */
  readonly name: string;
  readonly breaker: CircuitBreaker;
}

/** When the destination to try has every slot taken: the message waits for it, or passes it over. */
export type WhenBusy = 'wait' | 'pass';

type Retry = Extract<DeliveryOutcome, { status: 'retry' }>;

/**
 * The failover plan of one attempt at one message. The integrations come in priority order; each
 * is tried or passed over at the moment it is reached (its breaker, pause and rate limit then,
 * not when the attempt began), and at most MAX_PROVIDERS_PER_ATTEMPT are sent to. The
 * dispatcher walks the candidates and asks the plan at each step; it holds the mechanics (slots,
 * the call, its timing), the plan every decision:
 *
 * 1. `more`: may another integration be tried?
 * 2. `admits`: not unusable, not paused by a Retry-After, its breaker lets a send through.
 * 3. (the dispatcher takes a slot of the destination) — none free: `busy` says wait or pass over.
 * 4. `withinRateLimit`: a token of the integration's rate limit, taken only once a slot is held,
 *    so that a busy destination costs no token.
 * 5. (the dispatcher sends) — `settle`: the breaker told, a Retry-After pauses the integration;
 *    true when the outcome is final for this attempt (sent, or failed for good).
 * 6. `exhausted`: the outcome when none took the message.
 *
 * One plan per message attempt; the reasons integrations were passed over are kept only once
 * there is one.
 */
export class AttemptPlan {
  private sends = 0;
  private skipped: string[] | undefined;
  private shortestWait: number | undefined;
  private lastRetry: Retry | undefined;

  constructor(
    private readonly channel: string,
    /** 'wait' for a message that can wait as a whole; 'pass' for a push device, whose siblings go now. */
    readonly whenBusy: WhenBusy = 'wait',
    /**
     * true: a provider's Retry-After pauses the integration (it speaks for every message). false
     * when the guard is a receiver: one receiver's throttling says nothing of another's.
     */
    private readonly pausesIntegration = true,
  ) {}

  /** Another integration may be tried: fewer than MAX_PROVIDERS_PER_ATTEMPT sent to, the deadline not passed. */
  more(aborted: boolean): boolean {
    return this.sends < MAX_PROVIDERS_PER_ATTEMPT && !aborted;
  }

  /**
   * Whether to go on with this integration before any slot is taken: not unusable, not paused, and
   * its guard's breaker lets a send through (closed, or half-open with its one trial free — which
   * this takes). Passed over otherwise, the reason noted.
   */
  admits(integration: PlannedIntegration, guard: Guard | undefined, now: number): boolean {
    if (integration.unusable) return this.pass(`${integration.id}: ${integration.unusable}`);
    if (integration.pausedUntil > now) {
      return this.pass(`${integration.id}: paused by the provider's Retry-After`, integration.pausedUntil - now);
    }
    if (guard && !guard.breaker.tryAcquire(now)) return this.pass(`${guard.name}: circuit open`);
    return true;
  }

  /**
   * The destination has every slot taken. true: the message waits for it (a deferred retry; see
   * waitingFor) — when waiting is allowed and nothing was sent yet. false: passed over, like an
   * open one. Either way the breaker's trial, if it took one, is handed back.
   */
  busy(guard: Guard, inFlight: number): boolean {
    guard.breaker.release();
    if (this.whenBusy === 'wait' && this.sends === 0) return true;
    return this.pass(`${guard.name}: ${inFlight} sends in flight (its limit)`);
  }

  /**
   * Takes a token of the integration's rate limit; without one it is passed over (the breaker's
   * trial handed back) and the message can retry when the bucket has one again.
   */
  withinRateLimit(integration: PlannedIntegration, guard: Guard | undefined, now: number): boolean {
    const wait = integration.limiter?.take(now) ?? 0;
    if (wait <= 0) return true;
    guard?.breaker.release();
    return this.pass(`${integration.id}: over its rate limit`, wait);
  }

  /**
   * After a send: tells the guard's breaker, and pauses the integration on a Retry-After. A
   * rejection is an answer too (the provider is up), and so is a retry the provider answered (a
   * 429, an SMTP 4xx); a send cut short by the job's deadline says nothing either way. Returns
   * true when the outcome is final for this attempt.
   */
  settle(
    integration: PlannedIntegration,
    guard: Guard | undefined,
    outcome: ProviderOutcome,
    at: number,
    aborted: boolean,
  ): boolean {
    this.sends++;
    if (guard) {
      if (outcome.status !== 'retry') guard.breaker.success(at);
      else if (aborted) guard.breaker.release();
      else if (outcome.providerAnswered) guard.breaker.success(at);
      else guard.breaker.failure(at, outcome.reason);
    }
    if (outcome.status !== 'retry') return true;
    if (this.pausesIntegration && outcome.retryAfterMs) integration.pausedUntil = at + outcome.retryAfterMs;
    this.lastRetry = outcome;
    return false;
  }

  /** The outcome when no integration took the message: the last one's retry, else a retry when one may. */
  exhausted(): ProviderOutcome {
    const note = this.note();
    if (this.lastRetry) return { ...this.lastRetry, reason: `${this.lastRetry.reason}${note}` };
    return {
      status: 'retry',
      reason: `no ${this.channel} integration could take the message now${note}`,
      retryAfterMs: this.shortestWait,
    };
  }

  /** Why the message waits for a busy destination (see the function below), naming what was passed over. */
  waitingFor(name: string, inFlight: number, limit: number, deferMs: number): ProviderOutcome {
    return waitingFor(name, inFlight, limit, deferMs, this.note());
  }

  /** The integrations passed over so far, for a reason. */
  private note(): string {
    return this.skipped ? ` (skipped ${this.skipped.join('; ')})` : '';
  }

  private pass(reason: string, waitMs?: number): false {
    (this.skipped ??= []).push(reason);
    if (waitMs !== undefined && (this.shortestWait === undefined || waitMs < this.shortestWait)) {
      this.shortestWait = waitMs;
    }
    return false;
  }
}

/** What the log says a send answered. */
export function outcomeDetail(outcome: ProviderOutcome): string {
  return outcome.status === 'sent' ? (outcome.detail ?? outcome.providerMessageId ?? 'accepted') : outcome.reason;
}

/**
 * Why a message waits for a busy destination, and for how long: `deferMs`, its turn there. A
 * deferred retry: nothing was sent, so it does not count against the retry schedule.
 */
export function waitingFor(name: string, inFlight: number, limit: number, deferMs: number, note = ''): ProviderOutcome {
  return {
    status: 'retry',
    deferred: true,
    reason: `waiting for ${name}: ${inFlight} sends in flight there (--destination-concurrency ${limit})${note}`,
    retryAfterMs: deferMs,
  };
}
