import type pg from 'pg';
import type { ClaimedJob } from '../../core/store.js';
import { claimedJobMapper, type ClaimedDetailRow, type ClaimedJobRow } from '../rows.js';

/**
 * Leases due jobs in one statement, so the lease and the messages' `sending` status commit
 * together. The SELECT walks jobs_by_available_at; FOR UPDATE SKIP LOCKED lets concurrent workers
 * (any process) each take different rows without waiting on one another. The messages UPDATE and
 * the subscriber join are primary-key lookups for the whole batch (no query per job). The
 * subscriber is a LATERAL … LIMIT 1 so that it stays a subscribers_pkey probe per job: as a plain
 * LEFT JOIN the planner hashed the whole subscribers table on every claim while it was small
 * (below ~30,000 rows; docs/query-plans.md). The trigger's payload comes along the same way
 * (triggers_pkey), which spares the worker a query per claim, and so does the message's run
 * (runs_by_trigger): its digest, and whether it may wait for this message's outcome.
 */
export const CLAIM = `
  WITH c AS (
    SELECT id FROM jobs WHERE available_at <= $1 ORDER BY available_at LIMIT $2 FOR UPDATE SKIP LOCKED
  ), j AS (
    UPDATE jobs SET available_at = $3, locked_by = $4, claims = jobs.claims + 1
    FROM c WHERE jobs.id = c.id
    RETURNING jobs.id, jobs.message_id, jobs.claims
  ), m AS (
    UPDATE messages SET status = 'sending', updated_at = $1
    FROM j WHERE messages.id = j.message_id
    RETURNING messages.id, messages.environment_id, messages.trigger_id, messages.workflow_key,
              messages.workflow_version_id, messages.step_index, messages.failed_attempts, messages.subscriber_id,
              messages.test
  )
  SELECT j.id, j.message_id, j.claims, m.environment_id, m.trigger_id, m.workflow_key, m.workflow_version_id,
         m.step_index, m.failed_attempts, m.test,
         s.subscriber_id AS s_subscriber_id, s.subscriber_id, s.email, s.phone, s.name, s.locale, s.timezone,
         s.data, s.channels, s.preferences, s.created_at, s.updated_at, t.data AS trigger_data,
         r.id AS run_id, r.state AS run_state, r.digest AS run_digest
  FROM j
  JOIN m ON m.id = j.message_id -- a job whose message is gone has nothing to deliver
  LEFT JOIN LATERAL (
    SELECT * FROM subscribers s
    WHERE s.environment_id = m.environment_id AND s.subscriber_id = m.subscriber_id
    LIMIT 1
  ) s ON true
  LEFT JOIN LATERAL (SELECT data FROM triggers t WHERE t.id = m.trigger_id LIMIT 1) t ON true
  LEFT JOIN LATERAL (
    SELECT id, state, digest FROM runs r
    WHERE r.trigger_id = m.trigger_id AND r.subscriber_id = m.subscriber_id
    LIMIT 1
  ) r ON true`;

export async function claimJobs(
  pool: pg.Pool,
  workerId: string,
  limit: number,
  now: number,
  leaseMs: number,
): Promise<ClaimedJob[]> {
  // Named: each connection parses and plans the statement once, not on every claim.
  const { rows } = await pool.query<ClaimedJobRow & ClaimedDetailRow>({
    name: 'herald_claim_jobs',
    text: CLAIM,
    values: [now, limit, now + leaseMs, workerId],
  });
  const toJob = claimedJobMapper();
  return rows.map((row) => toJob(row, row));
}
