import type { Database } from 'better-sqlite3';
import type { PlannedMessage, PlannedRun, RunStart } from '../../core/runs.js';

/** Runs that start together: a trigger's direct recipients, or one page of its fan-out. */
export interface RunsToWrite {
  environmentId: string;
  triggerId: string;
  workflowKey: string;
  workflowVersionId: string;
  runs: readonly PlannedRun[];
  messages: readonly PlannedMessage[];
  start: RunStart;
  /** The messages are a test send's (core/test-send.ts). */
  test?: boolean;
  now: number;
}

/**
 * Writes runs, each with a timer unless it is already completed, and their messages (with the
 * next log seqs: the one writer makes them commit-ordered) and one job per message sent at once (a
 * job shares its message's id). A subscriber who already has a run of the trigger gets nothing:
 * runs_by_trigger is unique, and the planned run's messages are left out with it. Runs inside the
 * writer's transaction; inserts append to time-ordered ids.
 */
export function prepareWriteRuns(db: Database) {
  const insertRun = db.prepare(`
    INSERT INTO runs (id, environment_id, trigger_id, subscriber_id, state, step_index, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trigger_id, subscriber_id) DO NOTHING`);
  const insertTimer = db.prepare(`
    INSERT INTO run_timers (id, kind, environment_id, due_at) VALUES (?, 'run', ?, ?)`);
  const takeSeqs = db
    .prepare(`UPDATE log_sequence SET value = value + ? WHERE name = 'messages' RETURNING value`)
    .pluck();
  const insertMessage = db.prepare(`
    INSERT INTO messages (id, environment_id, trigger_id, workflow_key, workflow_version_id, subscriber_id,
                          channel, step_index, status, created_at, updated_at, seq, test)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertJob = db.prepare(`
    INSERT INTO jobs (id, message_id, available_at, created_at) VALUES (?, ?, ?, ?)`);

  return (rows: RunsToWrite): { runs: number; messages: number; queued: number } => {
    const { environmentId: env, triggerId, start, now } = rows;
    const test = rows.test ? 1 : 0;
    let skipped: Set<string> | undefined;
    for (const run of rows.runs) {
      const written = insertRun.run(run.id, env, triggerId, run.subscriberId, start.state, start.stepIndex, now, now);
      if (written.changes === 0) {
        (skipped ??= new Set()).add(run.subscriberId);
        continue;
      }
      if (start.dueAt !== null) insertTimer.run(run.id, env, start.dueAt);
    }
    const messages = skipped ? rows.messages.filter((m) => !skipped.has(m.subscriberId)) : rows.messages;
    let seq = messages.length === 0 ? 0 : (takeSeqs.get(messages.length) as number) - messages.length;
    let queued = 0;
    for (const message of messages) {
      insertMessage.run(
        message.id,
        env,
        triggerId,
        rows.workflowKey,
        rows.workflowVersionId,
        message.subscriberId,
        message.channel,
        message.stepIndex,
        message.status,
        now,
        now,
        ++seq,
        test,
      );
      if (message.status === 'queued') {
        insertJob.run(message.id, message.id, now, now);
        queued++;
      }
    }
    return { runs: rows.runs.length - (skipped?.size ?? 0), messages: messages.length, queued };
  };
}
