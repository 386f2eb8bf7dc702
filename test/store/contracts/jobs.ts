import { describe, expect, it } from 'vitest';
import type { ClaimedJob, JobCompletion } from '../../../src/core/store.js';
import { LEASE, seedMessages, sent, T0, type OpenStore } from './fixtures.js';

/** The job queue (JobStore): claims under leases, outcomes, renewals and releases. */
export function describeJobsContract(name: string, open: OpenStore) {
  describe(`${name} store: jobs`, () => {
    it('never hands the same job to two workers', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 10);
      const [a, b] = await Promise.all([store.claimJobs('w1', 10, T0, LEASE), store.claimJobs('w2', 10, T0, LEASE)]);
      const ids = [...a, ...b].map((job) => job.jobId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(10);
      await close();
    });

    it('claims a job again only after its lease expires', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 1);
      const [first] = await store.claimJobs('w1', 5, T0, LEASE);
      expect(first?.claims).toBe(1);
      expect(await store.claimJobs('w2', 5, T0 + LEASE - 1, LEASE)).toHaveLength(0);
      const [again] = await store.claimJobs('w2', 5, T0 + LEASE, LEASE);
      expect(again?.jobId).toBe(first?.jobId);
      expect(again?.claims).toBe(2);
      await close();
    });

    it('hands out the subscriber with each claimed job and marks the message sending', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 2);
      const jobs = await store.claimJobs('w1', 5, T0, LEASE);
      expect(jobs.map((job) => job.subscriber?.email).sort()).toEqual(['s0@example.com', 's1@example.com']);
      const message = await store.getMessage(environmentId, plan.messages[0]!.id);
      expect(message?.status).toBe('sending');
      expect((await store.getTriggerData([plan.triggerId])).get(plan.triggerId)).toEqual({ n: 1 });
      await close();
    });

    it('records a sent outcome and removes the job', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 1);
      const [job] = await store.claimJobs('w1', 1, T0, LEASE);
      await store.completeJobs([sent(job!, T0 + 5, '250 ok', 'hello', 5)]);
      const message = await store.getMessage(environmentId, plan.messages[0]!.id);
      expect(message).toMatchObject({ status: 'sent', recipient: 's0@example.com', subject: 'hello', attemptCount: 1 });
      expect(message?.attempts).toEqual([
        { at: T0 + 5, outcome: 'sent', detail: '250 ok', durationMs: 5, integrationId: null, provider: null },
      ]);
      expect(message?.content).toEqual({ html: null, text: 'body of hello' });
      expect(await store.queueStats(T0 + 10)).toEqual({ depth: 0, oldestDueAgeMs: 0 });
      expect(await store.claimJobs('w1', 1, T0 + 10 * LEASE, LEASE)).toHaveLength(0);
      await close();
    });

    it('reschedules a retry only while the worker still holds the job', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 1);
      const [job] = await store.claimJobs('w1', 1, T0, LEASE);
      const retry = (workerId: string, at: number) =>
        store.completeJobs([
          {
            jobId: job!.jobId,
            workerId,
            messageId: job!.messageId,
            at,
            attempts: [{ outcome: 'retry', detail: '451 later', durationMs: 1 }],
            status: 'retrying',
            reason: '451 later',
            retryAt: at + 1_000,
          },
        ]);
      await retry('w1', T0 + 1);
      expect(await store.nextJobDueAt()).toBe(T0 + 1_001);
      const [again] = await store.claimJobs('w2', 1, T0 + 1_001, LEASE);
      expect(again?.failedAttempts).toBe(1);
      // w1 no longer holds it: its late retry must not move w2's lease.
      await retry('w1', T0 + 2_000);
      expect(await store.nextJobDueAt()).toBe(T0 + 1_001 + LEASE);
      const message = await store.getMessage(environmentId, job!.messageId);
      expect(message?.attempts.map((a) => a.outcome)).toEqual(['retry', 'retry']);
      await close();
    });

    it('puts back a deferred message without counting a failed attempt or a claim', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 1);
      const defer = (job: ClaimedJob, at: number): JobCompletion => ({
        jobId: job.jobId,
        workerId: 'w1',
        messageId: job.messageId,
        at,
        attempts: [],
        status: 'retrying',
        reason: 'waiting for smtp-main: 2 sends in flight there',
        retryAt: at + 500,
        deferred: true,
      });
      let at = T0;
      for (let round = 0; round < 3; round++) {
        const [job] = await store.claimJobs('w1', 1, at, LEASE);
        expect(job).toMatchObject({ claims: 1, failedAttempts: 0 });
        await store.completeJobs([defer(job!, at + 1)]);
        expect(await store.nextJobDueAt()).toBe(at + 501);
        expect(await store.getMessage(environmentId, job!.messageId)).toMatchObject({
          status: 'retrying',
          reason: expect.stringContaining('waiting for smtp-main'),
          attemptCount: 0,
        });
        at += 501;
      }
      const message = await store.getMessage(environmentId, (await store.claimJobs('w1', 1, at, LEASE))[0]!.messageId);
      expect(message).toMatchObject({ status: 'sending', attemptCount: 0, attempts: [] });
      await close();
    });

    it('keeps the recipient an earlier attempt recorded through deferrals and outcomes that name none', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 2);
      const completion = (job: ClaimedJob, at: number, fields: Partial<JobCompletion>): JobCompletion => ({
        jobId: job.jobId,
        workerId: 'w1',
        messageId: job.messageId,
        at,
        attempts: [],
        status: 'retrying',
        reason: null,
        retryAt: at + 1_000,
        ...fields,
      });
      const failedOnce = (job: ClaimedJob, at: number) =>
        completion(job, at, {
          attempts: [{ outcome: 'retry', detail: '451 later', durationMs: 1 }],
          reason: '451 later',
          recipient: job.subscriber!.email,
        });
      const [a, b] = await store.claimJobs('w1', 2, T0, LEASE);
      await store.completeJobs([failedOnce(a!, T0 + 1), failedOnce(b!, T0 + 1)]);
      let at = T0 + 1_001;
      // Held by quiet hours (no recipient known: nothing was dispatched), then by a busy
      // destination that names none either: neither clears what the attempt recorded.
      for (const recipient of [undefined, null]) {
        const jobs = await store.claimJobs('w1', 2, at, LEASE);
        expect(jobs).toHaveLength(2);
        const reason = 'deferred by quiet hours (22:00–08:00 Europe/Berlin) until 2027-03-28T08:00+02:00';
        await store.completeJobs(
          jobs.map((job) =>
            completion(job, at, { reason, deferred: true, ...(recipient !== undefined && { recipient }) }),
          ),
        );
        for (const job of jobs) {
          expect(await store.getMessage(environmentId, job.messageId)).toMatchObject({
            status: 'retrying',
            reason,
            recipient: job.subscriber!.email,
            attemptCount: 1,
          });
        }
        at += 1_000;
      }
      const jobs = await store.claimJobs('w1', 2, at, LEASE);
      const byId = new Map(jobs.map((job) => [job.messageId, job]));
      const [first, second] = [byId.get(a!.messageId)!, byId.get(b!.messageId)!];
      await store.completeJobs([
        sent(first, at, '250 ok', 'hello', 3),
        // A final outcome that names no recipient (the preferences turned it off) keeps it too.
        { ...completion(second, at, { status: 'skipped', reason: 'email off for workflow w' }), retryAt: undefined },
      ]);
      expect(await store.getMessage(environmentId, first.messageId)).toMatchObject({
        status: 'sent',
        recipient: first.subscriber!.email,
        subject: 'hello',
        content: { html: null, text: 'body of hello' },
        attemptCount: 2,
      });
      expect(await store.getMessage(environmentId, second.messageId)).toMatchObject({
        status: 'skipped',
        reason: 'email off for workflow w',
        recipient: second.subscriber!.email,
        attemptCount: 1,
      });
      await close();
    });

    it('extends the leases a worker still holds, and only those', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 2);
      const [a, b] = await store.claimJobs('w1', 2, T0, LEASE);
      // Another worker's renewal changes nothing.
      expect(await store.renewLeases('w2', [a!.jobId, b!.jobId], T0 + 10 * LEASE)).toBe(0);
      expect(await store.renewLeases('w1', [a!.jobId], T0 + 3 * LEASE)).toBe(1);
      // Past the first lease only the job that was not renewed is due again.
      const reclaimed = await store.claimJobs('w2', 5, T0 + LEASE, LEASE);
      expect(reclaimed.map((job) => job.jobId)).toEqual([b!.jobId]);
      // w1 lost b to w2: renewing it now must not take it back.
      expect(await store.renewLeases('w1', [a!.jobId, b!.jobId], T0 + 3 * LEASE)).toBe(1);
      // a is held until T0 + 3 leases; b, whose lease w2 did not renew, is due from T0 + 2 leases.
      const due = (at: number) => store.claimJobs('w3', 5, at, LEASE).then((jobs) => jobs.map((job) => job.jobId));
      expect(await due(T0 + 3 * LEASE - 1)).toEqual([b!.jobId]);
      expect(await due(T0 + 3 * LEASE)).toEqual([a!.jobId]);
      await close();
    });

    it('re-drives failed messages: queued again with one job each, attempts kept, the schedule reset', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 3);
      const jobs = await store.claimJobs('w1', 3, T0, LEASE);
      const failed = (job: ClaimedJob): JobCompletion => ({
        jobId: job.jobId,
        workerId: 'w1',
        messageId: job.messageId,
        at: T0 + 1,
        attempts: [{ outcome: 'failed', detail: '550 no such user', durationMs: 1 }],
        status: 'failed',
        reason: '550 no such user',
      });
      const [first, second, third] = [...jobs].sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
      await store.completeJobs([failed(first!), failed(second!), sent(third!, T0 + 1, '250 ok', 'hi', 1)]);
      const ids = plan.messages.map((m) => m.id).sort();

      // One message by id; a sent one is not failed, so nothing happens to it.
      expect(await store.redriveMessages(environmentId, { messageId: ids[2]! }, 1, T0 + 2)).toEqual({
        messageIds: [],
        more: false,
      });
      expect(await store.redriveMessages(environmentId, { messageId: ids[0]! }, 1, T0 + 2)).toEqual({
        messageIds: [ids[0]],
        more: false,
      });
      // The rest, oldest first, one per call: then none, however often asked.
      expect(await store.redriveMessages(environmentId, {}, 1, T0 + 2)).toEqual({ messageIds: [ids[1]], more: false });
      expect(await store.redriveMessages(environmentId, {}, 10, T0 + 2)).toEqual({ messageIds: [], more: false });
      expect(await store.redriveMessages('env_other', {}, 10, T0 + 2)).toEqual({ messageIds: [], more: false });

      const message = await store.getMessage(environmentId, ids[0]!);
      expect(message).toMatchObject({ status: 'queued', reason: null, attemptCount: 1 });
      expect(message?.attempts.map((a) => a.outcome)).toEqual(['failed']);
      const again = await store.claimJobs('w2', 10, T0 + 2, LEASE);
      expect(again.map((job) => job.messageId).sort()).toEqual(ids.slice(0, 2));
      expect(again.every((job) => job.claims === 1 && job.failedAttempts === 0)).toBe(true);
      await close();
    });

    it('re-drives by workflow, subscriber and creation time, and says when more match', async () => {
      const { store, environmentId, close } = await open();
      const early = await seedMessages(store, environmentId, 2, T0);
      const late = await seedMessages(store, environmentId, 2, T0 + 1000);
      const jobs = await store.claimJobs('w1', 10, T0 + 2000, LEASE);
      await store.completeJobs(
        jobs.map((job) => ({
          jobId: job.jobId,
          workerId: 'w1',
          messageId: job.messageId,
          at: T0 + 2001,
          attempts: [],
          status: 'failed' as const,
          reason: 'gone',
        })),
      );
      const redrive = (filter: Parameters<typeof store.redriveMessages>[1], limit = 10) =>
        store.redriveMessages(environmentId, filter, limit, T0 + 3000);
      expect(await redrive({ workflow: 'other' })).toEqual({ messageIds: [], more: false });
      expect(await redrive({ channel: 'sms' })).toEqual({ messageIds: [], more: false });
      const earlyIds = early.messages.map((m) => m.id).sort();
      expect(await redrive({ createdBefore: T0 + 500 }, 1)).toEqual({ messageIds: [earlyIds[0]], more: true });
      expect(await redrive({ createdBefore: T0 + 500 })).toEqual({ messageIds: [earlyIds[1]], more: false });
      const lateMessage = late.messages[0]!;
      expect(await redrive({ createdFrom: T0 + 1000, subscriberId: lateMessage.subscriberId, workflow: 'w' })).toEqual({
        messageIds: [lateMessage.id],
        more: false,
      });
      expect((await redrive({ triggerId: late.triggerId })).messageIds).toEqual([late.messages[1]!.id]);
      await close();
    });

    it('releases the jobs a worker holds', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 3);
      await store.claimJobs('w1', 3, T0, LEASE);
      expect(await store.releaseJobs('w1', T0 + 1)).toBe(3);
      expect(await store.claimJobs('w2', 3, T0 + 1, LEASE)).toHaveLength(3);
      await close();
    });
  });
}
