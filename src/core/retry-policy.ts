import type { DeliveryOutcome } from './types.js';

export interface RetryPolicy {
  /** Delays before retry 1, 2, …; when they run out the message fails. */
  schedule: readonly number[];
  /** Each delay is scaled by a factor drawn from [1 - jitter, 1 + jitter]. */
  jitter: number;
}

export const DEFAULT_RETRY_SCHEDULE = '5s,30s,2m,10m,30m,1h,3h,6h';

/** Providers asking for more than this are clamped, so one header cannot park a message for years. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

export type NextStep =
  | { kind: 'done'; status: 'sent' | 'failed'; reason: string | null }
  | { kind: 'retry'; runAt: number; reason: string; deferred?: boolean };

/** A message put back for a busy destination without a time given comes back after this long. */
export const DEFAULT_DEFER_MS = 1_000;

/**
 * Decides what follows an attempt. `failedAttempts` counts earlier attempts that were not sent;
 * `random` is a number in [0, 1) so tests can pin jitter.
 */
export function nextStep(
  outcome: DeliveryOutcome,
  failedAttempts: number,
  now: number,
  policy: RetryPolicy,
  random: number,
): NextStep {
  if (outcome.status === 'sent') return { kind: 'done', status: 'sent', reason: null };
  if (outcome.status === 'failed') return { kind: 'done', status: 'failed', reason: outcome.reason };
  // Waiting for a busy destination is not a failure: the schedule stays where it was, and the
  // message comes back when the destination should have a free slot (spread by `random`).
  if (outcome.deferred) {
    const wait = Math.min(outcome.retryAfterMs ?? DEFAULT_DEFER_MS, MAX_RETRY_AFTER_MS);
    return {
      kind: 'retry',
      runAt: now + Math.round(wait * (1 - policy.jitter + 2 * policy.jitter * random)),
      reason: outcome.reason,
      deferred: true,
    };
  }
  const base = policy.schedule[failedAttempts];
  if (base === undefined) {
    const attempts = failedAttempts + 1;
    return {
      kind: 'done',
      status: 'failed',
      reason: `gave up after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}: ${outcome.reason}`,
    };
  }
  const jittered = base * (1 - policy.jitter + 2 * policy.jitter * random);
  const asked = outcome.retryAfterMs === undefined ? 0 : Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS);
  return { kind: 'retry', runAt: now + Math.round(Math.max(jittered, asked)), reason: outcome.reason };
}
