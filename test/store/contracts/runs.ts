import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import { advanceRun, foldedReason, RECHECK_MS, startOfRuns } from '../../../src/core/run-engine.js';
import type { ClaimedJob, JobCompletion, PlannedMessage, Store, TriggerPlan } from '../../../src/core/store.js';
import type { ClaimedDigest, ClaimedRun, RunAdvance, RunDetails } from '../../../src/core/runs.js';
import { compileRunParts } from '../../../src/core/templates.js';
import { isSendingStep, type Workflow, type WorkflowStep } from '../../../src/core/types.js';
import type { OpenStore } from './fixtures.js';

const T0 = 1_800_000_000_000;
const LEASE = 30_000;
const HOUR = 3_600_000;

const email = (extra: Partial<Extract<WorkflowStep, { type: 'email' }>> = {}): WorkflowStep => ({
  type: 'email',
  subject: 's',
  text: 't',
  ...extra,
});

export async function saveWorkflow(store: Store, env: string, key: string, steps: WorkflowStep[]): Promise<Workflow> {
  return store.putWorkflow(env, { key, name: key, steps, versionId: newId('wfv', T0) }, T0);
}

/** Commits a trigger as core/trigger-workflow.ts plans one: a run per recipient, a message per sending step. */
export async function trigger(
  store: Store,
  env: string,
  workflow: Workflow,
  subscriberIds: string[],
  at: number,
  options: { data?: Record<string, unknown>; sendAt?: number; cancellationKey?: string } = {},
): Promise<TriggerPlan> {
  const { start, sendsAtOnce } = startOfRuns(workflow.steps, at, options.sendAt ?? null);
  const messages: PlannedMessage[] = [];
  for (const subscriberId of subscriberIds) {
    workflow.steps.forEach((step, stepIndex) => {
      if (!isSendingStep(step)) return;
      messages.push({
        id: newId('msg', at),
        subscriberId,
        stepIndex,
        channel: step.type,
        status: stepIndex < sendsAtOnce ? 'queued' : 'pending',
      });
    });
  }
  const plan: TriggerPlan = {
    environmentId: env,
    triggerId: newId('trg', at),
    workflowKey: workflow.key,
    workflowVersionId: workflow.versionId,
    dataJson: JSON.stringify(options.data ?? {}),
    recipients: subscriberIds.map((subscriberId) => ({
      subscriberId,
      fields: { email: `${subscriberId}@example.com` },
    })),
    messages,
    runs: subscriberIds.map((subscriberId) => ({ id: newId('run', at), subscriberId })),
    start,
    sendAt: options.sendAt ?? null,
    cancellationKey: options.cancellationKey ?? null,
    createdAt: at,
  };
  await store.commitTrigger(plan);
  return plan;
}

/** The runs a worker claims at `at`, by run id (creation order). */
export async function claimRuns(store: Store, workerId: string, at: number): Promise<ClaimedRun[]> {
  const timers = await store.claimTimers(workerId, 100, at, LEASE);
  return timers.filter((t): t is ClaimedRun => t.kind === 'run').sort((a, b) => (a.runId < b.runId ? -1 : 1));
}

async function claimDigests(store: Store, workerId: string, at: number): Promise<ClaimedDigest[]> {
  const timers = await store.claimTimers(workerId, 100, at, LEASE);
  return timers.filter((t): t is ClaimedDigest => t.kind === 'digest');
}

/** What the run engine decides for a claimed run. */
export async function decide(store: Store, run: ClaimedRun, workerId: string, now: number): Promise<RunAdvance> {
  const [version] = await store.getWorkflowVersions([run.workflowVersionId]);
  return advanceRun(run, version!, compileRunParts(version!.steps), workerId, now);
}

/** A trigger's runs, by subscriber id. */
async function runsOf(store: Store, env: string, plan: TriggerPlan): Promise<RunDetails[]> {
  return (await store.getTrigger(env, plan.triggerId, { limit: 100 }))!.runs.items;
}

async function runOf(store: Store, env: string, plan: TriggerPlan, subscriberId = plan.runs[0]!.subscriberId) {
  return (await runsOf(store, env, plan)).find((run) => run.subscriberId === subscriberId)!;
}

function completion(job: ClaimedJob, at: number, status: 'sent' | 'failed' = 'sent'): JobCompletion {
  return {
    jobId: job.jobId,
    workerId: 'j',
    messageId: job.messageId,
    at,
    attempts: [{ outcome: status, detail: status === 'sent' ? '250 ok' : '550 no', durationMs: 1 }],
    status,
    reason: status === 'sent' ? null : '550 no',
    wakeRun: job.openRunId,
  };
}

/** Workflow runs (core/run-engine.ts) on every store: timers, advances, digests, throttles, cancel. */
export function describeRunsContract(name: string, open: OpenStore) {
  describe(`${name} store: workflow runs`, () => {
    it('starts each run where the workflow does: completed without a timer, active or scheduled with one', async () => {
      const { store, environmentId: env, close } = await open();
      const oneStep = await saveWorkflow(store, env, 'one', [email()]);
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);

      const done = await trigger(store, env, oneStep, ['a'], T0);
      expect(await runOf(store, env, done)).toMatchObject({ state: 'completed', stepIndex: 1, dueAt: null });
      const active = await trigger(store, env, delayed, ['a'], T0 + 1, { cancellationKey: 'k' });
      const run = await runOf(store, env, active);
      expect(run).toMatchObject({ state: 'active', stepIndex: 1, dueAt: T0 + 1, reason: null, digest: null });
      expect(run.messages.map((m) => [m.stepIndex, m.status])).toEqual([
        [0, 'queued'],
        [2, 'pending'],
      ]);
      const later = await trigger(store, env, delayed, ['a'], T0 + 2, { sendAt: T0 + HOUR });
      const scheduled = await runOf(store, env, later);
      expect(scheduled).toMatchObject({ state: 'scheduled', stepIndex: 0, dueAt: T0 + HOUR });
      expect(scheduled.messages.map((m) => m.status)).toEqual(['pending', 'pending']);

      const details = await store.getTrigger(env, active.triggerId, { limit: 10 });
      expect(details).toMatchObject({ workflowKey: 'delayed', sendAt: null, cancellationKey: 'k', createdAt: T0 + 1 });
      expect((await store.getTrigger(env, later.triggerId, { limit: 10 }))?.sendAt).toBe(T0 + HOUR);
      // Jobs for the messages sent at once only; timers for the runs not completed.
      const jobs = await store.claimJobs('w1', 10, T0 + 10, LEASE);
      expect(jobs.map((job) => job.messageId).sort()).toEqual([done.messages[0]!.id, active.messages[0]!.id].sort());
      // Timers and jobs are due on their own clocks: the runner waits for one, workers for the other.
      expect(await store.nextTimerDueAt()).toBe(T0 + 1);
      expect(await store.nextJobDueAt()).toBe(T0 + 10 + LEASE);
      const runs = await claimRuns(store, 'w1', T0 + 10);
      expect(runs.map((r) => r.runId)).toEqual([active.runs[0]!.id]);
      expect(await store.nextTimerDueAt()).toBe(T0 + 10 + LEASE);
      // Then the scheduled run, and the active one again: its lease ran out.
      const again = (await claimRuns(store, 'w1', T0 + HOUR)).map((r) => r.runId);
      expect(again.sort()).toEqual([active.runs[0]!.id, later.runs[0]!.id].sort());
      await close();
    });

    it("pages a trigger's runs by subscriber id, each with its messages", async () => {
      const { store, environmentId: env, close } = await open();
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);
      const plan = await trigger(store, env, delayed, ['c', 'a', 'B', 'b'], T0, { data: { n: 1 } });
      const first = await store.getTrigger(env, plan.triggerId, { limit: 3 });
      expect(first?.data).toEqual({ n: 1 });
      // Byte order, as on every store: upper case first.
      expect(first?.runs.items.map((r) => r.subscriberId)).toEqual(['B', 'a', 'b']);
      expect(first?.runs.nextCursor).toBe('b');
      for (const run of first!.runs.items) {
        expect(run.messages.map((m) => [m.subscriberId, m.stepIndex])).toEqual([
          [run.subscriberId, 0],
          [run.subscriberId, 2],
        ]);
        expect(run.runId).toBe(plan.runs.find((r) => r.subscriberId === run.subscriberId)!.id);
      }
      const rest = await store.getTrigger(env, plan.triggerId, { limit: 3, cursor: 'b' });
      expect(rest?.runs).toMatchObject({ items: [{ subscriberId: 'c' }], nextCursor: null });
      expect(await store.getTrigger('env_other', plan.triggerId, { limit: 3 })).toBeUndefined();
      expect(await store.getTrigger(env, 'trg_missing', { limit: 3 })).toBeUndefined();
      await close();
    });

    it('claims due timers with what the engine needs, each once per lease', async () => {
      const { store, environmentId: env, close } = await open();
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);
      const plan = await trigger(store, env, delayed, ['a', 'b'], T0, { data: { order: 7 } });
      const runs = await claimRuns(store, 'w1', T0);
      expect(runs).toHaveLength(2);
      expect(runs.find((r) => r.runId === plan.runs[0]!.id)).toMatchObject({
        kind: 'run',
        timerId: plan.runs[0]!.id,
        runId: plan.runs[0]!.id,
        environmentId: env,
        triggerId: plan.triggerId,
        workflowKey: 'delayed',
        workflowVersionId: delayed.versionId,
        state: 'active',
        stepIndex: 1,
        subscriber: { subscriberId: 'a', email: 'a@example.com' },
        data: { order: 7 },
        digest: null,
        messages: [
          { id: plan.messages[0]!.id, stepIndex: 0, status: 'queued', failedAttempts: 0 },
          { id: plan.messages[1]!.id, stepIndex: 2, status: 'pending', failedAttempts: 0 },
        ],
      });
      expect(runs.find((r) => r.runId === plan.runs[1]!.id)?.subscriber?.subscriberId).toBe('b');
      expect(await store.claimTimers('w2', 10, T0 + LEASE - 1, LEASE)).toEqual([]);
      // A held timer shows no due time.
      expect((await runOf(store, env, plan)).dueAt).toBeNull();
      expect((await claimRuns(store, 'w2', T0 + LEASE)).map((r) => r.runId)).toEqual(runs.map((r) => r.runId));
      // A deleted subscriber's run is claimed without them (the engine skips what is left).
      await store.deleteSubscriber(env, 'a');
      const orphan = (await claimRuns(store, 'w3', T0 + 2 * LEASE)).find((r) => r.runId === plan.runs[0]!.id);
      expect(orphan?.subscriber).toBeNull();
      await close();
    });

    it('sleeps a run at a delay, then sends what follows and completes it', async () => {
      const { store, environmentId: env, close } = await open();
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);
      const plan = await trigger(store, env, delayed, ['a'], T0);
      const [run] = await claimRuns(store, 'w1', T0);
      const sleep = await decide(store, run!, 'w1', T0 + 5);
      expect(sleep.next).toEqual({ kind: 'sleep', stepIndex: 1, until: T0 + 5 + HOUR });
      expect(await store.advanceRuns([sleep], T0 + 5)).toEqual({ statuses: [] });
      expect(await runOf(store, env, plan)).toMatchObject({ state: 'waiting', stepIndex: 1, dueAt: T0 + 5 + HOUR });
      expect(await claimRuns(store, 'w1', T0 + HOUR)).toEqual([]);

      const [woken] = await claimRuns(store, 'w2', T0 + 5 + HOUR);
      expect(woken).toMatchObject({ state: 'waiting', stepIndex: 1 });
      const last = await decide(store, woken!, 'w2', T0 + 6 + HOUR);
      expect(last).toMatchObject({ dispatched: [plan.messages[1]!.id], skipped: [], next: { kind: 'completed' } });
      await store.advanceRuns([last], T0 + 6 + HOUR);
      const done = await runOf(store, env, plan);
      expect(done).toMatchObject({ state: 'completed', stepIndex: 3, dueAt: null });
      expect(done.messages.map((m) => m.status)).toEqual(['queued', 'queued']);
      const jobs = await store.claimJobs('j', 10, T0 + 6 + HOUR, LEASE);
      expect(jobs.map((job) => job.messageId).sort()).toEqual(plan.messages.map((m) => m.id).sort());
      expect(await store.claimTimers('w3', 10, T0 + 100 * HOUR, LEASE)).toEqual([]);
      await close();
    });

    it('waits for earlier outcomes before a condition, woken by the completion; skips a false one', async () => {
      const { store, environmentId: env, close } = await open();
      const conditional = await saveWorkflow(store, env, 'cond', [
        email({ ref: 'a' }),
        email({ ref: 'b', if: "steps.a.status == 'sent'" }),
        email({ ref: 'c', if: "steps.b.status == 'failed'" }),
      ]);
      const plan = await trigger(store, env, conditional, ['x'], T0);
      const [m0, m1, m2] = plan.messages;
      const [job] = await store.claimJobs('j', 10, T0, LEASE);
      expect(job).toMatchObject({ messageId: m0!.id, openRunId: plan.runs[0]!.id, digest: null });

      const [run] = await claimRuns(store, 'w1', T0);
      const wait = await decide(store, run!, 'w1', T0);
      expect(wait.next).toEqual({ kind: 'recheck', stepIndex: 1, at: T0 + RECHECK_MS });
      await store.advanceRuns([wait], T0);
      expect(await runOf(store, env, plan)).toMatchObject({ state: 'active', stepIndex: 1, dueAt: T0 + RECHECK_MS });

      await store.completeJobs([completion(job!, T0 + 500)]);
      expect((await runOf(store, env, plan)).dueAt).toBe(T0 + 500);
      const [again] = await claimRuns(store, 'w1', T0 + 500);
      const go = await decide(store, again!, 'w1', T0 + 500);
      // b is dispatched; c waits for b's outcome.
      expect(go).toMatchObject({ dispatched: [m1!.id], skipped: [], next: { kind: 'recheck', stepIndex: 2 } });
      await store.advanceRuns([go], T0 + 500);

      const [second] = await store.claimJobs('j', 10, T0 + 500, LEASE);
      expect(second?.messageId).toBe(m1!.id);
      await store.completeJobs([completion(second!, T0 + 600)]);
      const [third] = await claimRuns(store, 'w1', T0 + 600);
      const skip = await decide(store, third!, 'w1', T0 + 600);
      expect(skip).toMatchObject({ dispatched: [], next: { kind: 'completed' } });
      expect(await store.advanceRuns([skip], T0 + 600)).toEqual({
        statuses: [{ channel: 'email', status: 'skipped' }],
      });
      const done = await runOf(store, env, plan);
      expect(done).toMatchObject({ state: 'completed', stepIndex: 3, dueAt: null });
      expect(done.messages.map((m) => [m.id, m.status, m.reason])).toEqual([
        [m0!.id, 'sent', null],
        [m1!.id, 'sent', null],
        [m2!.id, 'skipped', "condition not met: steps.b.status == 'failed'"],
      ]);
      await close();
    });

    it("wakes only an active run's unheld timer, and only earlier; never a sleeping run's", async () => {
      const { store, environmentId: env, close } = await open();
      const conditional = await saveWorkflow(store, env, 'cond', [
        email({ ref: 'a' }),
        email({ ref: 'b', if: "steps.a.status == 'sent'" }),
      ]);
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);
      const waits = await trigger(store, env, conditional, ['x', 'y'], T0);
      const sleeps = await trigger(store, env, delayed, ['z'], T0);
      const jobs = await store.claimJobs('j', 10, T0, LEASE);
      const jobOf = (plan: TriggerPlan, subscriberId: string) =>
        jobs.find((j) => j.triggerId === plan.triggerId && j.subscriber?.subscriberId === subscriberId)!;
      // The claim saw every run active: each job may wake its run.
      expect(jobs.every((j) => j.openRunId !== null)).toBe(true);

      const runs = await claimRuns(store, 'w1', T0);
      const runFor = (plan: TriggerPlan, subscriberId: string) =>
        runs.find((r) => r.triggerId === plan.triggerId && r.subscriber?.subscriberId === subscriberId)!;
      const [x, z] = [runFor(waits, 'x'), runFor(sleeps, 'z')];
      await store.advanceRuns(
        [await decide(store, x!, 'w1', T0), await decide(store, z!, 'w1', T0)], // recheck, sleep
        T0,
      );
      // y's timer is still held by w1.
      const retry = (job: ClaimedJob, at: number, deferred: boolean): JobCompletion => ({
        ...completion(job, at),
        status: 'retrying',
        attempts: deferred ? [] : [{ outcome: 'retry', detail: '451 later', durationMs: 1 }],
        reason: '451 later',
        retryAt: at + 60_000,
        deferred,
      });
      // A deferred retry is no outcome: nothing wakes.
      await store.completeJobs([retry(jobOf(waits, 'x'), T0 + 100, true)]);
      expect((await runOf(store, env, waits, 'x')).dueAt).toBe(T0 + RECHECK_MS);
      const claimX = async (at: number) =>
        (await store.claimJobs('j', 10, at, LEASE)).find((j) => j.messageId === jobOf(waits, 'x').messageId);
      const xAgain = await claimX(T0 + 100 + 60_000);
      // A retry that was an attempt is an outcome; a retry whose job the worker lost wakes nothing.
      await store.completeJobs([{ ...retry(xAgain!, T0 + 200, false), workerId: 'other' }]);
      expect((await runOf(store, env, waits, 'x')).dueAt).toBe(T0 + RECHECK_MS);
      await store.completeJobs([retry(xAgain!, T0 + 300, false)]);
      expect((await runOf(store, env, waits, 'x')).dueAt).toBe(T0 + 300);
      // Never later than it was.
      const xLast = await claimX(T0 + 300 + 60_000);
      await store.completeJobs([completion(xLast!, T0 + 400)]);
      expect((await runOf(store, env, waits, 'x')).dueAt).toBe(T0 + 300);

      await store.completeJobs([completion(jobOf(waits, 'y'), T0 + 500), completion(jobOf(sleeps, 'z'), T0 + 500)]);
      // y's timer is held (no due time shown, not claimable before its lease ends); z sleeps on.
      expect((await runOf(store, env, waits, 'y')).dueAt).toBeNull();
      expect(await runOf(store, env, sleeps)).toMatchObject({ state: 'waiting', dueAt: T0 + HOUR });
      await close();
    });

    it("hands the engine each message's failed attempts: none while only deferred, then counted", async () => {
      const { store, environmentId: env, close } = await open();
      const conditional = await saveWorkflow(store, env, 'cond', [
        email({ ref: 'a' }),
        email({ ref: 'b', if: "steps.a.status == 'sent'" }),
      ]);
      await trigger(store, env, conditional, ['x'], T0);
      const messagesSeen = async (at: number) => {
        const [run] = await claimRuns(store, 'w1', at);
        await store.advanceRuns([await decide(store, run!, 'w1', at)], at);
        return run!.messages.map((m) => [m.status, m.failedAttempts]);
      };
      const retry = (job: ClaimedJob, at: number, deferred: boolean): JobCompletion => ({
        ...completion(job, at),
        status: 'retrying',
        attempts: deferred ? [] : [{ outcome: 'retry', detail: '451 later', durationMs: 1 }],
        reason: deferred ? 'deferred by quiet hours' : '451 later',
        retryAt: at + 1,
        deferred,
      });
      let at = T0;
      const [first] = await store.claimJobs('j', 1, at, LEASE);
      await store.completeJobs([retry(first!, at, true)]);
      at += RECHECK_MS;
      expect(await messagesSeen(at)).toEqual([
        ['retrying', 0],
        ['pending', 0],
      ]);
      const [second] = await store.claimJobs('j', 1, at, LEASE);
      await store.completeJobs([retry(second!, at, false)]);
      at += RECHECK_MS;
      expect(await messagesSeen(at)).toEqual([
        ['retrying', 1],
        ['pending', 0],
      ]);
      await close();
    });

    it('fails a run whose delay time is not a time, with its pending messages', async () => {
      const { store, environmentId: env, close } = await open();
      const wf = await saveWorkflow(store, env, 'until', [
        { type: 'delay', until: '{{ data.when }}' },
        email(),
        email(),
      ]);
      const plan = await trigger(store, env, wf, ['a'], T0, { data: { when: 'soon' } });
      const [run] = await claimRuns(store, 'w1', T0);
      const advance = await decide(store, run!, 'w1', T0);
      expect(advance.next.kind).toBe('failed');
      const reason = (advance.next as { reason: string }).reason;
      expect(await store.advanceRuns([advance], T0)).toEqual({
        statuses: [
          { channel: 'email', status: 'failed' },
          { channel: 'email', status: 'failed' },
        ],
      });
      const failed = await runOf(store, env, plan);
      expect(failed).toMatchObject({ state: 'failed', stepIndex: 0, reason, dueAt: null });
      expect(failed.messages.map((m) => [m.status, m.reason])).toEqual([
        ['failed', reason],
        ['failed', reason],
      ]);
      expect(await store.claimJobs('j', 10, T0, LEASE)).toEqual([]);
      await close();
    });

    it('drops an advance whose worker lost the timer, or whose run moved or ended', async () => {
      const { store, environmentId: env, close } = await open();
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);
      const plan = await trigger(store, env, delayed, ['a'], T0, { cancellationKey: 'k' });
      const [mine] = await claimRuns(store, 'w1', T0);
      const late = await decide(store, mine!, 'w1', T0);
      // w1's lease runs out; w2 takes the run over.
      const [theirs] = await claimRuns(store, 'w2', T0 + LEASE);
      expect(await store.advanceRuns([late], T0 + LEASE)).toEqual({ statuses: [] });
      expect(await runOf(store, env, plan)).toMatchObject({ state: 'active', stepIndex: 1, dueAt: null });
      // An advance from another step is not this run's any more.
      const stale: RunAdvance = { ...(await decide(store, theirs!, 'w2', T0 + LEASE)), fromStepIndex: 0 };
      await store.advanceRuns([stale], T0 + LEASE);
      expect((await runOf(store, env, plan)).state).toBe('active');
      const sleep = await decide(store, theirs!, 'w2', T0 + LEASE);
      const longer: RunAdvance = { ...sleep, next: { kind: 'sleep', stepIndex: 1, until: T0 + LEASE + 2 * HOUR } };
      // Applied once: the second finds the timer re-armed, no longer held.
      await store.advanceRuns([sleep, longer], T0 + LEASE);
      expect(await runOf(store, env, plan)).toMatchObject({ state: 'waiting', dueAt: T0 + LEASE + HOUR });
      await store.advanceRuns([longer], T0 + LEASE);
      expect((await runOf(store, env, plan)).dueAt).toBe(T0 + LEASE + HOUR);

      const [woken] = await claimRuns(store, 'w3', T0 + LEASE + HOUR);
      const finish = await decide(store, woken!, 'w3', T0 + LEASE + HOUR);
      expect(await store.cancelRuns(env, 'k', undefined, T0 + LEASE + HOUR)).toEqual({
        runs: 1,
        messages: 2,
        byChannel: { email: 2 },
      });
      await store.advanceRuns([finish], T0 + LEASE + HOUR);
      const canceled = await runOf(store, env, plan);
      expect(canceled).toMatchObject({ state: 'canceled', reason: 'canceled' });
      expect(canceled.messages.map((m) => m.status)).toEqual(['canceled', 'canceled']);
      await close();
    });

    it('opens one digest per scope, lets later runs join it, and hands it to the first when it closes', async () => {
      const { store, environmentId: env, close } = await open();
      const wf = await saveWorkflow(store, env, 'dg', [{ type: 'digest', window: '1h' }, email()]);
      const plans = [
        await trigger(store, env, wf, ['a'], T0, { data: { n: 0 } }),
        await trigger(store, env, wf, ['a'], T0 + 1, { data: { n: 1 } }),
        await trigger(store, env, wf, ['a'], T0 + 2, { data: { n: 2 } }),
        await trigger(store, env, wf, ['b'], T0 + 3, { data: { n: 3 } }),
      ];
      const runs = await claimRuns(store, 'w1', T0 + 10);
      const advances = await Promise.all(runs.map((run) => decide(store, run, 'w1', T0 + 10)));
      expect(advances[0]!.next).toMatchObject({
        kind: 'digest',
        stepIndex: 0,
        closesAt: T0 + 10 + HOUR,
        mode: 'batch',
      });
      // Two in one call (the first opens, the second joins), the third alone, b's in a scope of its own.
      await store.advanceRuns(advances.slice(0, 2), T0 + 10);
      await store.advanceRuns(advances.slice(2), T0 + 11);
      for (const plan of plans) {
        expect(await runOf(store, env, plan)).toMatchObject({ state: 'digesting', stepIndex: 0, dueAt: null });
      }
      expect(await store.nextTimerDueAt()).toBe(T0 + 10 + HOUR);
      expect(await store.claimTimers('w1', 10, T0 + 10 + HOUR - 1, LEASE)).toEqual([]);

      const closings = await claimDigests(store, 'w2', T0 + 11 + HOUR);
      expect(closings).toHaveLength(2);
      expect(closings.every((c) => c.timerId === c.digestId && c.environmentId === env)).toBe(true);
      // A worker that does not hold the timers closes nothing.
      expect(
        await store.closeDigests(
          closings.map((c) => ({ ...c, workerId: 'w1' })),
          T0 + 11 + HOUR,
        ),
      ).toEqual({
        statuses: [],
      });
      const result = await store.closeDigests(
        closings.map((c) => ({ ...c, workerId: 'w2' })),
        T0 + 12 + HOUR,
      );
      expect(result.statuses).toEqual([
        { channel: 'email', status: 'digested' },
        { channel: 'email', status: 'digested' },
      ]);
      const carrier = await runOf(store, env, plans[0]!);
      expect(carrier).toMatchObject({
        state: 'active',
        stepIndex: 1,
        dueAt: T0 + 12 + HOUR,
        reason: null,
        digest: { count: 3, events: [{ n: 0 }, { n: 1 }, { n: 2 }] },
      });
      const reason = foldedReason({ runId: carrier.runId, triggerId: plans[0]!.triggerId });
      for (const plan of plans.slice(1, 3)) {
        const folded = await runOf(store, env, plan);
        expect(folded).toMatchObject({ state: 'digested', stepIndex: 0, reason, dueAt: null });
        expect(folded.messages.map((m) => [m.status, m.reason])).toEqual([['digested', reason]]);
      }
      // Alone in its digest, b's run carries it.
      expect(await runOf(store, env, plans[3]!)).toMatchObject({
        state: 'active',
        digest: { count: 1, events: [{ n: 3 }] },
      });

      // The carrier goes on with the digest, and its message's job carries it.
      const [carried] = (await claimRuns(store, 'w1', T0 + 12 + HOUR)).filter((r) => r.runId === carrier.runId);
      expect(carried?.digest).toEqual({ count: 3, events: [{ n: 0 }, { n: 1 }, { n: 2 }] });
      await store.advanceRuns([await decide(store, carried!, 'w1', T0 + 13 + HOUR)], T0 + 13 + HOUR);
      const [job] = await store.claimJobs('j', 10, T0 + 13 + HOUR, LEASE);
      expect(job).toMatchObject({ messageId: plans[0]!.messages[0]!.id, digest: { count: 3 }, openRunId: null });

      // The scope's next event opens a new digest.
      const next = await trigger(store, env, wf, ['a'], T0 + 14 + HOUR, { data: { n: 4 } });
      const [fresh] = await claimRuns(store, 'w1', T0 + 14 + HOUR);
      await store.advanceRuns([await decide(store, fresh!, 'w1', T0 + 14 + HOUR)], T0 + 14 + HOUR);
      expect((await runOf(store, env, next)).state).toBe('digesting');
      const [reopened] = await claimDigests(store, 'w2', T0 + 14 + 2 * HOUR);
      expect(closings.map((c) => c.digestId)).not.toContain(reopened!.digestId);
      await store.closeDigests([{ ...reopened!, workerId: 'w2' }], T0 + 14 + 2 * HOUR);
      expect(await runOf(store, env, next)).toMatchObject({
        state: 'active',
        digest: { count: 1, events: [{ n: 4 }] },
      });
      await close();
    });

    it('first-now: the run that opens a digest goes on at once; the later ones wait for the close', async () => {
      const { store, environmentId: env, close } = await open();
      const wf = await saveWorkflow(store, env, 'fn', [{ type: 'digest', window: '1h', mode: 'first-now' }, email()]);
      const plans = [
        await trigger(store, env, wf, ['a'], T0, { data: { n: 0 } }),
        await trigger(store, env, wf, ['a'], T0 + 1, { data: { n: 1 } }),
        await trigger(store, env, wf, ['a'], T0 + 2, { data: { n: 2 } }),
      ];
      const runs = await claimRuns(store, 'w1', T0 + 10);
      await store.advanceRuns(await Promise.all(runs.map((run) => decide(store, run, 'w1', T0 + 10))), T0 + 10);
      expect(await runOf(store, env, plans[0]!)).toMatchObject({
        state: 'active',
        stepIndex: 1,
        dueAt: T0 + 10,
        digest: { count: 1, events: [{ n: 0 }] },
      });
      expect((await runOf(store, env, plans[1]!)).state).toBe('digesting');
      const [closing] = await claimDigests(store, 'w2', T0 + 10 + HOUR);
      await store.closeDigests([{ ...closing!, workerId: 'w2' }], T0 + 10 + HOUR);
      expect(await runOf(store, env, plans[1]!)).toMatchObject({
        state: 'active',
        digest: { count: 2, events: [{ n: 1 }, { n: 2 }] },
      });
      expect((await runOf(store, env, plans[2]!)).state).toBe('digested');
      await close();
    });

    it('throttles runs past the limit in the window, with their messages', async () => {
      const { store, environmentId: env, close } = await open();
      const wf = await saveWorkflow(store, env, 'th', [{ type: 'throttle', limit: 2, window: '1h' }, email()]);
      const plans = [
        await trigger(store, env, wf, ['a'], T0),
        await trigger(store, env, wf, ['a'], T0 + 1),
        await trigger(store, env, wf, ['a'], T0 + 2),
        await trigger(store, env, wf, ['b'], T0 + 3),
      ];
      const runs = await claimRuns(store, 'w1', T0 + 10);
      const advances = await Promise.all(runs.map((run) => decide(store, run, 'w1', T0 + 10)));
      const reason = 'throttled at step throttle_1: 2 runs in 1h already for this recipient';
      expect(advances[2]!.next).toMatchObject({ kind: 'throttle', limit: 2, windowStart: T0 + 10 - HOUR, reason });
      expect(await store.advanceRuns(advances, T0 + 10)).toEqual({
        statuses: [{ channel: 'email', status: 'throttled' }],
      });
      for (const plan of [plans[0]!, plans[1]!, plans[3]!]) {
        expect(await runOf(store, env, plan)).toMatchObject({ state: 'active', stepIndex: 1, dueAt: T0 + 10 });
      }
      const throttled = await runOf(store, env, plans[2]!);
      expect(throttled).toMatchObject({ state: 'throttled', stepIndex: 0, reason, dueAt: null });
      expect(throttled.messages.map((m) => [m.status, m.reason])).toEqual([['throttled', reason]]);

      // Once the first hits are out of the window, the scope lets one through again.
      const later = await trigger(store, env, wf, ['a'], T0 + 11 + HOUR);
      const [run] = (await claimRuns(store, 'w2', T0 + 11 + HOUR)).filter((r) => r.triggerId === later.triggerId);
      await store.advanceRuns([await decide(store, run!, 'w2', T0 + 11 + HOUR)], T0 + 11 + HOUR);
      expect((await runOf(store, env, later)).state).toBe('active');
      await close();
    });

    it('cancels by key the runs not finished and the messages not under way, with their timers and jobs', async () => {
      const { store, environmentId: env, close } = await open();
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);
      const digest = await saveWorkflow(store, env, 'dg', [{ type: 'digest', window: '1h' }, email()]);
      const plan = await trigger(store, env, delayed, ['a', 'b', 'c'], T0, { cancellationKey: 'order-1' });
      // One of its first emails is being sent.
      const [sending] = await store.claimJobs('j', 1, T0, LEASE);
      const digesting = await trigger(store, env, digest, ['a'], T0 + 1, { cancellationKey: 'order-1' });
      const otherKey = await trigger(store, env, delayed, ['a'], T0 + 1, { cancellationKey: 'order-2' });
      // The digest run waits in its digest.
      const [digestRun] = (await claimRuns(store, 'w1', T0 + 1)).filter((r) => r.triggerId === digesting.triggerId);
      await store.advanceRuns([await decide(store, digestRun!, 'w1', T0 + 1)], T0 + 1);

      expect(await store.cancelRuns('env_other', 'order-1', undefined, T0 + 2)).toEqual({
        runs: 0,
        messages: 0,
        byChannel: {},
      });
      expect(await store.cancelRuns(env, 'order-1', 'elsewhere', T0 + 2)).toEqual({
        runs: 0,
        messages: 0,
        byChannel: {},
      });
      // 4 runs; messages: the 3 pending second emails, 2 queued first ones (not the one being
      // sent) and the digest run's pending one.
      expect(await store.cancelRuns(env, 'order-1', undefined, T0 + 2)).toEqual({
        runs: 4,
        messages: 6,
        byChannel: { email: 6 },
      });
      for (const run of [...(await runsOf(store, env, plan)), ...(await runsOf(store, env, digesting))]) {
        expect(run).toMatchObject({ state: 'canceled', reason: 'canceled', dueAt: null });
      }
      const messages = (await runsOf(store, env, plan)).flatMap((run) => run.messages);
      expect(messages.filter((m) => m.status === 'canceled')).toHaveLength(5);
      expect(messages.find((m) => m.id === sending!.messageId)?.status).toBe('sending');
      expect(await store.cancelRuns(env, 'order-1', undefined, T0 + 3)).toEqual({
        runs: 0,
        messages: 0,
        byChannel: {},
      });

      // Only order-2 is left to do; the digest closes with nothing.
      expect((await store.claimJobs('j', 10, T0 + 3, LEASE)).map((j) => j.triggerId)).toEqual([otherKey.triggerId]);
      const timers = await store.claimTimers('w2', 10, T0 + 2 * HOUR, LEASE);
      expect(timers.map((t) => (t.kind === 'run' ? t.triggerId : t.kind)).sort()).toEqual(
        ['digest', otherKey.triggerId].sort(),
      );
      const closing = timers.find((t): t is ClaimedDigest => t.kind === 'digest')!;
      expect(await store.closeDigests([{ ...closing, workerId: 'w2' }], T0 + 2 * HOUR)).toEqual({ statuses: [] });
      expect((await runOf(store, env, digesting)).state).toBe('canceled');
      await close();
    });
  });
}
