import type { Database } from 'better-sqlite3';
import type { ClaimedJob } from '../../core/store.js';
import { claimedJobMapper, type ClaimedDetailRow, type ClaimedJobRow } from '../rows.js';

/**
 * Leases due jobs. The inner SELECT walks jobs_by_available_at; the message and subscriber reads
 * are primary-key lookups for the whole batch at once (json_each over the claimed ids), and so are
 * the trigger's payload and the run (runs_by_trigger).
 */
export function prepareClaimJobs(db: Database) {
  const claim = db.prepare(`
    UPDATE jobs SET available_at = @leaseUntil, locked_by = @workerId, claims = claims + 1
    WHERE id IN (SELECT id FROM jobs WHERE available_at <= @now ORDER BY available_at LIMIT @limit)
    RETURNING id, message_id, claims`);
  const markSending = db.prepare(`
    UPDATE messages SET status = 'sending', updated_at = ?
    WHERE id IN (SELECT value FROM json_each(?))`);
  const details = db.prepare(`
    SELECT m.id AS message_id, m.environment_id, m.trigger_id, m.workflow_key, m.workflow_version_id,
           m.step_index, m.failed_attempts, m.test,
           s.subscriber_id AS s_subscriber_id, s.subscriber_id, s.email, s.phone, s.name, s.locale,
           s.timezone, s.data, s.channels, s.preferences, s.created_at, s.updated_at, t.data AS trigger_data,
           r.id AS run_id, r.state AS run_state, r.digest AS run_digest
    FROM messages m
    LEFT JOIN subscribers s ON s.environment_id = m.environment_id AND s.subscriber_id = m.subscriber_id
    LEFT JOIN triggers t ON t.id = m.trigger_id
    LEFT JOIN runs r ON r.trigger_id = m.trigger_id AND r.subscriber_id = m.subscriber_id
    WHERE m.id IN (SELECT value FROM json_each(?))`);

  return (workerId: string, limit: number, now: number, leaseMs: number): ClaimedJob[] => {
    const claimed = claim.all({ workerId, limit, now, leaseUntil: now + leaseMs }) as ClaimedJobRow[];
    if (claimed.length === 0) return [];
    const ids = JSON.stringify(claimed.map((row) => row.message_id));
    markSending.run(now, ids);
    const byMessage = new Map<string, ClaimedDetailRow>();
    for (const row of details.all(ids) as (ClaimedDetailRow & { message_id: string })[]) {
      byMessage.set(row.message_id, row);
    }
    const jobs: ClaimedJob[] = [];
    const toJob = claimedJobMapper();
    for (const row of claimed) {
      const detail = byMessage.get(row.message_id);
      if (!detail) continue; // the message was deleted with its environment; nothing to deliver
      jobs.push(toJob(row, detail));
    }
    return jobs;
  };
}
