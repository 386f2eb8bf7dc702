import type pg from 'pg';
import type { RedriveBatch, RedriveFilter } from '../../core/store.js';
import { redriveConditions } from '../redrive-filter.js';
import { inTransaction } from './connection.js';
import { sqlLiteral } from './sql-literals.js';

/**
 * One re-drive batch (JobStore.redriveMessages) in one transaction. The failed messages are
 * picked along messages_by_status (environment_id, status, id) — or a trigger's, a subscriber's or
 * one message's index, which the planner prefers when given — and locked (SKIP LOCKED: a
 * concurrent re-drive takes others, never the same ones twice); the UPDATE re-checks the status.
 * A job's id is its message's, so a message that somehow still has a job keeps that one. The
 * NOTIFY wakes workers in every process at commit.
 */
export function redriveMessages(
  pool: pg.Pool,
  jobsChannel: string,
  env: string,
  filter: RedriveFilter,
  limit: number,
  now: number,
): Promise<RedriveBatch> {
  const values: unknown[] = [env, limit + 1];
  const where = ['environment_id = $1', "status = 'failed'"];
  where.push(
    ...redriveConditions(filter, (value) => {
      values.push(value);
      return `$${values.length}`;
    }),
  );
  return inTransaction(pool, async (client) => {
    const candidates = (
      await client.query<{ id: string }>(
        `SELECT id FROM messages WHERE ${where.join(' AND ')} ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        values,
      )
    ).rows.map((row) => row.id);
    const picked = candidates.slice(0, limit);
    if (picked.length === 0) return { messageIds: [], more: false };
    const requeued = (
      await client.query<{ id: string }>(
        `WITH requeued AS (
           UPDATE messages SET status = 'queued', reason = NULL, failed_attempts = 0, updated_at = $2
           WHERE id = ANY($1::text[]) AND status = 'failed'
           RETURNING id
         ), queued AS (
           INSERT INTO jobs (id, message_id, available_at, created_at)
           SELECT id, id, $2, $2 FROM requeued ON CONFLICT (id) DO NOTHING
         )
         SELECT id FROM requeued ORDER BY id`,
        [picked, now],
      )
    ).rows.map((row) => row.id);
    await client.query(`SELECT pg_notify(${sqlLiteral(jobsChannel)}, '')`);
    return { messageIds: requeued, more: candidates.length > limit };
  });
}
