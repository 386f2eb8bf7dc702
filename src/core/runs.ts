import type { DigestContext } from './templates.js';
import type { Message, MessageChannel, MessageStatus, Page, Subscriber } from './types.js';

/** The shapes of workflow runs as the run engine, the stores and the API exchange them. */

/** One message a trigger (or a fan-out page) plans: one per recipient and sending step. */
export interface PlannedMessage {
  id: string;
  subscriberId: string;
  stepIndex: number;
  channel: MessageChannel;
  /** `queued`: sent now (a job is written with it); `pending`: its run has not reached it yet. */
  status: 'queued' | 'pending';
}

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

/**
 * A trigger's fan-out to its topics, handed to a worker with the next page of their members (see
 * core/fan-out.ts): its timer's id is the trigger's.
 */
export interface ClaimedFanout {
  kind: 'fanout';
  timerId: string;
  triggerId: string;
  environmentId: string;
  workflowKey: string;
  workflowVersionId: string;
  sendAt: number | null;
  /** The trigger's actor, left out of the audience. */
  actorId: string | null;
  /** The last subscriber id a committed page reached ('' before the first page). */
  cursor: string;
  /**
   * The next members of the trigger's topics after `cursor`, by subscriber id, each once: at most
   * FANOUT_PAGE_SIZE, and fewer only when these are the last.
   */
  members: string[];
}

export type ClaimedTimer = ClaimedRun | ClaimedDigest | ClaimedFanout;

/**
 * One page of a fan-out, as core/fan-out.ts planned it: the store writes its runs, messages and
 * jobs with the advanced cursor in one transaction, only if the worker still holds the fan-out and
 * its cursor is still `fromCursor`. A member who already has a run of the trigger (named directly
 * in `to`) gets nothing more.
 */
export interface FanoutAdvance {
  triggerId: string;
  environmentId: string;
  workflowKey: string;
  workflowVersionId: string;
  workerId: string;
  fromCursor: string;
  /** Where the next page starts. */
  cursor: string;
  /** No member is left after `cursor`: the fan-out is over once this page is written. */
  done: boolean;
  runs: PlannedRun[];
  messages: PlannedMessage[];
  start: RunStart;
}

/** What a batch of fan-out pages wrote. */
export interface FanoutWorkResult {
  /** Runs written (members who had none yet). */
  runs: number;
  /** Messages written, and how many of them were queued for sending at once. */
  messages: number;
  queued: number;
}

export const FANOUT_STATES = ['running', 'done', 'canceled'] as const;
export type FanoutState = (typeof FANOUT_STATES)[number];

/** A trigger's fan-out as GET /v1/triggers/{triggerId} shows it. */
export interface FanoutProgress {
  topics: string[];
  state: FanoutState;
  /** Runs the trigger has started so far: its direct recipients and the topic members reached. */
  recipients: number;
  finishedAt: number | null;
}

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
  /** The subscriber left out of the audience. */
  actor: string | null;
  /** Null when `to` named no topic. */
  fanout: FanoutProgress | null;
  /** A test send (POST /v1/workflows/{key}/test, core/test-send.ts). */
  test: boolean;
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
