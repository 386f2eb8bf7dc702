import type pg from 'pg';
import type { InboxEvent } from '../../core/inbox.js';
import type { JobCompletion } from '../../core/store.js';
import { packContent } from '../content.js';
import { inTransaction } from './connection.js';
import { feedKey, lockInboxFeeds, recordInboxEvents } from './inbox.js';

/**
 * Records job outcomes: the attempts, the messages' new state, and each job deleted (finished) or
 * made due again (retry). A retry only reschedules a job the worker still holds; if its lease was
 * lost to another worker, that worker's outcome decides the message state.
 *
 * A whole batch is one statement (its own transaction): a round trip costs more than the
 * statement here, and a worker records a batch every few milliseconds. All lookups are primary
 * keys (messages, jobs, subscribers) or dev_mail_by_message.
 *
 * A batch with in-app deliveries also adds their inbox items, with their feeds' events (NOTIFYed
 * on `inboxChannel`), in one transaction with the outcomes; it returns those events.
 */
export async function completeJobs(
  pool: pg.Pool,
  completions: readonly JobCompletion[],
  inboxChannel: string,
): Promise<InboxEvent[]> {
  if (completions.length === 0) return [];
  if (!completions.some((c) => c.inboxItem)) {
    const runs = runsWithoutRepeats(completions);
    if (runs.length === 1) {
      await pool.query(completeQuery(runs[0]!));
    } else {
      await inTransaction(pool, (client) => recordRuns(client, runs));
    }
    return [];
  }
  return inTransaction(pool, async (client) => {
    const { events, repeated } = await addInboxItems(client, completions);
    if (repeated.size > 0) {
      // Delivered again after a lost lease: the first completion added the item, and the message's
      // status follows that item now. Only the job is left to finish.
      await client.query('DELETE FROM jobs WHERE id = ANY($1::text[])', [[...repeated].map((c) => c.jobId)]);
    }
    const rest = completions.filter((c) => !repeated.has(c));
    if (rest.length > 0) await recordRuns(client, runsWithoutRepeats(rest));
    await recordInboxEvents(client, inboxChannel, events);
    return events;
  });
}

async function recordRuns(client: pg.PoolClient, runs: JobCompletion[][]): Promise<void> {
  for (const run of runs) await client.query(completeQuery(run));
}

/** The statement for one run: with the wake CTE only when a completion of it may wake a run. */
function completeQuery(run: JobCompletion[]): pg.QueryConfig {
  return run.some((c) => c.wakeRun)
    ? { name: 'herald_complete_jobs_waking', text: COMPLETE_WAKING, values: [...completeValues(run), wakeRuns(run)] }
    : { name: 'herald_complete_jobs', text: COMPLETE, values: completeValues(run) };
}

/**
 * Inserts the batch's inbox items whose subscribers still exist. The feed locks come first, and
 * deleteSubscriber takes the same lock before it deletes: a deletion has either committed before
 * ADD_ITEMS reads the subscribers, or runs after this commits and erases these items too.
 *
 * Returns the item.created events, in batch order with consecutive seqs per subscriber, and the
 * completions whose item was already there (from an earlier batch, or earlier in this one).
 * Completions of subscribers who are gone are neither: their outcome is recorded, erased, by COMPLETE.
 */
async function addInboxItems(
  client: pg.PoolClient,
  completions: readonly JobCompletion[],
): Promise<{ events: InboxEvent[]; repeated: Set<JobCompletion> }> {
  const inApp = completions.filter((c) => c.inboxItem);
  const feeds = await lockInboxFeeds(
    client,
    inApp.map((c) => c.inboxItem!),
  );
  const first = new Map<string, JobCompletion>();
  for (const c of inApp) if (!first.has(c.inboxItem!.item.id)) first.set(c.inboxItem!.item.id, c);
  const candidates = [...first.values()];
  const { rows } = await client.query<{ id: string; added: boolean }>({
    name: 'herald_add_inbox_items',
    text: ADD_ITEMS,
    values: addItemValues(candidates),
  });
  const live = new Map(rows.map((row) => [row.id, row.added]));

  const events: InboxEvent[] = [];
  const repeated = new Set<JobCompletion>();
  const gone = new Map<string, { environmentId: string; subscriberId: string }>();
  for (const c of inApp) {
    const { environmentId, subscriberId, item } = c.inboxItem!;
    const added = live.get(item.id);
    if (added === undefined) {
      gone.set(feedKey(environmentId, subscriberId), { environmentId, subscriberId });
    } else if (!added || first.get(item.id) !== c) {
      repeated.add(c);
    } else {
      const feed = feeds.get(feedKey(environmentId, subscriberId))!;
      feed.seq += 1;
      feed.total += 1;
      feed.unread += 1;
      feed.unseen += 1;
      events.push({
        environmentId,
        subscriberId,
        seq: feed.seq,
        type: 'item.created',
        item: { ...item, seenAt: null, readAt: null, archivedAt: null },
        counts: { total: feed.total, unread: feed.unread, unseen: feed.unseen },
        at: c.at,
      });
    }
  }
  if (gone.size > 0) {
    // The lock created their feed rows again after their erasure: leave nothing behind.
    const subscribers = [...gone.values()];
    await client.query(
      `DELETE FROM inbox_feeds f USING unnest($1::text[], $2::text[]) AS u(environment_id, subscriber_id)
       WHERE f.environment_id = u.environment_id AND f.subscriber_id = u.subscriber_id AND f.seq = 0`,
      [subscribers.map((s) => s.environmentId), subscribers.map((s) => s.subscriberId)],
    );
  }
  return { events, repeated };
}

/**
 * The items of a batch whose subscribers exist (subscribers_pkey), inserted in id order so that
 * two batches repeating the same messages wait on each other instead of deadlocking. Returns each
 * such item's id and whether this statement added it.
 */
const ADD_ITEMS = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::bigint[], $11::bigint[])
      AS u(id, environment_id, subscriber_id, workflow_key, title, body, action_url, avatar_url, data, created_at, at)
  ), live AS (
    SELECT i.* FROM input i
    WHERE EXISTS (
      SELECT FROM subscribers s WHERE s.environment_id = i.environment_id AND s.subscriber_id = i.subscriber_id
    )
  ), added AS (
    INSERT INTO inbox_items (id, environment_id, subscriber_id, workflow_key, title, body, action_url, avatar_url,
                             data, created_at, updated_at)
    SELECT id, environment_id, subscriber_id, workflow_key, title, body, action_url, avatar_url, data, created_at, at
    FROM live ORDER BY id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
  )
  SELECT live.id, added.id IS NOT NULL AS added FROM live LEFT JOIN added ON added.id = live.id`;

function addItemValues(completions: JobCompletion[]): unknown[] {
  const items = completions.map((c) => ({ ...c.inboxItem!, at: c.at }));
  return [
    items.map(({ item }) => item.id),
    items.map((i) => i.environmentId),
    items.map((i) => i.subscriberId),
    items.map(({ item }) => item.workflowKey),
    items.map(({ item }) => item.title),
    items.map(({ item }) => item.body),
    items.map(({ item }) => item.actionUrl),
    items.map(({ item }) => item.avatarUrl),
    items.map(({ item }) => (item.data === null ? null : JSON.stringify(item.data))),
    items.map(({ item }) => item.createdAt),
    items.map((i) => i.at),
  ];
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

/**
 * A run whose condition waits for these outcomes looks again now rather than at its recheck: a
 * final outcome, or a retry that was an attempt (not deferred) of a job the worker still held,
 * makes the run's timer due at the outcome's time, unless a worker holds the timer or it is due
 * sooner already, and only while the run is active (a sleeping run sleeps on). Several outcomes
 * for one run: the earliest. The timers are locked in id order (run_timers_pkey), so two batches
 * waking the same runs wait for each other instead of deadlocking.
 */
const WOKEN = `woken AS (
    UPDATE run_timers SET due_at = w.at
    FROM (
      SELECT tm.id, wake.at
      FROM (
        SELECT v.wake_run, MIN(v.at) AS at
        FROM v LEFT JOIN held ON held.id = v.job_id
        WHERE v.wake_run IS NOT NULL AND (v.status <> 'retrying' OR (held.id IS NOT NULL AND NOT v.deferred))
        GROUP BY v.wake_run
      ) wake
      JOIN run_timers tm ON tm.id = wake.wake_run AND tm.locked_by IS NULL AND tm.due_at > wake.at
      WHERE EXISTS (SELECT FROM runs r WHERE r.id = wake.wake_run AND r.state = 'active')
      ORDER BY tm.id
      FOR UPDATE OF tm
    ) w
    WHERE run_timers.id = w.id
  ),`;

/**
 * The rollup (core/message-stats.ts), one upsert per group of the run, in key order (as
 * addToRollup locks them): each message changed counts +1 in the group of its new status and -1 in
 * the group it was counted in before (a message finished again after a lost lease, or canceled
 * while its send was in flight). `old` is the message as the statement found it (its snapshot).
 * The statuses counted, and seen/read/archived counting as sent, are core's rollupStatus.
 */
const ROLLED = `
  INSERT INTO message_rollup AS r (environment_id, hour, channel, status, count)
  SELECT environment_id, hour, channel, status, SUM(n) FROM (
    SELECT environment_id, at - at % 3600000 AS hour, channel, status, 1 AS n FROM finished
    UNION ALL
    SELECT environment_id, old_at - old_at % 3600000, channel,
           CASE WHEN old_status IN ('seen', 'read', 'archived') THEN 'sent' ELSE old_status END, -1
    FROM (SELECT * FROM finished UNION ALL SELECT * FROM retried) c
  ) d
  WHERE status IN ('sent', 'failed', 'skipped', 'canceled')
  GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (environment_id, hour, channel, status) DO UPDATE SET count = r.count + excluded.count`;

/**
 * One run of completions, as one statement. The subscriber was deleted while a send was in
 * flight when `kept` misses its message: their erasure has already run, so the outcome is recorded
 * without the personal data it would bring back. FOR SHARE holds a concurrent deleteSubscriber
 * until this commits, so its erasure then covers what this writes (on SQLite the single writer
 * gives that order for free). LATERAL keeps it one subscribers_pkey probe per message: as a plain
 * join, the planner hashed the whole subscribers table while it was small (docs/query-plans.md).
 * The CTEs write disjoint rows: retried jobs are updated, finished ones deleted. A deferred retry
 * (the message waited for quiet hours or a busy destination) neither counts as a failed attempt nor
 * as a claim. An outcome that names no recipient, subject or content (a deferral dispatched nothing)
 * keeps what an earlier attempt recorded; only an erasure clears them. `= ANY(ARRAY(…))`
 * keeps the deletes on dev_mail_by_message and jobs_pkey (an IN subquery let the planner scan dev_mail).
 * Only a run with a completion that may wake a run takes the statement with WOKEN (and $21): the
 * common one stays as it was.
 */
const completeStatement = (waking: boolean) => `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::bytea[], $9::text[], $10::bigint[], $11::bigint[], $12::int[], $20::boolean[]
                         ${waking ? ', $21::text[]' : ''})
      AS u(job_id, worker_id, message_id, status, reason, recipient, subject, content, provider_message_id,
           at, retry_at, attempted, deferred ${waking ? ', wake_run' : ''})
  ), kept AS (
    SELECT m.id FROM messages m
    JOIN input i ON i.message_id = m.id AND i.attempted > 0
    CROSS JOIN LATERAL (
      SELECT FROM subscribers s
      WHERE s.environment_id = m.environment_id AND s.subscriber_id = m.subscriber_id
      FOR SHARE
    ) s
  ), v AS (
    SELECT i.*, (i.attempted > 0 AND kept.id IS NULL) AS erased
    FROM input i LEFT JOIN kept ON kept.id = i.message_id
  ), erased_mail AS (
    DELETE FROM dev_mail WHERE message_id = ANY(ARRAY(SELECT message_id FROM v WHERE erased))
  ), attempted AS (
    INSERT INTO attempts (message_id, at, outcome, detail, duration_ms, integration_id, provider)
    SELECT a.message_id, a.at, a.outcome, CASE WHEN v.erased THEN '[erased]' ELSE a.detail END, a.duration_ms,
           a.integration_id, a.provider
    FROM unnest($13::text[], $14::bigint[], $15::text[], $16::text[], $17::int[], $18::text[], $19::text[])
      WITH ORDINALITY AS a(message_id, at, outcome, detail, duration_ms, integration_id, provider, n)
    JOIN v ON v.message_id = a.message_id
    -- In the order given: attempts of one millisecond keep it through their seq (a join alone may not).
    ORDER BY a.n
  ), held AS (
    UPDATE jobs SET available_at = v.retry_at, locked_by = NULL, claims = jobs.claims - v.deferred::int
    FROM v WHERE v.status = 'retrying' AND jobs.id = v.job_id AND jobs.locked_by = v.worker_id
    RETURNING jobs.id
  ), retried AS (
    UPDATE messages SET status = 'retrying',
      reason = CASE WHEN v.erased THEN NULL ELSE v.reason END,
      recipient = CASE WHEN v.erased THEN NULL ELSE COALESCE(v.recipient, messages.recipient) END,
      attempt_count = messages.attempt_count + v.attempted,
      failed_attempts = messages.failed_attempts + (NOT v.deferred)::int,
      updated_at = v.at
    FROM v JOIN held ON held.id = v.job_id JOIN messages old ON old.id = v.message_id
    WHERE messages.id = v.message_id
    RETURNING messages.environment_id, messages.channel, 'retrying' AS status, v.at,
      old.status AS old_status, old.updated_at AS old_at
  ), ${waking ? WOKEN : ''} finished_jobs AS (
    DELETE FROM jobs WHERE id = ANY(ARRAY(SELECT job_id FROM v WHERE status <> 'retrying'))
  ), finished AS (
  UPDATE messages SET status = v.status,
    reason = CASE WHEN v.erased THEN NULL ELSE v.reason END,
    recipient = CASE WHEN v.erased THEN NULL ELSE COALESCE(v.recipient, messages.recipient) END,
    subject = CASE WHEN v.erased THEN NULL ELSE COALESCE(v.subject, messages.subject) END,
    content = CASE WHEN v.erased THEN NULL ELSE COALESCE(v.content, messages.content) END,
    provider_message_id = v.provider_message_id,
    attempt_count = messages.attempt_count + v.attempted,
    failed_attempts = messages.failed_attempts + (v.attempted > 0 AND v.status <> 'sent')::int,
    sent_at = CASE WHEN v.status = 'sent' THEN v.at END,
    updated_at = v.at
  FROM v JOIN messages old ON old.id = v.message_id
  WHERE v.status <> 'retrying' AND messages.id = v.message_id
  RETURNING messages.environment_id, messages.channel, v.status, v.at, old.status AS old_status, old.updated_at AS old_at
  )
  ${ROLLED}`;

const COMPLETE = completeStatement(false);

const COMPLETE_WAKING = completeStatement(true);

function completeValues(run: JobCompletion[]): unknown[] {
  return [
    run.map((c) => c.jobId),
    run.map((c) => c.workerId),
    run.map((c) => c.messageId),
    run.map((c) => c.status),
    run.map((c) => c.reason),
    run.map((c) => c.recipient ?? null),
    run.map((c) => c.subject ?? null),
    run.map((c) => (c.content ? packContent(c.content) : null)),
    run.map((c) => c.providerMessageId ?? null),
    run.map((c) => c.at),
    run.map((c) => c.retryAt ?? c.at),
    run.map((c) => c.attempts.length),
    ...attemptColumns(run),
    run.map((c) => c.deferred === true),
  ];
}

/** $21 of COMPLETE_WAKING: the run each completion may wake, or null. */
function wakeRuns(run: JobCompletion[]): (string | null)[] {
  return run.map((c) => c.wakeRun ?? null);
}

/** The attempts of a run, flattened: each row names its message. */
function attemptColumns(run: JobCompletion[]): unknown[][] {
  const attempts = run.flatMap((c) => c.attempts.map((attempt) => ({ c, attempt })));
  return [
    attempts.map(({ c }) => c.messageId),
    attempts.map(({ c, attempt }) => attempt.at ?? c.at),
    attempts.map(({ attempt }) => attempt.outcome),
    attempts.map(({ attempt }) => attempt.detail),
    attempts.map(({ attempt }) => attempt.durationMs),
    attempts.map(({ attempt }) => attempt.integrationId ?? null),
    attempts.map(({ attempt }) => attempt.provider ?? null),
  ];
}
