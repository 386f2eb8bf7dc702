import type { Database, Statement } from 'better-sqlite3';
import type { JobStore } from '../../core/store.js';
import { prepareClaimJobs } from './claim-jobs.js';
import { prepareCompleteJobs } from './complete-jobs.js';
import { prepareRedriveMessages } from './redrive-messages.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * Delivery jobs on SQLite; claims, completions and re-drives are in claim-jobs.ts,
 * complete-jobs.ts and redrive-messages.ts.
 */
export function sqliteJobMethods(
  db: Database,
  prepared: (sql: string) => Statement,
  writer: SqliteWriter,
): Omit<JobStore, 'onJobsAvailable'> {
  const claimJobs = prepareClaimJobs(db);
  const completeJobs = prepareCompleteJobs(db);
  const redriveMessages = prepareRedriveMessages(db);
  return {
    claimJobs(workerId, limit, now, leaseMs) {
      return writer.run(() => claimJobs(workerId, limit, now, leaseMs));
    },

    completeJobs(completions) {
      return writer.run(() => completeJobs(completions));
    },

    renewLeases(workerId, jobIds, until) {
      // The jobs' primary key, once per id.
      const renew = prepared('UPDATE jobs SET available_at = ? WHERE id = ? AND locked_by = ?');
      return writer.run(() =>
        jobIds.reduce((renewed, jobId) => renewed + renew.run(until, jobId, workerId).changes, 0),
      );
    },

    releaseJobs(workerId, now) {
      return writer.run(
        () =>
          prepared('UPDATE jobs SET available_at = ?, locked_by = NULL WHERE locked_by = ?').run(now, workerId).changes,
      );
    },

    async nextJobDueAt() {
      const row = prepared('SELECT MIN(available_at) AS at FROM jobs').get() as { at: number | null };
      return row.at ?? undefined;
    },

    redriveMessages(env, filter, limit, now) {
      return writer.run(() => redriveMessages(env, filter, limit, now));
    },

    async queueStats(now) {
      const depth = (prepared('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n;
      const oldest = (
        prepared('SELECT MIN(available_at) AS at FROM jobs WHERE available_at <= ?').get(now) as {
          at: number | null;
        }
      ).at;
      return { depth, oldestDueAgeMs: oldest === null ? 0 : now - oldest };
    },
  };
}
