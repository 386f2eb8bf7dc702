import type pg from 'pg';
import type { JobStore } from '../../core/store.js';
import { claimJobs } from './claim-jobs.js';
import { completeJobs } from './complete-jobs.js';
import { rowQueries } from './connection.js';
import { redriveMessages } from './redrive-messages.js';

/**
 * Delivery jobs on PostgreSQL; claims and completions are in claim-jobs.ts and complete-jobs.ts.
 * Completions announce inbox events on `channels.inboxEvents`; re-drives wake workers on `channels.jobs`.
 */
export function postgresJobMethods(
  pool: pg.Pool,
  channels: { inboxEvents: string; jobs: string },
): Omit<JobStore, 'onJobsAvailable'> {
  const { query, named } = rowQueries(pool);
  return {
    claimJobs(workerId, limit, now, leaseMs) {
      return claimJobs(pool, workerId, limit, now, leaseMs);
    },

    completeJobs(completions) {
      return completeJobs(pool, completions, channels.inboxEvents);
    },

    redriveMessages(env, filter, limit, now) {
      return redriveMessages(pool, channels.jobs, env, filter, limit, now);
    },

    async renewLeases(workerId, jobIds, until) {
      // The jobs' primary key, for the whole list in one statement.
      const result = await pool.query({
        name: 'herald_renew_leases',
        text: 'UPDATE jobs SET available_at = $1 WHERE id = ANY($2::text[]) AND locked_by = $3',
        values: [until, jobIds, workerId],
      });
      return result.rowCount ?? 0;
    },

    async releaseJobs(workerId, now) {
      // jobs_by_locked_by
      const result = await pool.query('UPDATE jobs SET available_at = $1, locked_by = NULL WHERE locked_by = $2', [
        now,
        workerId,
      ]);
      return result.rowCount ?? 0;
    },

    async nextJobDueAt() {
      // One step on jobs_by_available_at.
      const [row] = await named<{ at: number | null }>(
        'herald_next_job_due',
        'SELECT MIN(available_at) AS at FROM jobs',
        [],
      );
      return row?.at ?? undefined;
    },

    async queueStats(now) {
      const [row] = await query<{ depth: number; oldest: number | null }>(
        'SELECT COUNT(*) AS depth, MIN(available_at) FILTER (WHERE available_at <= $1) AS oldest FROM jobs',
        [now],
      );
      return { depth: row!.depth, oldestDueAgeMs: row!.oldest === null ? 0 : now - row!.oldest };
    },
  };
}
