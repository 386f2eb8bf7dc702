import type { Database } from 'better-sqlite3';
import { newId } from '../../core/ids.js';
import { digestOf, foldedReason } from '../../core/run-engine.js';
import { RollupTally } from '../../core/message-stats.js';
import type { RunStore } from '../../core/store.js';
import type { ClaimedRun, ClaimedTimer, RunAdvance, RunState, RunWorkResult } from '../../core/runs.js';
import type { DigestContext } from '../../core/templates.js';
import type { MessageChannel, MessageStatus } from '../../core/types.js';
import { MESSAGE_COLUMNS, toSubscriber, type MessageRow, type SubscriberRow } from '../rows.js';
import { toTriggerDetails, type RunPageRow, type TriggerRow } from '../run-rows.js';
import { prepareSqliteFanouts } from './fan-out.js';
import { prepareAddToRollup } from './message-stats.js';
import type { SqliteWriter } from './sqlite-writer.js';

/** Run states the engine still moves; the others are final. */
const MOVING = `('scheduled', 'active', 'waiting', 'digesting')`;
/** States a run is advanced from (a digesting run moves when its digest closes). */
const ADVANCED_FROM: readonly RunState[] = ['scheduled', 'active', 'waiting'];

interface RunRow extends SubscriberRow {
  run_id: string;
  environment_id: string;
  trigger_id: string;
  run_subscriber_id: string;
  state: RunState;
  step_index: number;
  digest: string | null;
  workflow_key: string;
  workflow_version_id: string;
  trigger_data: string;
  s_subscriber_id: string | null;
}

interface Changed {
  channel: MessageChannel;
  status: MessageStatus;
}

/**
 * The run engine's storage on SQLite: timers, run advances, digests, throttles, cancellation and
 * the trigger view. Every write runs on the one writer, so digests and throttles need no locks:
 * a join, a close and a count never interleave.
 */
export function sqliteRunMethods(db: Database, writer: SqliteWriter): RunStore {
  const claim = db.prepare(`
    UPDATE run_timers SET due_at = @leaseUntil, locked_by = @workerId, claims = claims + 1
    WHERE id IN (SELECT id FROM run_timers WHERE due_at <= @now ORDER BY due_at LIMIT @limit)
    RETURNING id, kind, environment_id`);
  const fanouts = prepareSqliteFanouts(db);
  const runDetails = db.prepare(`
    SELECT r.id AS run_id, r.environment_id, r.trigger_id, r.subscriber_id AS run_subscriber_id, r.state,
           r.step_index, r.digest, t.workflow_key, t.workflow_version_id, t.data AS trigger_data,
           s.subscriber_id AS s_subscriber_id, s.subscriber_id, s.email, s.phone, s.name, s.locale, s.timezone,
           s.data, s.channels, s.preferences, s.created_at, s.updated_at
    FROM runs r
    JOIN triggers t ON t.id = r.trigger_id
    LEFT JOIN subscribers s ON s.environment_id = r.environment_id AND s.subscriber_id = r.subscriber_id
    WHERE r.id IN (SELECT value FROM json_each(?))`);
  // messages_by_run
  const runMessages = db.prepare(`
    SELECT id, step_index, status, failed_attempts FROM messages WHERE trigger_id = ? AND subscriber_id = ?
    ORDER BY step_index`);
  const deleteTimer = db.prepare('DELETE FROM run_timers WHERE id = ?');
  const heldTimer = db.prepare('SELECT 1 FROM run_timers WHERE id = ? AND locked_by = ?').pluck();
  const setTimer = db.prepare(`
    INSERT INTO run_timers (id, kind, environment_id, due_at) VALUES (@id, @kind, @env, @due)
    ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, locked_by = NULL, claims = 0`);
  const currentRun = db.prepare(`
    SELECT environment_id, trigger_id, subscriber_id, state, step_index FROM runs WHERE id = ?`);
  const moveRun = db.prepare(`
    UPDATE runs SET state = @state, step_index = @stepIndex, reason = @reason, updated_at = @now,
      digest_id = COALESCE(@digestId, digest_id), digest = COALESCE(@digest, digest)
    WHERE id = @id`);
  const dispatch = db.prepare(`
    UPDATE messages SET status = 'queued', updated_at = ? WHERE id = ? AND status = 'pending'`);
  const insertJob = db.prepare('INSERT INTO jobs (id, message_id, available_at, created_at) VALUES (?, ?, ?, ?)');
  const skip = db.prepare(`
    UPDATE messages SET status = 'skipped', reason = ?, updated_at = ? WHERE id = ? AND status = 'pending'
    RETURNING channel`);
  // The run's messages it will not reach: end them with the run (messages_by_run).
  const endPending = db.prepare(`
    UPDATE messages SET status = @status, reason = @reason, updated_at = @now
    WHERE trigger_id = @triggerId AND subscriber_id = @subscriberId AND status = 'pending'
    RETURNING channel`);
  const openDigest = db.prepare('SELECT id FROM digests WHERE environment_id = ? AND scope = ?').pluck();
  const insertDigest = db.prepare(`
    INSERT INTO digests (id, environment_id, scope, step_index, mode, opened_at, closes_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const countHits = db
    .prepare('SELECT COUNT(*) FROM throttle_hits WHERE environment_id = ? AND scope = ? AND at > ?')
    .pluck();
  const insertHit = db.prepare('INSERT INTO throttle_hits (environment_id, scope, at) VALUES (?, ?, ?)');
  // Hits out of the window count no more: each scope keeps at most `limit` rows.
  const forgetHits = db.prepare('DELETE FROM throttle_hits WHERE environment_id = ? AND scope = ? AND at <= ?');
  const digestRow = db.prepare('SELECT environment_id, step_index FROM digests WHERE id = ?');
  const deleteDigest = db.prepare('DELETE FROM digests WHERE id = ?');
  // runs_by_digest; members in the order they joined.
  const members = db.prepare(`
    SELECT r.id, r.trigger_id, r.subscriber_id, t.data
    FROM runs r JOIN triggers t ON t.id = r.trigger_id
    WHERE r.digest_id = ? AND r.state = 'digesting' ORDER BY r.updated_at, r.id`);
  const triggersByKey = db.prepare(`
    SELECT id FROM triggers WHERE environment_id = @env AND cancellation_key = @key
      AND (@workflow IS NULL OR workflow_key = @workflow)`);
  const cancelTriggerRuns = db.prepare(`
    UPDATE runs SET state = 'canceled', reason = 'canceled', updated_at = ?
    WHERE trigger_id = ? AND state IN ${MOVING} RETURNING id`);
  const cancelTriggerMessages = db.prepare(`
    UPDATE messages SET status = 'canceled', reason = 'canceled', updated_at = ?
    WHERE trigger_id = ? AND status IN ('pending', 'queued', 'retrying') RETURNING id, channel`);
  const deleteUnheldJob = db.prepare('DELETE FROM jobs WHERE id = ? AND locked_by IS NULL');
  const cancelFanout = db.prepare(`
    UPDATE fanouts SET state = 'canceled', updated_at = ?, finished_at = ? WHERE trigger_id = ? AND state = 'running'`);
  const triggerRow = db.prepare(`
    SELECT t.id, t.workflow_key, t.workflow_version_id, t.data, t.send_at, t.cancellation_key, t.actor_id, t.test,
           t.created_at,
           f.topics AS fanout_topics, f.state AS fanout_state, f.recipients AS fanout_recipients,
           f.finished_at AS fanout_finished_at
    FROM triggers t LEFT JOIN fanouts f ON f.trigger_id = t.id
    WHERE t.id = ? AND t.environment_id = ?`);
  const runPage = db.prepare(`
    SELECT r.id, r.subscriber_id, r.state, r.step_index, r.reason, r.digest, r.created_at, r.updated_at,
           CASE WHEN tm.locked_by IS NULL THEN tm.due_at END AS due_at
    FROM runs r LEFT JOIN run_timers tm ON tm.id = r.id
    WHERE r.trigger_id = ? AND r.subscriber_id > ? ORDER BY r.subscriber_id LIMIT ?`);
  const messagesOfRun = db.prepare(`
    SELECT ${MESSAGE_COLUMNS} FROM messages WHERE trigger_id = ? AND subscriber_id = ? ORDER BY step_index`);

  const addToRollup = prepareAddToRollup(db);
  /** Run work ends pending messages (never counted before): they join the rollup at `now`. */
  const ended = (
    changed: Changed[],
    tally: RollupTally,
    env: string,
    now: number,
    rows: { channel: MessageChannel }[],
    status: MessageStatus,
  ) => {
    for (const row of rows) {
      changed.push({ channel: row.channel, status });
      tally.add(env, row.channel, status, now);
    }
  };

  function claimTimers(workerId: string, limit: number, now: number, leaseMs: number): ClaimedTimer[] {
    const claimed = claim.all({ workerId, limit, now, leaseUntil: now + leaseMs }) as {
      id: string;
      kind: ClaimedTimer['kind'];
      environment_id: string;
    }[];
    if (claimed.length === 0) return [];
    const timers: ClaimedTimer[] = [];
    const runIds = claimed.filter((t) => t.kind === 'run').map((t) => t.id);
    const rows = new Map((runDetails.all(JSON.stringify(runIds)) as RunRow[]).map((row) => [row.run_id, row] as const));
    const payloads = new Map<string, Record<string, unknown>>();
    for (const timer of claimed) {
      if (timer.kind === 'digest') {
        timers.push({ kind: 'digest', timerId: timer.id, digestId: timer.id, environmentId: timer.environment_id });
        continue;
      }
      if (timer.kind === 'fanout') {
        const fanout = fanouts.claimedFanout(timer.id);
        if (fanout) timers.push(fanout);
        continue;
      }
      const row = rows.get(timer.id);
      if (!row || !ADVANCED_FROM.includes(row.state)) {
        deleteTimer.run(timer.id); // a run that ended meanwhile has nothing left to do
        continue;
      }
      let data = payloads.get(row.trigger_id);
      if (!data) {
        data = JSON.parse(row.trigger_data) as Record<string, unknown>;
        payloads.set(row.trigger_id, data);
      }
      const messages = runMessages.all(row.trigger_id, row.run_subscriber_id) as {
        id: string;
        step_index: number;
        status: MessageStatus;
        failed_attempts: number;
      }[];
      timers.push({
        kind: 'run',
        timerId: timer.id,
        runId: row.run_id,
        environmentId: row.environment_id,
        triggerId: row.trigger_id,
        workflowKey: row.workflow_key,
        workflowVersionId: row.workflow_version_id,
        state: row.state,
        stepIndex: row.step_index,
        subscriber: row.s_subscriber_id === null ? null : toSubscriber(row),
        data,
        digest: row.digest === null ? null : (JSON.parse(row.digest) as DigestContext),
        messages: messages.map((m) => ({
          id: m.id,
          stepIndex: m.step_index,
          status: m.status,
          failedAttempts: m.failed_attempts,
        })),
      } satisfies ClaimedRun);
    }
    return timers;
  }

  function applyAdvance(a: RunAdvance, now: number, changed: Changed[], tally: RollupTally): void {
    const run = currentRun.get(a.runId) as
      | { environment_id: string; trigger_id: string; subscriber_id: string; state: RunState; step_index: number }
      | undefined;
    // Another worker took the run over (a lost lease), or it was canceled meanwhile.
    if (!run || heldTimer.get(a.runId, a.workerId) !== 1) return;
    if (run.step_index !== a.fromStepIndex || !ADVANCED_FROM.includes(run.state)) return;
    const env = run.environment_id;
    for (const messageId of a.dispatched) {
      if (dispatch.run(now, messageId).changes > 0) insertJob.run(messageId, messageId, now, now);
    }
    for (const { messageId, reason } of a.skipped) {
      ended(changed, tally, env, now, skip.all(reason, now, messageId) as { channel: MessageChannel }[], 'skipped');
    }
    const move = (
      state: RunState,
      stepIndex: number,
      extra: { reason?: string; digestId?: string; digest?: string } = {},
    ) =>
      moveRun.run({
        id: a.runId,
        state,
        stepIndex,
        reason: extra.reason ?? null,
        digestId: extra.digestId ?? null,
        digest: extra.digest ?? null,
        now,
      });
    const endRun = (state: RunState, status: MessageStatus, reason: string) => {
      move(state, run.step_index, { reason });
      const rows = endPending.all({ status, reason, now, triggerId: run.trigger_id, subscriberId: run.subscriber_id });
      ended(changed, tally, env, now, rows as { channel: MessageChannel }[], status);
      deleteTimer.run(a.runId);
    };
    const next = a.next;
    switch (next.kind) {
      case 'completed':
        move('completed', next.stepIndex);
        deleteTimer.run(a.runId);
        return;
      case 'sleep':
        move('waiting', next.stepIndex);
        setTimer.run({ id: a.runId, kind: 'run', env, due: next.until });
        return;
      case 'recheck':
        move('active', next.stepIndex);
        setTimer.run({ id: a.runId, kind: 'run', env, due: next.at });
        return;
      case 'failed':
        endRun('failed', 'failed', next.reason);
        return;
      case 'throttle': {
        forgetHits.run(env, next.scope, next.windowStart);
        const hits = countHits.get(env, next.scope, next.windowStart) as number;
        if (hits >= next.limit) {
          endRun('throttled', 'throttled', next.reason);
          return;
        }
        insertHit.run(env, next.scope, now);
        move('active', next.stepIndex + 1);
        setTimer.run({ id: a.runId, kind: 'run', env, due: now });
        return;
      }
      case 'digest': {
        const open = openDigest.get(env, next.scope) as string | undefined;
        if (open !== undefined) {
          move('digesting', next.stepIndex, { digestId: open });
          deleteTimer.run(a.runId);
          return;
        }
        const digestId = newId('dig', now);
        insertDigest.run(digestId, env, next.scope, next.stepIndex, next.mode, now, next.closesAt);
        setTimer.run({ id: digestId, kind: 'digest', env, due: next.closesAt });
        if (next.mode === 'first-now') {
          // The opening event goes on now, alone; the events after it wait for the window's end.
          move('active', next.stepIndex + 1, { digestId, digest: JSON.stringify(next.opener) });
          setTimer.run({ id: a.runId, kind: 'run', env, due: now });
        } else {
          move('digesting', next.stepIndex, { digestId });
          deleteTimer.run(a.runId);
        }
        return;
      }
    }
  }

  function closeDigest(c: { timerId: string; digestId: string; workerId: string }, now: number, changed: Changed[]) {
    if (heldTimer.get(c.timerId, c.workerId) !== 1) return;
    deleteTimer.run(c.timerId);
    const digest = digestRow.get(c.digestId) as { environment_id: string; step_index: number } | undefined;
    if (!digest) return;
    deleteDigest.run(c.digestId);
    const rows = members.all(c.digestId) as { id: string; trigger_id: string; subscriber_id: string; data: string }[];
    const carrier = rows[0];
    if (!carrier) return;
    const kept = rows.slice(0, 100).map((row) => JSON.parse(row.data) as Record<string, unknown>);
    moveRun.run({
      id: carrier.id,
      state: 'active',
      stepIndex: digest.step_index + 1,
      reason: null,
      digestId: null,
      digest: JSON.stringify(digestOf(kept, rows.length)),
      now,
    });
    setTimer.run({ id: carrier.id, kind: 'run', env: digest.environment_id, due: now });
    const reason = foldedReason({ runId: carrier.id, triggerId: carrier.trigger_id });
    for (const member of rows.slice(1)) {
      moveRun.run({
        id: member.id,
        state: 'digested',
        stepIndex: digest.step_index,
        reason,
        digestId: null,
        digest: null,
        now,
      });
      const ended = endPending.all({
        status: 'digested',
        reason,
        now,
        triggerId: member.trigger_id,
        subscriberId: member.subscriber_id,
      }) as { channel: MessageChannel }[];
      for (const row of ended) changed.push({ channel: row.channel, status: 'digested' });
    }
  }

  const firstTimerDue = db.prepare('SELECT MIN(due_at) FROM run_timers').pluck();

  return {
    claimTimers(workerId, limit, now, leaseMs) {
      return writer.run(() => claimTimers(workerId, limit, now, leaseMs));
    },

    async nextTimerDueAt() {
      return (firstTimerDue.get() as number | null) ?? undefined;
    },

    advanceRuns(advances, now) {
      return writer.run((): RunWorkResult => {
        const changed: Changed[] = [];
        const tally = new RollupTally();
        for (const advance of advances) applyAdvance(advance, now, changed, tally);
        addToRollup(tally);
        return { statuses: changed };
      });
    },

    closeDigests(closings, now) {
      return writer.run((): RunWorkResult => {
        const changed: Changed[] = [];
        for (const closing of closings) closeDigest(closing, now, changed);
        return { statuses: changed };
      });
    },

    advanceFanouts(advances, now) {
      return writer.run(() => fanouts.advanceFanouts(advances, now));
    },

    cancelRuns(env, key, workflow, now) {
      return writer.run(() => {
        let runs = 0;
        let messages = 0;
        const byChannel: Partial<Record<MessageChannel, number>> = {};
        const tally = new RollupTally();
        for (const triggerId of triggersByKey.pluck().all({ env, key, workflow: workflow ?? null }) as string[]) {
          // A fan-out stops first: no page adds runs after this.
          if (cancelFanout.run(now, now, triggerId).changes > 0) deleteTimer.run(triggerId);
          for (const runId of cancelTriggerRuns.pluck().all(now, triggerId) as string[]) {
            deleteTimer.run(runId);
            runs++;
          }
          const canceled = cancelTriggerMessages.all(now, triggerId) as { id: string; channel: MessageChannel }[];
          for (const { id, channel } of canceled) {
            deleteUnheldJob.run(id);
            tally.add(env, channel, 'canceled', now);
            byChannel[channel] = (byChannel[channel] ?? 0) + 1;
            messages++;
          }
        }
        addToRollup(tally);
        return { runs, messages, byChannel };
      });
    },

    async getTrigger(env, triggerId, { limit, cursor }) {
      const trigger = triggerRow.get(triggerId, env) as TriggerRow | undefined;
      if (!trigger) return undefined;
      const rows = runPage.all(triggerId, cursor ?? '', limit + 1) as RunPageRow[];
      return toTriggerDetails(
        trigger,
        rows,
        limit,
        (subscriberId) => messagesOfRun.all(triggerId, subscriberId) as MessageRow[],
      );
    },
  };
}
