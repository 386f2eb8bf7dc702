import { describe, expect, it } from 'vitest';
import { hourOf, rollupStatus } from '../../../src/core/message-stats.js';
import type { ClaimedJob, JobCompletion, Store } from '../../../src/core/store.js';
import type { WorkflowStep } from '../../../src/core/types.js';
import { LEASE, seedMessages, T0, type OpenStore } from './fixtures.js';
import { claimRuns, decide, saveWorkflow, trigger } from './runs.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const email = (extra: Partial<Extract<WorkflowStep, { type: 'email' }>> = {}): WorkflowStep => ({
  type: 'email',
  subject: 's',
  text: 't',
  ...extra,
});

function outcome(job: ClaimedJob, workerId: string, at: number, status: 'sent' | 'failed' | 'retrying'): JobCompletion {
  return {
    jobId: job.jobId,
    workerId,
    messageId: job.messageId,
    at,
    attempts: [{ outcome: status === 'retrying' ? 'retry' : status, detail: status, durationMs: 1 }],
    status,
    reason: status === 'sent' ? null : status,
    wakeRun: job.openRunId,
    ...(status === 'retrying' && { retryAt: at + HOUR }),
  };
}

/** The rollup as a COUNT(*) over the delivery log would give it: by hour of the outcome, channel and status. */
async function countedFromLog(store: Store, env: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let cursor: string | undefined;
  do {
    const page = await store.listMessages(env, { limit: 100, ...(cursor !== undefined && { cursor }) });
    for (const m of page.items) {
      const status = rollupStatus(m.status);
      if (status === undefined) continue;
      const key = `${hourOf(m.updatedAt)} ${m.channel} ${status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return counts;
}

async function rollup(store: Store, env: string, since = T0 - DAY, until = T0 + 3 * DAY) {
  const counts: Record<string, number> = {};
  for (const row of await store.messageRollup(env, since, until)) {
    expect(row.environmentId).toBe(env);
    counts[`${row.hour} ${row.channel} ${row.status}`] = row.count;
  }
  return counts;
}

/** The message rollup (MessageStatsStore), kept by every write that gives a message a final status. */
export function describeMessageStatsContract(name: string, open: OpenStore) {
  describe(`${name} store: message stats`, () => {
    it('counts what the delivery log holds after sends, failures, retries, skips, cancels and a lost lease', async () => {
      const { store, environmentId: env, close } = await open();
      const conditional = await saveWorkflow(store, env, 'cond', [
        email({ ref: 'a' }),
        email({ ref: 'b', if: "steps.a.status == 'failed'" }),
      ]);
      const plain = await saveWorkflow(store, env, 'plain', [email()]);
      const delayed = await saveWorkflow(store, env, 'delayed', [email(), { type: 'delay', for: '1h' }, email()]);

      // x's first email is sent, y's fails: x's second is skipped at the run's advance, y's goes,
      // is retried an hour later and is sent then.
      await trigger(store, env, conditional, ['x', 'y'], T0);
      const first = await store.claimJobs('j', 10, T0, LEASE);
      expect(first).toHaveLength(2);
      const bySubscriber = (jobs: ClaimedJob[], id: string) => jobs.find((j) => j.subscriber?.subscriberId === id)!;
      await store.completeJobs([
        outcome(bySubscriber(first, 'x'), 'j', T0 + 1, 'sent'),
        outcome(bySubscriber(first, 'y'), 'j', T0 + 1, 'failed'),
      ]);
      const runs = await claimRuns(store, 'w', T0 + 2);
      const advances = await Promise.all(runs.map((run) => decide(store, run, 'w', T0 + 2)));
      expect(await store.advanceRuns(advances, T0 + 2)).toEqual({
        statuses: [{ channel: 'email', status: 'skipped' }],
      });
      const [second] = await store.claimJobs('j', 10, T0 + 3, LEASE);
      await store.completeJobs([outcome(second!, 'j', T0 + 4, 'retrying')]);
      const [again] = await store.claimJobs('j', 10, T0 + 4 + HOUR, LEASE);
      expect(again?.messageId).toBe(second!.messageId);
      await store.completeJobs([outcome(again!, 'j', T0 + 5 + HOUR, 'sent')]);

      // A lost lease: w2 sends after w1's lease ran out, then w1's late failure decides the message.
      await trigger(store, env, plain, ['p'], T0 + 2 * HOUR);
      const [held] = await store.claimJobs('w1', 10, T0 + 2 * HOUR, LEASE);
      const [taken] = await store.claimJobs('w2', 10, T0 + 2 * HOUR + LEASE, LEASE);
      expect(taken?.jobId).toBe(held!.jobId);
      await store.completeJobs([outcome(taken!, 'w2', T0 + 2 * HOUR + LEASE + 1, 'sent')]);
      await store.completeJobs([outcome(held!, 'w1', T0 + 3 * HOUR, 'failed')]);

      // Canceled: c's queued first email and the pending second one.
      await trigger(store, env, delayed, ['c'], T0 + 3 * HOUR, { cancellationKey: 'k' });
      expect((await store.cancelRuns(env, 'k', undefined, T0 + 3 * HOUR + 5)).messages).toBe(2);

      const expected = {
        [`${T0 - (T0 % HOUR)} email sent`]: 1,
        [`${T0 - (T0 % HOUR)} email failed`]: 1,
        [`${T0 - (T0 % HOUR)} email skipped`]: 1,
        [`${hourOf(T0 + HOUR + 5)} email sent`]: 1,
        [`${hourOf(T0 + 3 * HOUR)} email failed`]: 1,
        [`${hourOf(T0 + 3 * HOUR)} email canceled`]: 2,
      };
      expect(await countedFromLog(store, env)).toEqual(expected);
      expect(await rollup(store, env)).toEqual(expected);
      // Another environment's rollup is its own.
      expect(await store.messageRollup('env_other', T0 - DAY, T0 + 3 * DAY)).toEqual([]);
      await close();
    });

    it('reads the hours from the one since falls in up to until, and prunes the hours ended before a time', async () => {
      const { store, environmentId: env, close } = await open();
      const plain = await saveWorkflow(store, env, 'plain', [email()]);
      for (const at of [T0, T0 + HOUR, T0 + 2 * HOUR]) {
        await trigger(store, env, plain, ['s'], at);
        const [job] = await store.claimJobs('j', 10, at, LEASE);
        await store.completeJobs([outcome(job!, 'j', at + 1, 'sent')]);
      }
      const hours = async (since: number, until: number) =>
        (await store.messageRollup(env, since, until)).map((row) => row.hour);
      const h0 = hourOf(T0);
      expect(await hours(T0 + HOUR - 1, T0 + 2 * HOUR + 10)).toEqual([h0, h0 + HOUR, h0 + 2 * HOUR]);
      expect(await hours(h0 + HOUR, h0 + 2 * HOUR)).toEqual([h0 + HOUR]);
      expect(await store.pruneMessageRollup(h0 + 2 * HOUR - 1)).toBe(1);
      expect(await hours(T0 - DAY, T0 + DAY)).toEqual([h0 + HOUR, h0 + 2 * HOUR]);
      await close();
    });

    it('answers the queue depth and how long the oldest due, unclaimed job has waited (the overview)', async () => {
      const { store, environmentId: env, close } = await open();
      await seedMessages(store, env, 3, T0);
      await store.claimJobs('w1', 1, T0 + 1_000, LEASE);
      expect(await store.queueStats(T0 + 5_000)).toEqual({ depth: 3, oldestDueAgeMs: 5_000 });
      await close();
    });
  });
}
