import type pg from 'pg';
import type { JobCompletion } from '../../core/store.js';
import { packContent } from '../content.js';
import { inTransaction } from './connection.js';

/**
 * Records job outcomes in one transaction: the attempts, the messages' new state, and each job
 * deleted (finished) or made due again (retry). A retry only reschedules a job the worker still
 * holds; if its lease was lost to another worker, that worker's outcome decides the message state.
 *
 * Each statement covers a whole run of completions (unnest / = ANY), so a batch costs a handful
 * of round trips, not a handful per job. All lookups are primary keys (messages, jobs,
 * subscribers) or dev_mail_by_message.
 */
export async function completeJobs(pool: pg.Pool, completions: readonly JobCompletion[]): Promise<void> {
  if (completions.length === 0) return;
  await inTransaction(pool, async (client) => {
    for (const run of runsWithoutRepeats(completions)) await completeRun(client, run);
  });
}

/**
 * Splits the batch where a job or message comes back, so that within a run every row is written
 * once and runs apply in order: the same result as recording the completions one by one.
 */
function runsWithoutRepeats(completions: readonly JobCompletion[]): JobCompletion[][] {
  const runs: JobCompletion[][] = [];
  let run: JobCompletion[] = [];
  const seen = new Set<string>();
  for (const c of completions) {
    if (seen.has(`j:${c.jobId}`) || seen.has(`m:${c.messageId}`)) {
      runs.push(run);
      run = [];
      seen.clear();
    }
    seen.add(`j:${c.jobId}`).add(`m:${c.messageId}`);
    run.push(c);
  }
  runs.push(run);
  return runs;
}

async function completeRun(client: pg.PoolClient, run: JobCompletion[]): Promise<void> {
  const attempted = run.filter((c) => c.attempt !== null);
  // The subscriber was deleted while a send was in flight: their erasure has already run, so
  // record the outcome without the personal data it would bring back. FOR SHARE holds a concurrent
  // deleteSubscriber until this commits, so its erasure then covers what this writes (on SQLite the
  // single writer gives that order for free). LATERAL makes it one subscribers_pkey probe per
  // message: as a plain join, the planner hashed the whole subscribers table for every batch while
  // the table was small (docs/query-plans.md).
  const kept = new Set(
    attempted.length === 0
      ? []
      : (
          await client.query<{ id: string }>(
            `SELECT m.id FROM messages m
             CROSS JOIN LATERAL (
               SELECT FROM subscribers s
               WHERE s.environment_id = m.environment_id AND s.subscriber_id = m.subscriber_id
               FOR SHARE
             ) s
             WHERE m.id = ANY($1::text[])`,
            [attempted.map((c) => c.messageId)],
          )
        ).rows.map((row) => row.id),
  );
  const erased = new Set(attempted.filter((c) => !kept.has(c.messageId)).map((c) => c.messageId));
  if (erased.size > 0) {
    await client.query('DELETE FROM dev_mail WHERE message_id = ANY($1::text[])', [[...erased]]);
  }
  if (attempted.length > 0) {
    await client.query(
      `INSERT INTO attempts (message_id, at, outcome, detail, duration_ms)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[])`,
      [
        attempted.map((c) => c.messageId),
        attempted.map((c) => c.at),
        attempted.map((c) => c.attempt!.outcome),
        attempted.map((c) => (erased.has(c.messageId) ? '[erased]' : c.attempt!.detail)),
        attempted.map((c) => c.attempt!.durationMs),
      ],
    );
  }
  const erase = (c: JobCompletion) => erased.has(c.messageId);
  await retry(
    client,
    run.filter((c) => c.status === 'retrying'),
    erase,
  );
  await finish(
    client,
    run.filter((c) => c.status !== 'retrying'),
    erase,
  );
}

async function retry(client: pg.PoolClient, retries: JobCompletion[], erase: (c: JobCompletion) => boolean) {
  if (retries.length === 0) return;
  // Only the jobs still locked by the worker reporting the retry move; their messages follow.
  await client.query(
    `WITH held AS (
       UPDATE jobs SET available_at = u.retry_at, locked_by = NULL
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(job_id, worker_id, retry_at)
       WHERE jobs.id = u.job_id AND jobs.locked_by = u.worker_id
       RETURNING jobs.id
     )
     UPDATE messages SET status = 'retrying', reason = u.reason, recipient = u.recipient,
       attempt_count = attempt_count + 1, failed_attempts = failed_attempts + 1, updated_at = u.at
     FROM unnest($1::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
       AS u(job_id, message_id, reason, recipient, at)
     JOIN held ON held.id = u.job_id
     WHERE messages.id = u.message_id`,
    [
      retries.map((c) => c.jobId),
      retries.map((c) => c.workerId),
      retries.map((c) => c.retryAt ?? c.at),
      retries.map((c) => c.messageId),
      retries.map((c) => (erase(c) ? null : c.reason)),
      retries.map((c) => (erase(c) ? null : (c.recipient ?? null))),
      retries.map((c) => c.at),
    ],
  );
}

async function finish(client: pg.PoolClient, finished: JobCompletion[], erase: (c: JobCompletion) => boolean) {
  if (finished.length === 0) return;
  // Jobs before messages, the order claim-jobs.ts locks them in.
  await client.query('DELETE FROM jobs WHERE id = ANY($1::text[])', [finished.map((c) => c.jobId)]);
  await client.query(
    `UPDATE messages SET status = u.status, reason = u.reason, recipient = u.recipient, subject = u.subject,
       content = u.content, provider_message_id = u.provider_message_id,
       attempt_count = attempt_count + u.attempted, failed_attempts = failed_attempts + u.failed,
       sent_at = u.sent_at, updated_at = u.at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[],
                 $8::int[], $9::int[], $10::bigint[], $11::bigint[])
       AS u(message_id, status, reason, recipient, subject, content, provider_message_id,
            attempted, failed, sent_at, at)
     WHERE messages.id = u.message_id`,
    [
      finished.map((c) => c.messageId),
      finished.map((c) => c.status),
      finished.map((c) => (erase(c) ? null : c.reason)),
      finished.map((c) => (erase(c) ? null : (c.recipient ?? null))),
      finished.map((c) => (erase(c) ? null : (c.subject ?? null))),
      finished.map((c) => (c.content && !erase(c) ? packContent(c.content) : null)),
      finished.map((c) => c.providerMessageId ?? null),
      finished.map((c) => (c.attempt ? 1 : 0)),
      finished.map((c) => (c.attempt && c.status !== 'sent' ? 1 : 0)),
      finished.map((c) => (c.status === 'sent' ? c.at : null)),
      finished.map((c) => c.at),
    ],
  );
}
