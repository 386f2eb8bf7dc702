import type pg from 'pg';
import { FANOUT_PAGE_SIZE } from '../../core/fan-out.js';
import type { ClaimedFanout, FanoutAdvance, FanoutWorkResult } from '../../core/runs.js';
import { appendMessagesAndCommit } from './commit-trigger.js';
import { inTransactionCommittedBy } from './connection.js';
import { toClaimedFanout, type ClaimedFanoutRow } from '../topic-rows.js';

/** The claimed fan-outs still running, with what planning a page needs (triggers_pkey). */
const CLAIMED_FANOUTS = `
  SELECT f.trigger_id, f.environment_id, f.topics, f.cursor, t.workflow_key, t.workflow_version_id, t.send_at,
         t.actor_id
  FROM fanouts f JOIN triggers t ON t.id = f.trigger_id
  WHERE f.trigger_id = ANY($1::text[]) AND f.state = 'running'`;

/**
 * A fan-out's next page: the first $4 members of each topic after the cursor (a range of
 * topic_subscribers_pkey each, LATERAL … LIMIT), merged, each once, in byte order (COLLATE "C").
 */
const NEXT_MEMBERS = `
  SELECT DISTINCT m.subscriber_id FROM unnest($2::text[]) AS k(key)
  CROSS JOIN LATERAL (
    SELECT subscriber_id FROM topic_subscribers
    WHERE environment_id = $1 AND topic_key = k.key AND subscriber_id > $3
    ORDER BY subscriber_id LIMIT $4
  ) m
  ORDER BY m.subscriber_id LIMIT $4`;

/**
 * Reads the fan-outs of claimed timers with their next pages; the timers of fan-outs that are no
 * longer running (done or canceled meanwhile) are deleted.
 */
export async function claimedFanouts(pool: pg.Pool, timerIds: string[], workerId: string): Promise<ClaimedFanout[]> {
  if (timerIds.length === 0) return [];
  const { rows } = await pool.query<ClaimedFanoutRow>({
    name: 'herald_claimed_fanouts',
    text: CLAIMED_FANOUTS,
    values: [timerIds],
  });
  const running = new Set(rows.map((row) => row.trigger_id));
  const over = timerIds.filter((id) => !running.has(id));
  if (over.length > 0) {
    await pool.query('DELETE FROM run_timers WHERE id = ANY($1::text[]) AND locked_by = $2', [over, workerId]);
  }
  const fanouts: ClaimedFanout[] = [];
  for (const row of rows) {
    const { rows: members } = await pool.query<{ subscriber_id: string }>({
      name: 'herald_fanout_members',
      text: NEXT_MEMBERS,
      values: [row.environment_id, JSON.parse(row.topics) as string[], row.cursor, FANOUT_PAGE_SIZE],
    });
    fanouts.push(
      toClaimedFanout(
        row,
        members.map((m) => m.subscriber_id),
      ),
    );
  }
  return fanouts;
}

/**
 * Writes one fan-out page in one transaction, if the worker still holds the fan-out at the cursor
 * it planned from. The fan-out's row is locked first, as cancelRuns locks it: a cancellation and a
 * page take turns, and a page after a cancellation finds it canceled. The runs go in with ON
 * CONFLICT DO NOTHING on runs_by_trigger (a member the trigger named directly keeps that run), and
 * only the runs written get their timers, jobs and messages; the messages, the NOTIFY and the
 * COMMIT go in one round trip (commit-trigger.ts).
 */
export async function advanceFanout(
  pool: pg.Pool,
  page: FanoutAdvance,
  now: number,
  jobsChannel: string,
): Promise<FanoutWorkResult> {
  const nothing: FanoutWorkResult = { runs: 0, messages: 0, queued: 0 };
  return inTransactionCommittedBy(pool, async (client) => {
    const { rows: held } = await client.query<{ cursor: string }>(
      `SELECT f.cursor FROM fanouts f
       WHERE f.trigger_id = $1 AND f.state = 'running'
         AND EXISTS (SELECT 1 FROM run_timers tm WHERE tm.id = f.trigger_id AND tm.locked_by = $2)
       FOR UPDATE OF f`,
      [page.triggerId, page.workerId],
    );
    if (held[0]?.cursor !== page.fromCursor) return { value: nothing, committed: false };
    const { start } = page;
    const { rows: inserted } = await client.query<{ id: string; subscriber_id: string }>(
      `INSERT INTO runs (id, environment_id, trigger_id, subscriber_id, state, step_index, created_at, updated_at)
       SELECT id, $3, $4, subscriber_id, $5, $6, $7, $7 FROM unnest($1::text[], $2::text[]) AS u(id, subscriber_id)
       ON CONFLICT (trigger_id, subscriber_id) DO NOTHING
       RETURNING id, subscriber_id`,
      [
        page.runs.map((run) => run.id),
        page.runs.map((run) => run.subscriberId),
        page.environmentId,
        page.triggerId,
        start.state,
        start.stepIndex,
        now,
      ],
    );
    const reached = new Set(inserted.map((row) => row.subscriber_id));
    const messages = page.messages.filter((message) => reached.has(message.subscriberId));
    const queued = messages.filter((message) => message.status === 'queued');
    const timed = start.dueAt === null ? [] : inserted.map((row) => row.id);
    // The page's timers and jobs, and the fan-out moved on: due again at once, or over.
    await client.query(
      `WITH tm AS (
         INSERT INTO run_timers (id, kind, environment_id, due_at)
         SELECT id, 'run', $3, $4 FROM unnest($1::text[]) AS u(id)
       ), j AS (
         INSERT INTO jobs (id, message_id, available_at, created_at) SELECT id, id, $5, $5 FROM unnest($2::text[]) AS u(id)
       ), f AS (
         UPDATE fanouts SET cursor = $6, recipients = recipients + $7, updated_at = $5,
           state = CASE WHEN $8 THEN 'done' ELSE state END,
           finished_at = CASE WHEN $8 THEN $5 ELSE finished_at END
         WHERE trigger_id = $9
       ), done AS (
         DELETE FROM run_timers WHERE id = $9 AND $8
       )
       UPDATE run_timers SET due_at = $5, locked_by = NULL, claims = 0 WHERE id = $9 AND NOT $8`,
      [
        timed,
        queued.map((message) => message.id),
        page.environmentId,
        start.dueAt,
        now,
        page.cursor,
        reached.size,
        page.done,
        page.triggerId,
      ],
    );
    await appendMessagesAndCommit(
      client,
      messages.map((message) => ({
        ...message,
        environmentId: page.environmentId,
        triggerId: page.triggerId,
        workflowKey: page.workflowKey,
        workflowVersionId: page.workflowVersionId,
        createdAt: now,
      })),
      jobsChannel,
    );
    return { value: { runs: reached.size, messages: messages.length, queued: queued.length }, committed: true };
  });
}
