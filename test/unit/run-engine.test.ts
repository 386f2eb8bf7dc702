import { describe, expect, it } from 'vitest';
import {
  advanceRun,
  checkSteps,
  DIGEST_EVENTS_KEPT,
  digestOf,
  RECHECK_MS,
  scopeOf,
  startOfRuns,
  stepRef,
} from '../../src/core/run-engine.js';
import type { WorkflowVersion } from '../../src/core/store.js';
import type { ClaimedRun } from '../../src/core/runs.js';
import { compileRunParts } from '../../src/core/templates.js';
import type { MessageStatus, WorkflowStep } from '../../src/core/types.js';

// The run engine's rules, as plain functions with a clock the test sets (`NOW`).

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const HOUR = 3_600_000;

function version(steps: WorkflowStep[]): WorkflowVersion {
  return { versionId: 'wfv_1', key: 'wf', name: 'Workflow', steps };
}

function run(
  steps: WorkflowStep[],
  over: Partial<ClaimedRun> & { statuses?: (MessageStatus | undefined)[]; failedAttempts?: number[] } = {},
): ClaimedRun {
  const { statuses = [], failedAttempts = [], ...rest } = over;
  const messages = steps.flatMap((step, i) =>
    ['delay', 'digest', 'throttle'].includes(step.type)
      ? []
      : [
          {
            id: `msg_${i}`,
            stepIndex: i,
            status: statuses[i] ?? ('pending' as MessageStatus),
            failedAttempts: failedAttempts[i] ?? 0,
          },
        ],
  );
  return {
    kind: 'run',
    timerId: 'run_1',
    runId: 'run_1',
    environmentId: 'env',
    triggerId: 'trg_1',
    workflowKey: 'wf',
    workflowVersionId: 'wfv_1',
    state: 'active',
    stepIndex: 0,
    subscriber: {
      subscriberId: 'ann',
      email: 'ann@example.com',
      phone: null,
      name: 'Ann',
      locale: null,
      timezone: null,
      data: { plan: 'pro' },
      push: null,
      chat: null,
      webhookUrl: null,
      preferences: null,
      createdAt: 0,
      updatedAt: 0,
    },
    data: { threadId: 't1' },
    digest: null,
    messages,
    ...rest,
  };
}

function advance(steps: WorkflowStep[], over: Parameters<typeof run>[1] = {}, now = NOW, defaultTimeZone = 'UTC') {
  return advanceRun(run(steps, over), version(steps), compileRunParts(steps), 'wrk_1', now, defaultTimeZone);
}

/** Ann in a time zone of her own. */
function living(timezone: string | null): Partial<ClaimedRun> {
  return { subscriber: { ...run([]).subscriber!, timezone } };
}

const email = (extra: Partial<WorkflowStep> = {}): WorkflowStep =>
  ({ type: 'email', subject: 's', text: 't', ...extra }) as WorkflowStep;
const inApp = (extra: Partial<WorkflowStep> = {}): WorkflowStep =>
  ({ type: 'in_app', body: 'b', ...extra }) as WorkflowStep;

describe('startOfRuns', () => {
  it('sends the leading unconditioned sends with the trigger, and completes a workflow of only those', () => {
    expect(startOfRuns([email(), inApp()], NOW, null)).toEqual({
      start: { state: 'completed', stepIndex: 2, dueAt: null },
      sendsAtOnce: 2,
    });
  });

  it('hands the rest to the engine from the first delay or condition', () => {
    expect(startOfRuns([inApp(), { type: 'delay', for: '1h' }, email()], NOW, null)).toEqual({
      start: { state: 'active', stepIndex: 1, dueAt: NOW },
      sendsAtOnce: 1,
    });
    expect(startOfRuns([email({ if: 'true' })], NOW, null).sendsAtOnce).toBe(0);
  });

  it('hands a step with a send window to the engine', () => {
    const window = { start: '09:00', end: '18:00' };
    expect(startOfRuns([inApp(), email({ window })], NOW, null)).toEqual({
      start: { state: 'active', stepIndex: 1, dueAt: NOW },
      sendsAtOnce: 1,
    });
  });

  it('schedules every run at a sendAt ahead, and ignores one past', () => {
    expect(startOfRuns([email()], NOW, NOW + HOUR)).toEqual({
      start: { state: 'scheduled', stepIndex: 0, dueAt: NOW + HOUR },
      sendsAtOnce: 0,
    });
    expect(startOfRuns([email()], NOW, NOW - HOUR).start.state).toBe('completed');
  });
});

describe('advanceRun', () => {
  it('sends a step whose condition holds and skips one whose condition fails, with the condition', () => {
    const steps = [email({ if: 'subscriber.data.plan == "pro"' }), inApp({ if: 'data.threadId == "t2"' })];
    const a = advance(steps);
    expect(a.dispatched).toEqual(['msg_0']);
    // The in-app condition does not read steps, but it waits for the email's outcome all the same.
    expect(a.next).toEqual({ kind: 'recheck', stepIndex: 1, at: NOW + RECHECK_MS });
    const b = advance(steps, { stepIndex: 1, statuses: ['sent'] });
    expect(b.skipped).toEqual([{ messageId: 'msg_1', reason: 'condition not met: data.threadId == "t2"' }]);
    expect(b.next).toEqual({ kind: 'completed', stepIndex: 2 });
  });

  it('reads earlier steps by ref: steps.bell.status', () => {
    const steps: WorkflowStep[] = [
      inApp({ ref: 'bell' }),
      { type: 'delay', for: '1h' },
      email({ if: 'steps.bell.status != "read"' }),
    ];
    expect(advance(steps, { stepIndex: 1, state: 'waiting', statuses: ['read'] }).skipped).toHaveLength(1);
    expect(advance(steps, { stepIndex: 1, state: 'waiting', statuses: ['sent'] }).dispatched).toEqual(['msg_2']);
  });

  it('sleeps in a delay, for a duration or until a time from the data; a time past does not wait', () => {
    const steps: WorkflowStep[] = [{ type: 'delay', for: '90m' }, email()];
    expect(advance(steps).next).toEqual({ kind: 'sleep', stepIndex: 0, until: NOW + 90 * 60_000 });
    const until: WorkflowStep[] = [{ type: 'delay', until: '{{ data.at }}' }, email()];
    const at = new Date(NOW + HOUR).toISOString();
    expect(advance(until, { data: { at } }).next).toEqual({ kind: 'sleep', stepIndex: 0, until: NOW + HOUR });
    const past = advance(until, { data: { at: new Date(NOW - HOUR).toISOString() } });
    expect(past.dispatched).toEqual(['msg_1']);
    expect(past.next).toEqual({ kind: 'completed', stepIndex: 2 });
  });

  it('passes a delay it slept in, and fails the run on a time that is not one', () => {
    const steps: WorkflowStep[] = [{ type: 'delay', for: '1h' }, email()];
    expect(advance(steps, { state: 'waiting' }).dispatched).toEqual(['msg_1']);
    const bad = advance([{ type: 'delay', until: '{{ data.at }}' }, email()], { data: { at: 'soon' } });
    expect(bad.next).toEqual({
      kind: 'failed',
      reason: 'delay delay_1: until gave "soon", which is not an ISO 8601 time',
    });
  });

  it('asks the store to digest by workflow, recipient, step and key', () => {
    const steps: WorkflowStep[] = [{ type: 'digest', window: '10m', key: '{{ data.threadId }}' }, email()];
    expect(advance(steps).next).toEqual({
      kind: 'digest',
      stepIndex: 0,
      scope: scopeOf('wf', 'ann', 'digest_1', 't1'),
      closesAt: NOW + 10 * 60_000,
      mode: 'batch',
      opener: { count: 1, events: [{ threadId: 't1' }] },
    });
    expect(scopeOf('wf', 'ann', 'd', 't1')).not.toBe(scopeOf('wf', 'ann', 'd', 't2'));
    expect(scopeOf('wf', 'ann', 'd', '')).not.toBe(scopeOf('wf', 'bob', 'd', ''));
  });

  it('asks the store to throttle, with the reason a throttled run carries', () => {
    const steps: WorkflowStep[] = [{ type: 'throttle', limit: 1, window: '2h' }, email()];
    expect(advance(steps).next).toEqual({
      kind: 'throttle',
      stepIndex: 0,
      scope: scopeOf('wf', 'ann', 'throttle_1', ''),
      limit: 1,
      windowStart: NOW - 2 * HOUR,
      reason: 'throttled at step throttle_1: 1 run in 2h already for this recipient',
    });
  });

  it('waits for a send window to open, in the zone of the subscriber, then sends', () => {
    const steps = [
      inApp(),
      email({ window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00' } }),
    ];
    // Saturday 2027-03-27 20:00 CET: Berlin moves to CEST on Sunday; the window opens Monday 09:00 CEST.
    const saturday = Date.parse('2027-03-27T19:00Z');
    const waits = advance(steps, living('Europe/Berlin'), saturday);
    expect(waits.dispatched).toEqual(['msg_0']);
    expect(waits.next).toEqual({ kind: 'recheck', stepIndex: 1, at: Date.parse('2027-03-29T07:00Z') });
    // Looked at again when it opens: sent.
    const monday = Date.parse('2027-03-29T07:00Z');
    const goes = advance(steps, { ...living('Europe/Berlin'), stepIndex: 1, statuses: ['sent'] }, monday);
    expect(goes.dispatched).toEqual(['msg_1']);
    expect(goes.next).toEqual({ kind: 'completed', stepIndex: 2 });
    // A subscriber without a zone (or with one that is not a zone) is in the default zone.
    const ny = advance(steps, living('Atlantis/Capital'), Date.parse('2027-03-14T01:00Z'), 'America/New_York');
    expect(ny.next).toEqual({ kind: 'recheck', stepIndex: 1, at: Date.parse('2027-03-15T13:00Z') });
  });

  it('checks a condition only once the window is open', () => {
    const steps = [
      inApp({ ref: 'bell' }),
      email({ if: 'steps.bell.status != "read"', window: { start: '09:00', end: '18:00' } }),
    ];
    const night = Date.parse('2027-06-01T01:00Z');
    // The bell's outcome is not known yet, but the window comes first: no looking every 2 s all night.
    expect(advance(steps, { stepIndex: 1, statuses: ['queued'] }, night).next).toEqual({
      kind: 'recheck',
      stepIndex: 1,
      at: Date.parse('2027-06-01T09:00Z'),
    });
    const morning = Date.parse('2027-06-01T09:00Z');
    expect(advance(steps, { stepIndex: 1, statuses: ['read'] }, morning).skipped).toHaveLength(1);
  });

  it('waits for a message only deferred (no attempt yet): until quiet hours end, or looks again soon', () => {
    const steps = [email({ ref: 'mail' }), inApp({ if: 'steps.mail.status == "sent"' })];
    const berlin = living('Europe/Berlin');
    const quiet = { ...berlin.subscriber!, preferences: { quietHours: { start: '22:00', end: '08:00' } } };
    // Saturday 23:30 CET, the night Berlin moves to CEST: quiet until 08:00 CEST (06:00Z).
    const night = Date.parse('2027-03-27T22:30Z');
    const held = advance(steps, { subscriber: quiet, stepIndex: 1, statuses: ['retrying'] }, night);
    expect(held).toMatchObject({ skipped: [], dispatched: [] });
    expect(held.next).toEqual({ kind: 'recheck', stepIndex: 1, at: Date.parse('2027-03-28T06:00Z') });
    // Deferred outside quiet hours (a busy destination, or quiet hours since removed): soon.
    const busy = advance(steps, { ...berlin, stepIndex: 1, statuses: ['retrying'] }, night);
    expect(busy.next).toEqual({ kind: 'recheck', stepIndex: 1, at: night + RECHECK_MS });
    // A critical workflow's sends are not held by quiet hours: a deferral there is a busy destination.
    const critical = advanceRun(
      run(steps, { subscriber: quiet, stepIndex: 1, statuses: ['retrying'] }),
      { ...version(steps), critical: true },
      compileRunParts(steps),
      'wrk_1',
      night,
    );
    expect(critical.next).toEqual({ kind: 'recheck', stepIndex: 1, at: night + RECHECK_MS });
    // After a failed attempt, `retrying` is an outcome the condition reads.
    const failed = advance(
      steps,
      { subscriber: quiet, stepIndex: 1, statuses: ['retrying'], failedAttempts: [1] },
      night,
    );
    expect(failed.skipped).toEqual([{ messageId: 'msg_1', reason: 'condition not met: steps.mail.status == "sent"' }]);
    expect(advance(steps, { stepIndex: 1, statuses: ['sent'] }, night).dispatched).toEqual(['msg_1']);
  });

  it('closes a scheduled digest at the next local time, on both sides of a change', () => {
    const steps: WorkflowStep[] = [{ type: 'digest', schedule: 'daily 09:00' }, email()];
    const next = (zone: string, at: string) => {
      const decided = advance(steps, living(zone), Date.parse(at)).next;
      return decided.kind === 'digest' ? new Date(decided.closesAt).toISOString() : decided.kind;
    };
    // Saturday 10:00 CET → Sunday 09:00 CEST; Saturday 10:00 EST → Sunday 09:00 EDT.
    expect(next('Europe/Berlin', '2027-03-27T09:00Z')).toBe('2027-03-28T07:00:00.000Z');
    expect(next('America/New_York', '2027-03-13T15:00Z')).toBe('2027-03-14T13:00:00.000Z');
    // Sydney leaves daylight saving on Sunday 2027-04-04: 09:00 AEST.
    expect(next('Australia/Sydney', '2027-04-02T23:00Z')).toBe('2027-04-03T23:00:00.000Z');
  });

  it('skips what is left of a run whose subscriber was deleted', () => {
    const a = advance([inApp(), email()], { subscriber: null });
    expect(a.skipped.map((s) => s.reason)).toEqual(['subscriber was deleted', 'subscriber was deleted']);
    expect(a.next).toEqual({ kind: 'completed', stepIndex: 2 });
  });

  it('fails the run when a condition fails to evaluate', () => {
    const a = advance([email({ if: '(1..99999999) contains 5' })]);
    expect(a.next.kind).toBe('failed');
  });

  it('gives the steps after a digest its count and events', () => {
    const steps: WorkflowStep[] = [{ type: 'digest', window: '1m' }, email({ if: 'digest.count > 2' })];
    const digest = digestOf([{ n: 1 }, { n: 2 }, { n: 3 }], 3);
    expect(advance(steps, { stepIndex: 1, digest }).dispatched).toEqual(['msg_1']);
    expect(advance(steps, { stepIndex: 1, digest: digestOf([{}], 1) }).skipped).toHaveLength(1);
  });
});

describe('digestOf', () => {
  it('counts every event and keeps the first ones', () => {
    const events = Array.from({ length: 250 }, (_, n) => ({ n }));
    const digest = digestOf(events, 250);
    expect(digest.count).toBe(250);
    expect(digest.events).toHaveLength(DIGEST_EVENTS_KEPT);
    expect(digest.events[0]).toEqual({ n: 0 });
  });
});

describe('checkSteps and stepRef', () => {
  it('derives refs from type and position', () => {
    expect(stepRef(email(), 2)).toBe('email_3');
    expect(stepRef(email({ ref: 'mail' }), 2)).toBe('mail');
  });

  it('names every broken rule', () => {
    const errors = checkSteps([
      { type: 'delay', for: '1h', until: '{{ data.at }}' },
      { type: 'throttle', limit: 1, window: '0s' },
      email({ text: undefined }),
      inApp({ if: 'steps.nope.status == "sent"' }),
    ]);
    expect(errors.map((e) => e.path)).toEqual(['/steps/0', '/steps/1/window', '/steps/2', '/steps/3/if']);
  });

  it('names broken send windows and digest schedules', () => {
    const errors = checkSteps([
      email({ window: { start: '9:00', end: '18:00' } }),
      { type: 'digest', window: '1h', schedule: 'daily 09:00' },
      { type: 'digest' },
      { type: 'digest', schedule: 'every day at 9' },
      inApp({ window: { days: ['mon', 'mon'], start: '09:00', end: '09:00' } }),
    ]);
    expect(errors.map((e) => e.path)).toEqual([
      '/steps/0/window/start',
      '/steps/1',
      '/steps/2',
      '/steps/3/schedule',
      '/steps/4/window/end',
      '/steps/4/window/days/1',
    ]);
  });
});
