import type pg from 'pg';
import type { RunStore } from '../../core/store.js';
import type { ClaimedRun, ClaimedTimer, FanoutWorkResult, RunState, RunWorkResult } from '../../core/runs.js';
import type { DigestContext } from '../../core/templates.js';
import type { MessageChannel, MessageStatus } from '../../core/types.js';
import { MESSAGE_COLUMNS, toSubscriber, type MessageRow, type SubscriberRow } from '../rows.js';
import { toTriggerDetails, type RunPageRow, type TriggerRow } from '../run-rows.js';
import { inTransaction, isDeadlock } from './connection.js';
import { applyAdvances } from './advance-runs.js';
import { applyClosings } from './close-digests.js';
import { advanceFanout, claimedFanouts } from './fan-out.js';

/** Run states the engine still moves; the others are final. */
const MOVING = `('scheduled', 'active', 'waiting', 'digesting')`;

/** States a claimed run is advanced from; a timer of a run in any other state is dropped. */
const ADVANCING: readonly RunState[] = ['scheduled', 'active', 'waiting'];

/** How often a run transaction is tried again after PostgreSQL chose it as a deadlock victim. */
const DEADLOCK_RETRIES = 3;

/**
 * Leases due timers and reads what advancing their runs needs, in one statement. The SELECT walks
 * run_timers_by_due_at; FOR UPDATE SKIP LOCKED lets workers of every process take different timers
 * without waiting (and skips a run whose advance is being written: it holds the timer's lock). The
 * run (runs_pkey), trigger (triggers_pkey) and subscriber (subscribers_pkey) are LATERAL … LIMIT 1
 * probes, as in claim-jobs.ts; a digest's timer has no run.
 */
const CLAIM_TIMERS = `
  WITH c AS (
    SELECT id, due_at FROM run_timers WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
  ), tm AS (
    UPDATE run_timers SET due_at = $3, locked_by = $4, claims = run_timers.claims + 1
    FROM c WHERE run_timers.id = c.id
    RETURNING run_timers.id, run_timers.kind, run_timers.environment_id, c.due_at
  )
  SELECT tm.id AS timer_id, tm.kind, tm.environment_id, r.trigger_id, r.subscriber_id AS run_subscriber_id,
         r.state, r.step_index, r.digest, t.workflow_key, t.workflow_version_id, t.data AS trigger_data,
         s.subscriber_id AS s_subscriber_id, s.subscriber_id, s.email, s.phone, s.name, s.locale, s.timezone,
         s.data, s.channels, s.preferences, s.created_at, s.updated_at
  FROM tm
  LEFT JOIN LATERAL (
    SELECT trigger_id, subscriber_id, state, step_index, digest FROM runs r
    WHERE tm.kind = 'run' AND r.id = tm.id LIMIT 1
  ) r ON true
  LEFT JOIN LATERAL (
    SELECT workflow_key, workflow_version_id, data FROM triggers t WHERE t.id = r.trigger_id LIMIT 1
  ) t ON true
  LEFT JOIN LATERAL (
    SELECT * FROM subscribers s
    WHERE s.environment_id = tm.environment_id AND s.subscriber_id = r.subscriber_id
    LIMIT 1
  ) s ON true
  ORDER BY tm.due_at, tm.id`;

interface ClaimedTimerRow extends SubscriberRow {
  timer_id: string;
  kind: ClaimedTimer['kind'];
  environment_id: string;
  trigger_id: string | null;
  run_subscriber_id: string | null;
  state: RunState | null;
  step_index: number | null;
  digest: string | null;
  workflow_key: string | null;
  workflow_version_id: string | null;
  trigger_data: string | null;
  s_subscriber_id: string | null;
}

/** The claimed runs' messages, one messages_by_run probe per run. */
const RUN_MESSAGES = `
  SELECT u.run_id, m.id, m.step_index, m.status, m.failed_attempts
  FROM unnest($1::text[], $2::text[], $3::text[]) AS u(run_id, trigger_id, subscriber_id)
  CROSS JOIN LATERAL (
    SELECT id, step_index, status, failed_attempts FROM messages m
    WHERE m.trigger_id = u.trigger_id AND m.subscriber_id = u.subscriber_id
    ORDER BY m.step_index
  ) m`;

/**
 * The triggers' fan-outs still running, made `canceled` (locked first, as a fan-out page locks its
 * fan-out: a page committed before this is canceled with the rest, one after finds it canceled),
 * and their timers deleted.
 */
const CANCEL_FANOUTS = `
  WITH canceled AS (
    UPDATE fanouts SET state = 'canceled', updated_at = $2, finished_at = $2
    WHERE trigger_id = ANY($1::text[]) AND state = 'running'
    RETURNING trigger_id
  )
  DELETE FROM run_timers WHERE id = ANY(ARRAY(SELECT trigger_id FROM canceled))`;

/** The runs of the triggers, locked in id order (as every run writer locks them), made `canceled`; their timers deleted. */
const CANCEL_RUNS = `
  WITH canceled AS (
    UPDATE runs SET state = 'canceled', reason = 'canceled', updated_at = $2
    WHERE id IN (SELECT id FROM runs WHERE trigger_id = ANY($1::text[]) AND state IN ${MOVING} ORDER BY id FOR UPDATE)
    RETURNING id
  ), dropped AS (
    DELETE FROM run_timers WHERE id = ANY(ARRAY(SELECT id FROM canceled))
  )
  SELECT COUNT(*) AS n FROM canceled`;

/**
 * First, the jobs of the triggers' messages not yet under way, locked: a claim taking one at this
 * instant is waited for, and its message, `sending` once it commits, is then left out. Jobs before
 * messages, as a claim locks them, so the two cannot deadlock; without this the claim, waiting for
 * the message the cancel had locked, made it `sending` after the cancel had counted it canceled.
 */
const LOCK_JOBS_NOT_UNDER_WAY = `
  SELECT j.id FROM jobs j JOIN messages m ON m.id = j.message_id
  WHERE m.trigger_id = ANY($1::text[]) AND m.status IN ('pending', 'queued', 'retrying')
  ORDER BY j.id FOR UPDATE OF j`;

/**
 * Then those messages (messages_by_trigger), made `canceled`, and their jobs deleted (locked by
 * this transaction already; SKIP LOCKED passes over any a claim took meanwhile); counted in the
 * rollup of the environment ($3) the triggers belong to.
 */
const CANCEL_MESSAGES = `
  WITH canceled AS (
    UPDATE messages SET status = 'canceled', reason = 'canceled', updated_at = $2
    WHERE trigger_id = ANY($1::text[]) AND status IN ('pending', 'queued', 'retrying')
    RETURNING id, channel
  ), dropped AS (
    DELETE FROM jobs WHERE id IN (
      SELECT id FROM jobs WHERE id = ANY(ARRAY(SELECT id FROM canceled)) AND locked_by IS NULL FOR UPDATE SKIP LOCKED
    )
  ), per_channel AS (
    SELECT channel, COUNT(*)::int AS n FROM canceled GROUP BY channel
  ), rolled AS (
    -- The rollup (core/message-stats.ts): in key order, as addToRollup locks its rows.
    INSERT INTO message_rollup AS r (environment_id, hour, channel, status, count)
    SELECT $3, $2 - $2 % 3600000, channel, 'canceled', n FROM per_channel ORDER BY channel
    ON CONFLICT (environment_id, hour, channel, status) DO UPDATE SET count = r.count + excluded.count
  )
  SELECT channel, n FROM per_channel`;

/** runs_by_trigger, from the cursor on, with each run's timer when no worker holds it. */
const RUN_PAGE = `
  SELECT r.id, r.subscriber_id, r.state, r.step_index, r.reason, r.digest, r.created_at, r.updated_at,
         CASE WHEN tm.locked_by IS NULL THEN tm.due_at END AS due_at
  FROM runs r LEFT JOIN run_timers tm ON tm.id = r.id
  WHERE r.trigger_id = $1 AND r.subscriber_id > $2
  ORDER BY r.subscriber_id
  LIMIT $3`;

/**
 * The run engine's storage on PostgreSQL: timers, run advances, digests, throttles, cancellation
 * and the trigger view, with the behaviour of sqlite/runs.ts for workers in many processes at once
 * (see run-writes.ts for the locks that make digests and throttles exact). `jobsChannel` is
 * NOTIFYed, at commit, when run work made jobs or timers due now.
 */
export function postgresRunMethods(pool: pg.Pool, jobsChannel: string): RunStore {
  /** One transaction, tried again if it was a deadlock victim (it was rolled back whole). */
  async function runTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await inTransaction(pool, work);
      } catch (error) {
        if (isDeadlock(error) && attempt < DEADLOCK_RETRIES) continue;
        throw error;
      }
    }
  }

  const runWork = (
    apply: (client: pg.PoolClient) => Promise<{ statuses: RunWorkResult['statuses']; dueNow: boolean }>,
  ) =>
    runTransaction(async (client): Promise<RunWorkResult> => {
      const { statuses, dueNow } = await apply(client);
      if (dueNow) await client.query('SELECT pg_notify($1, $2)', [jobsChannel, '']);
      return { statuses };
    });

  return {
    async nextTimerDueAt() {
      // One step on run_timers_by_due_at.
      const { rows } = await pool.query<{ at: string | null }>({
        name: 'herald_next_timer_due',
        text: 'SELECT MIN(due_at) AS at FROM run_timers',
      });
      return rows[0]?.at == null ? undefined : Number(rows[0].at);
    },

    async claimTimers(workerId, limit, now, leaseMs) {
      const { rows } = await pool.query<ClaimedTimerRow>({
        name: 'herald_claim_timers',
        text: CLAIM_TIMERS,
        values: [now, limit, now + leaseMs, workerId],
      });
      if (rows.length === 0) return [];
      const live = rows.filter((row) => row.kind === 'run' && row.state !== null && ADVANCING.includes(row.state));
      const isLive = new Set(live);
      // A run that ended (or whose row is gone) meanwhile has nothing left to do.
      const ended = rows.filter((row) => row.kind === 'run' && !isLive.has(row)).map((row) => row.timer_id);
      if (ended.length > 0) {
        await pool.query('DELETE FROM run_timers WHERE id = ANY($1::text[]) AND locked_by = $2', [ended, workerId]);
      }
      const fanouts = await claimedFanouts(
        pool,
        rows.filter((row) => row.kind === 'fanout').map((row) => row.timer_id),
        workerId,
      );
      const messagesOf = new Map<string, ClaimedRun['messages']>();
      if (live.length > 0) {
        const { rows: messages } = await pool.query<{
          run_id: string;
          id: string;
          step_index: number;
          status: MessageStatus;
          failed_attempts: number;
        }>({
          name: 'herald_claimed_run_messages',
          text: RUN_MESSAGES,
          values: [live.map((r) => r.timer_id), live.map((r) => r.trigger_id), live.map((r) => r.run_subscriber_id)],
        });
        for (const m of messages) {
          const list = messagesOf.get(m.run_id) ?? [];
          list.push({ id: m.id, stepIndex: m.step_index, status: m.status, failedAttempts: m.failed_attempts });
          messagesOf.set(m.run_id, list);
        }
      }
      const payloads = new Map<string, Record<string, unknown>>();
      const timers: ClaimedTimer[] = [...fanouts];
      for (const row of rows) {
        if (row.kind === 'digest') {
          timers.push({
            kind: 'digest',
            timerId: row.timer_id,
            digestId: row.timer_id,
            environmentId: row.environment_id,
          });
          continue;
        }
        if (!isLive.has(row)) continue;
        const triggerId = row.trigger_id!;
        let data = payloads.get(triggerId);
        if (!data) {
          data = row.trigger_data === null ? {} : (JSON.parse(row.trigger_data) as Record<string, unknown>);
          payloads.set(triggerId, data);
        }
        timers.push({
          kind: 'run',
          timerId: row.timer_id,
          runId: row.timer_id,
          environmentId: row.environment_id,
          triggerId,
          workflowKey: row.workflow_key!,
          workflowVersionId: row.workflow_version_id!,
          state: row.state!,
          stepIndex: row.step_index!,
          subscriber: row.s_subscriber_id === null ? null : toSubscriber(row),
          data,
          digest: row.digest === null ? null : (JSON.parse(row.digest) as DigestContext),
          messages: messagesOf.get(row.timer_id) ?? [],
        } satisfies ClaimedRun);
      }
      return timers;
    },

    advanceRuns(advances, now) {
      return runWork((client) => applyAdvances(client, advances, now));
    },

    closeDigests(closings, now) {
      return runWork((client) => applyClosings(client, closings, now));
    },

    async advanceFanouts(advances, now) {
      const result: FanoutWorkResult = { runs: 0, messages: 0, queued: 0 };
      for (const page of advances) {
        const written = await advanceFanout(pool, page, now, jobsChannel);
        result.runs += written.runs;
        result.messages += written.messages;
        result.queued += written.queued;
      }
      return result;
    },

    cancelRuns(env, key, workflow, now) {
      return runTransaction(async (client) => {
        // triggers_by_cancellation_key
        const { rows: triggers } = await client.query<{ id: string }>(
          `SELECT id FROM triggers WHERE environment_id = $1 AND cancellation_key = $2
             AND ($3::text IS NULL OR workflow_key = $3)`,
          [env, key, workflow ?? null],
        );
        if (triggers.length === 0) return { runs: 0, messages: 0, byChannel: {} };
        const ids = triggers.map((t) => t.id);
        await client.query(CANCEL_FANOUTS, [ids, now]);
        const [runs] = (await client.query<{ n: number }>(CANCEL_RUNS, [ids, now])).rows;
        await client.query(LOCK_JOBS_NOT_UNDER_WAY, [ids]);
        const perChannel = (
          await client.query<{ channel: MessageChannel; n: number }>(CANCEL_MESSAGES, [ids, now, env])
        ).rows;
        const byChannel = Object.fromEntries(perChannel.map((row) => [row.channel, Number(row.n)]));
        const messages = perChannel.reduce((sum, row) => sum + Number(row.n), 0);
        return { runs: Number(runs!.n), messages, byChannel };
      });
    },

    async getTrigger(env, triggerId, { limit, cursor }) {
      const { rows: triggers } = await pool.query<TriggerRow>(
        `SELECT t.id, t.workflow_key, t.workflow_version_id, t.data, t.send_at, t.cancellation_key, t.actor_id,
                t.test, t.created_at, f.topics AS fanout_topics, f.state AS fanout_state, f.recipients AS fanout_recipients,
                f.finished_at AS fanout_finished_at
         FROM triggers t LEFT JOIN fanouts f ON f.trigger_id = t.id
         WHERE t.id = $1 AND t.environment_id = $2`,
        [triggerId, env],
      );
      const trigger = triggers[0];
      if (!trigger) return undefined;
      const { rows } = await pool.query<RunPageRow>(RUN_PAGE, [triggerId, cursor ?? '', limit + 1]);
      const shown = rows.slice(0, limit).map((row) => row.subscriber_id);
      // The page's messages at once (messages_by_run).
      const messagesOf = new Map<string, MessageRow[]>();
      if (shown.length > 0) {
        const { rows: messages } = await pool.query<MessageRow>(
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE trigger_id = $1 AND subscriber_id = ANY($2::text[])
           ORDER BY subscriber_id, step_index`,
          [triggerId, shown],
        );
        for (const m of messages) {
          const list = messagesOf.get(m.subscriber_id) ?? [];
          list.push(m);
          messagesOf.set(m.subscriber_id, list);
        }
      }
      return toTriggerDetails(trigger, rows, limit, (subscriberId) => messagesOf.get(subscriberId) ?? []);
    },
  };
}
