import { parseDuration } from './durations.js';
import type { FieldError } from './errors.js';
import { timeZoneOr } from './local-time.js';
import { checkSendWindow, nextScheduled, parseSchedule, quietHoursEnd, sendWindowOpensAt } from './send-times.js';
import type { WorkflowVersion } from './store.js';
import { newId } from './ids.js';
import type { ClaimedRun, PlannedMessage, PlannedRun, RunAdvance, RunNext, RunStart } from './runs.js';
import { renderRunPart, type CompiledRunPart, type DigestContext } from './templates.js';
import { isSendingStep, type MessageChannel, type MessageStatus, type WorkflowStep } from './types.js';

/**
 * The run engine: the rules of a run, as plain functions over what the store read. A trigger
 * starts one run per recipient; a run walks its workflow version's steps in order:
 *
 * - a sending step sends its message and the run goes on at once (it does not wait for the
 *   outcome);
 * - a sending step with a `window` reached outside it waits until the window opens (a durable
 *   timer), in the subscriber's time zone (core/send-times.ts);
 * - a step with `if` first waits until the run's earlier messages have an outcome (sent, failed,
 *   retrying after a failed attempt…; never queued, sending, or only deferred by quiet hours or a
 *   busy destination), so `steps.<ref>.status` means something; a false condition skips the step
 *   (its message `skipped`, with the condition as the reason);
 * - a delay sleeps until its time (a durable timer, never an in-memory one);
 * - a digest and a throttle are settled by the store under a lock on their scope (see RunNext).
 *
 * Everything a walk decides is applied by the store in one transaction with the run's next state.
 */

/** How long a condition waits before it looks again at earlier messages still under way. */
export const RECHECK_MS = 2_000;

/** `digest.events` keeps the data of this many events, oldest first; `digest.count` counts all. */
export const DIGEST_EVENTS_KEPT = 100;

export const MAX_DELAY_MS = 400 * 86_400_000;
export const MAX_WINDOW_MS = 31 * 86_400_000;

/**
 * Messages whose send has not had an outcome yet. A `retrying` message that has not failed an
 * attempt is under way too: it was only deferred (quiet hours, a busy destination), nothing was tried.
 */
const UNDER_WAY: readonly MessageStatus[] = ['queued', 'sending'];

/** The step's ref: its own, or its type and 1-based position (`email_3`). */
export function stepRef(step: WorkflowStep, index: number): string {
  return step.ref ?? `${step.type}_${index + 1}`;
}

/** The refs a condition reads (`steps.<ref>`). */
function refsRead(condition: string): string[] {
  return [...condition.matchAll(/\bsteps\s*\.\s*([A-Za-z][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/**
 * The save rules of a workflow's steps that a schema cannot state: unique refs, a delay's `for`
 * or `until`, durations within bounds, and conditions that read only earlier steps. Returns every
 * error found, each naming its field.
 */
export function checkSteps(steps: readonly WorkflowStep[]): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  steps.forEach((step, index) => {
    const at = `/steps/${index}`;
    const ref = stepRef(step, index);
    const earlier = seen.get(ref);
    if (earlier !== undefined) {
      errors.push({ path: `${at}/ref`, message: `ref ${JSON.stringify(ref)} is already step ${earlier}'s` });
    }
    if (step.if !== undefined) {
      for (const read of refsRead(step.if)) {
        if (!seen.has(read)) {
          errors.push({
            path: `${at}/if`,
            message: `reads steps.${read}, which is not an earlier step (earlier: ${[...seen.keys()].join(', ') || 'none'})`,
          });
        }
      }
    }
    seen.set(ref, index);
    const bounded = (value: string, field: string, max: number, maxText: string) => {
      const ms = parseDuration(value);
      if (ms === undefined) errors.push({ path: `${at}/${field}`, message: 'is not a duration such as 10m or 1h' });
      else if (ms <= 0 || ms > max)
        errors.push({ path: `${at}/${field}`, message: `must be above 0 and at most ${maxText}` });
    };
    if (isSendingStep(step) && step.window !== undefined) errors.push(...checkSendWindow(step.window, `${at}/window`));
    switch (step.type) {
      case 'email':
        if (step.html === undefined && step.text === undefined) {
          errors.push({ path: at, message: 'an email step needs html, text or both' });
        }
        break;
      case 'delay':
        if ((step.for === undefined) === (step.until === undefined)) {
          errors.push({ path: at, message: 'a delay needs for (a duration) or until (a time), one of them' });
        }
        if (step.for !== undefined) bounded(step.for, 'for', MAX_DELAY_MS, '400d');
        break;
      case 'digest':
        if ((step.window === undefined) === (step.schedule === undefined)) {
          errors.push({
            path: at,
            message: 'a digest needs window (a duration) or schedule (e.g. daily 09:00), one of them',
          });
        }
        if (step.window !== undefined) bounded(step.window, 'window', MAX_WINDOW_MS, '31d');
        if (step.schedule !== undefined && !parseSchedule(step.schedule)) {
          errors.push({
            path: `${at}/schedule`,
            message: 'is not a schedule such as daily 09:00, weekdays 09:00, weekends 10:00 or mon,thu 17:30',
          });
        }
        break;
      case 'throttle':
        bounded(step.window, 'window', MAX_WINDOW_MS, '31d');
        break;
    }
  });
  return errors;
}

/**
 * Where a trigger's runs start, and which steps send at once: the sending steps without a
 * condition or a window that lead the workflow go out with the trigger's commit (no engine round
 * trip for the usual one-step workflow). With `sendAt` in the future, nothing goes out until then.
 */
export function startOfRuns(
  steps: readonly WorkflowStep[],
  now: number,
  sendAt: number | null,
): { start: RunStart; sendsAtOnce: number } {
  if (sendAt !== null && sendAt > now) {
    return { start: { state: 'scheduled', stepIndex: 0, dueAt: sendAt }, sendsAtOnce: 0 };
  }
  let leading = 0;
  const sendsAtOnce = (step: WorkflowStep) => isSendingStep(step) && step.if === undefined && step.window === undefined;
  while (leading < steps.length && sendsAtOnce(steps[leading]!)) leading++;
  if (leading === steps.length)
    return { start: { state: 'completed', stepIndex: leading, dueAt: null }, sendsAtOnce: leading };
  return { start: { state: 'active', stepIndex: leading, dueAt: now }, sendsAtOnce: leading };
}

/**
 * The runs and messages of recipients starting a workflow: one run per recipient, and one message
 * per recipient and sending step, `queued` for the steps that go out at once (`sendsAtOnce`, from
 * startOfRuns) and `pending` for the rest. The same for a trigger's direct recipients and for each
 * page of its fan-out (core/fan-out.ts).
 */
export function planRuns(
  steps: readonly WorkflowStep[],
  subscriberIds: readonly string[],
  sendsAtOnce: number,
  now: number,
): { runs: PlannedRun[]; messages: PlannedMessage[] } {
  const runs: PlannedRun[] = [];
  const messages: PlannedMessage[] = [];
  for (const subscriberId of subscriberIds) {
    runs.push({ id: newId('run', now), subscriberId });
    steps.forEach((step, stepIndex) => {
      if (!isSendingStep(step)) return;
      messages.push({
        id: newId('msg', now),
        subscriberId,
        stepIndex,
        channel: step.type,
        status: stepIndex < sendsAtOnce ? 'queued' : 'pending',
      });
    });
  }
  return { runs, messages };
}

/** The scope of a digest or throttle: one per environment (implied), workflow, recipient, step and key. */
export function scopeOf(workflowKey: string, subscriberId: string, ref: string, key: string): string {
  return JSON.stringify([workflowKey, subscriberId, ref, key]);
}

function describeWindow(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Takes a claimed run as far as it goes now. `parts` are the version's compiled conditions and
 * control templates (compileRunParts); `defaultTimeZone` is the zone of a subscriber without a
 * valid one. Never throws: a condition or template that fails ends the run `failed` with the reason.
 */
export function advanceRun(
  run: ClaimedRun,
  version: WorkflowVersion,
  parts: readonly CompiledRunPart[],
  workerId: string,
  now: number,
  defaultTimeZone = 'UTC',
): RunAdvance {
  const advance: RunAdvance = {
    runId: run.runId,
    workerId,
    fromStepIndex: run.stepIndex,
    dispatched: [],
    skipped: [],
    next: { kind: 'completed', stepIndex: version.steps.length },
  };
  const messageAt = new Map(run.messages.map((m) => [m.stepIndex, m]));
  const steps = version.steps;
  let index = run.stepIndex;
  // A delay that was slept is over: the run goes on after it.
  if (run.state === 'waiting') index++;

  if (!run.subscriber) {
    for (let i = index; i < steps.length; i++) {
      const message = messageAt.get(i);
      if (message?.status === 'pending')
        advance.skipped.push({ messageId: message.id, reason: 'subscriber was deleted' });
    }
    return advance;
  }

  const subscriberZone = run.subscriber.timezone;
  /** The subscriber's zone, read only by steps that need one. */
  const zone = () => timeZoneOr(subscriberZone, defaultTimeZone);
  /** Each sending step's message status, by step index, as this walk changes them. */
  const statusAt = new Map(run.messages.map((m) => [m.stepIndex, m.status]));
  const failedAttemptsAt = new Map(run.messages.map((m) => [m.stepIndex, m.failedAttempts]));
  /**
   * When to look again for the outcomes of the messages before `index`; undefined when they all
   * have one. A message held by quiet hours has none before they end, so the run sleeps until
   * then rather than looking every RECHECK_MS all night (its send wakes the run in any case).
   */
  const outcomesDueAt = (index: number): number | undefined => {
    let due: number | undefined;
    for (const [at, status] of statusAt) {
      if (at >= index) continue;
      let next: number | undefined;
      if (UNDER_WAY.includes(status)) next = now + RECHECK_MS;
      else if (status === 'retrying' && failedAttemptsAt.get(at) === 0) {
        const quietUntil = quietHoursEnd(
          {
            quietHours: run.subscriber?.preferences?.quietHours,
            timezone: subscriberZone,
            fallbackTimeZone: defaultTimeZone,
            critical: version.critical === true,
            channel: steps[at]!.type as MessageChannel,
          },
          now,
        );
        next = Math.max(quietUntil ?? 0, now + RECHECK_MS);
      }
      if (next !== undefined) due = Math.min(due ?? next, next);
    }
    return due;
  };
  const stepStatuses = () =>
    Object.fromEntries(
      steps.flatMap((step, i) => (statusAt.has(i) ? [[stepRef(step, i), { status: statusAt.get(i) }]] : [])),
    );
  const scope = (): Record<string, unknown> => ({
    data: run.data,
    subscriber: run.subscriber,
    workflow: { key: version.key, name: version.name },
    digest: run.digest ?? undefined,
    steps: stepStatuses(),
  });
  const stop = (next: RunNext): RunAdvance => {
    advance.next = next;
    return advance;
  };

  for (; index < steps.length; index++) {
    const step = steps[index]!;
    const part = parts[index];
    const ref = stepRef(step, index);
    const message = messageAt.get(index);
    // The window comes before the condition: the condition is checked when the send can go.
    if (isSendingStep(step) && step.window !== undefined && message?.status === 'pending') {
      const opensAt = sendWindowOpensAt(step.window, zone(), now);
      if (opensAt > now) return stop({ kind: 'recheck', stepIndex: index, at: opensAt });
    }
    if (part?.condition) {
      const recheckAt = outcomesDueAt(index);
      if (recheckAt !== undefined) return stop({ kind: 'recheck', stepIndex: index, at: recheckAt });
      let passes: boolean;
      try {
        passes = renderRunPart(part.condition, scope()) === '1';
      } catch (error) {
        return stop({ kind: 'failed', reason: `the condition of step ${ref} failed: ${messageOf(error)}` });
      }
      if (!passes) {
        if (message?.status === 'pending') {
          advance.skipped.push({ messageId: message.id, reason: `condition not met: ${step.if!.slice(0, 300)}` });
          statusAt.set(index, 'skipped');
        }
        continue;
      }
    }
    if (isSendingStep(step)) {
      if (message?.status === 'pending') {
        advance.dispatched.push(message.id);
        statusAt.set(index, 'queued');
      }
      continue;
    }
    switch (step.type) {
      case 'delay': {
        let until: number;
        if (step.for !== undefined) {
          until = now + parseDuration(step.for)!;
        } else {
          let text: string;
          try {
            text = renderRunPart(part!.until!, scope());
          } catch (error) {
            return stop({ kind: 'failed', reason: `the until of delay ${ref} failed: ${messageOf(error)}` });
          }
          until = Date.parse(text);
          if (!Number.isFinite(until)) {
            return stop({
              kind: 'failed',
              reason: `delay ${ref}: until gave ${JSON.stringify(text.slice(0, 100))}, which is not an ISO 8601 time`,
            });
          }
          until = Math.min(until, now + MAX_DELAY_MS);
        }
        if (until > now) return stop({ kind: 'sleep', stepIndex: index, until });
        continue; // a time past does not wait
      }
      case 'digest':
      case 'throttle': {
        let key = '';
        if (part?.key) {
          try {
            key = renderRunPart(part.key, scope());
          } catch (error) {
            return stop({ kind: 'failed', reason: `the key of ${step.type} ${ref} failed: ${messageOf(error)}` });
          }
        }
        const scopeKey = scopeOf(version.key, run.subscriber.subscriberId, ref, key);
        if (step.type === 'digest') {
          const opener: DigestContext = { count: 1, events: [run.data] };
          const schedule = step.schedule === undefined ? undefined : parseSchedule(step.schedule);
          // A schedule closes at its next local time; checked on save, so one always reads.
          const closesAt = schedule ? nextScheduled(now, schedule, zone()) : now + parseDuration(step.window ?? '')!;
          return stop({
            kind: 'digest',
            stepIndex: index,
            scope: scopeKey,
            closesAt,
            mode: step.mode ?? 'batch',
            opener,
          });
        }
        const windowMs = parseDuration(step.window)!;
        const keyed = key === '' ? '' : ` and key ${JSON.stringify(key.slice(0, 100))}`;
        return stop({
          kind: 'throttle',
          stepIndex: index,
          scope: scopeKey,
          limit: step.limit,
          windowStart: now - windowMs,
          reason: `throttled at step ${ref}: ${step.limit} run${step.limit === 1 ? '' : 's'} in ${describeWindow(windowMs)} already for this recipient${keyed}`,
        });
      }
    }
  }
  return advance;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

/** The reason a digest member's messages carry when another run carries the digest. */
export function foldedReason(carrier: { runId: string; triggerId: string }): string {
  return `digested: folded into the digest sent by run ${carrier.runId} (trigger ${carrier.triggerId})`;
}

/** What the run that carries a digest sees: every member counted, the first ones' data kept. */
export function digestOf(memberData: readonly Record<string, unknown>[], count: number): DigestContext {
  return { count, events: memberData.slice(0, DIGEST_EVENTS_KEPT) };
}
