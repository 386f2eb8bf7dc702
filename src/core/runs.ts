import type { DigestContext } from './templates.js';
import type { Message, MessageChannel, MessageStatus, Page, Subscriber } from './types.js';

/** The shapes of workflow runs as the run engine, the stores and the API exchange them. */

/** One recipient's run, as the trigger starts it. */
export interface PlannedRun {
  id: string;
  subscriberId: string;
}

/**
 * Where every run of a trigger starts (see core/run-engine.ts startOfRuns): `completed` when the
 * leading sends were the whole workflow; otherwise the run engine looks at `stepIndex` at `dueAt`.
 */
export interface RunStart {
  state: 'completed' | 'active' | 'scheduled';
  stepIndex: number;
  /** When the engine takes the run up (a timer); null when completed. */
  dueAt: number | null;
}

/** Every state of a run (see core/run-engine.ts). */
export const RUN_STATES = [
  'scheduled',
  'active',
  'waiting',
  'digesting',
  'completed',
  'canceled',
  'throttled',
  'digested',
  'failed',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/** A run handed to a worker, to take it as far as it goes now (core/run-engine.ts advanceRun). */
export interface ClaimedRun {
  kind: 'run';
  /** The run's timer (its id is the run's). */
  timerId: string;
  runId: string;
  environmentId: string;
  triggerId: string;
  workflowKey: string;
  workflowVersionId: string;
  /** `scheduled`, `active` (look at stepIndex) or `waiting` (the delay at stepIndex is over). */
  state: RunState;
  stepIndex: number;
  subscriber: Subscriber | null;
  data: Record<string, unknown>;
  digest: DigestContext | null;
  /**
   * The run's messages, one per sending step. `failedAttempts` tells a message that is `retrying`
   * after a failed attempt (> 0) from one only deferred so far (0: quiet hours, a busy destination).
   */
  messages: { id: string; stepIndex: number; status: MessageStatus; failedAttempts: number }[];
}

/** A digest whose window is over, to close (RunStore.closeDigests). */
export interface ClaimedDigest {
  kind: 'digest';
  timerId: string;
  digestId: string;
  environmentId: string;
}

export type ClaimedTimer = ClaimedRun | ClaimedDigest;

/** What the run engine decided for one claimed run, applied by the store in one transaction. */
export interface RunAdvance {
  runId: string;
  workerId: string;
  /** The step the run was at when claimed: the advance applies only if it still is. */
  fromStepIndex: number;
  /** Messages the run reached and sends now (pending → queued, with a job). */
  dispatched: string[];
  /** Messages whose step the run passed without sending, with why. */
  skipped: { messageId: string; reason: string }[];
  next: RunNext;
}

export type RunNext =
  /** Every step walked: the run is completed, past its last step (`stepIndex`: the step count). */
  | { kind: 'completed'; stepIndex: number }
  /** A delay: the run waits at `stepIndex` until `until`, then passes it. */
  | { kind: 'sleep'; stepIndex: number; until: number }
  /** Look at `stepIndex` again at `at` (a condition waits for earlier sends' outcomes). */
  | { kind: 'recheck'; stepIndex: number; at: number }
  /**
   * A digest step: join the open digest of `scope` (the run waits in it, `digesting`) or open one
   * closing at `closesAt`. `first-now`: the run that opens one goes on at once, past the step, with
   * `opener` as its digest; the events after it are digested.
   */
  | {
      kind: 'digest';
      stepIndex: number;
      scope: string;
      closesAt: number;
      mode: 'batch' | 'first-now';
      opener: DigestContext;
    }
  /**
   * A throttle step: past `limit` runs of `scope` since `windowStart`, the run ends `throttled`
   * (its pending messages too, with `reason`); otherwise it is counted and goes on past the step.
   */
  | { kind: 'throttle'; stepIndex: number; scope: string; limit: number; windowStart: number; reason: string }
  /** The run cannot go on (e.g. a delay's time is not a time): it and its pending messages fail. */
  | { kind: 'failed'; reason: string };

/** Message statuses a batch of run work changed, for metrics. */
export interface RunWorkResult {
  statuses: { channel: MessageChannel; status: MessageStatus }[];
}

/** A trigger and its runs, for GET /v1/triggers/{triggerId}. */
export interface TriggerDetails {
  triggerId: string;
  workflowKey: string;
  workflowVersionId: string;
  data: Record<string, unknown>;
  sendAt: number | null;
  cancellationKey: string | null;
  createdAt: number;
  runs: Page<RunDetails>;
}

export interface RunDetails {
  runId: string;
  subscriberId: string;
  state: RunState;
  stepIndex: number;
  /** When the run moves next (its timer), null when nothing is scheduled. */
  dueAt: number | null;
  reason: string | null;
  digest: DigestContext | null;
  messages: Message[];
  createdAt: number;
  updatedAt: number;
}
