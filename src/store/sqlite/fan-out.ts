import type { Database } from 'better-sqlite3';
import { FANOUT_PAGE_SIZE } from '../../core/fan-out.js';
import type { ClaimedFanout, FanoutAdvance, FanoutWorkResult } from '../../core/runs.js';
import { toClaimedFanout, type ClaimedFanoutRow } from '../topic-rows.js';
import { prepareWriteRuns } from './write-runs.js';

/** UTF-8 byte order, as SQLite compares text: JavaScript's `<` compares UTF-16 code units. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Topic fan-out on SQLite (core/fan-out.ts): reading a claimed fan-out with its next page of
 * members, and writing pages. Every write runs on the one writer, so a page and a cancellation
 * never interleave.
 */
export function prepareSqliteFanouts(db: Database) {
  const fanoutRow = db.prepare(`
    SELECT f.trigger_id, f.environment_id, f.topics, f.cursor, f.state, t.workflow_key, t.workflow_version_id,
           t.send_at, t.actor_id
    FROM fanouts f JOIN triggers t ON t.id = f.trigger_id
    WHERE f.trigger_id = ?`);
  // The topic's next members: a range of topic_subscribers_pkey.
  const nextMembers = db
    .prepare(
      `
      SELECT subscriber_id FROM topic_subscribers
      WHERE environment_id = ? AND topic_key = ? AND subscriber_id > ?
      ORDER BY subscriber_id LIMIT ?`,
    )
    .pluck();
  const heldTimer = db.prepare('SELECT 1 FROM run_timers WHERE id = ? AND locked_by = ?').pluck();
  const deleteTimer = db.prepare('DELETE FROM run_timers WHERE id = ?');
  const releaseTimer = db.prepare('UPDATE run_timers SET due_at = ?, locked_by = NULL, claims = 0 WHERE id = ?');
  const moveFanout = db.prepare(`
    UPDATE fanouts SET cursor = @cursor, recipients = recipients + @runs, updated_at = @now,
      state = CASE WHEN @done THEN 'done' ELSE state END,
      finished_at = CASE WHEN @done THEN @now ELSE finished_at END
    WHERE trigger_id = @triggerId`);
  const writeRuns = prepareWriteRuns(db);

  /**
   * The claimed fan-out of timer `timerId` with its next page: the first FANOUT_PAGE_SIZE ids of
   * each topic after the cursor, merged. Undefined (and the timer deleted) when it is no longer running.
   */
  function claimedFanout(timerId: string): ClaimedFanout | undefined {
    const row = fanoutRow.get(timerId) as (ClaimedFanoutRow & { state: string }) | undefined;
    if (!row || row.state !== 'running') {
      deleteTimer.run(timerId);
      return undefined;
    }
    const topics = JSON.parse(row.topics) as string[];
    const pages = topics.map(
      (topic) => nextMembers.all(row.environment_id, topic, row.cursor, FANOUT_PAGE_SIZE) as string[],
    );
    const members =
      pages.length === 1 ? pages[0]! : [...new Set(pages.flat())].sort(byteOrder).slice(0, FANOUT_PAGE_SIZE);
    return toClaimedFanout(row, members);
  }

  /** Writes pages whose fan-out the worker still holds at the cursor it planned from (in the writer). */
  function advanceFanouts(advances: readonly FanoutAdvance[], now: number): FanoutWorkResult {
    const result: FanoutWorkResult = { runs: 0, messages: 0, queued: 0 };
    for (const page of advances) {
      if (heldTimer.get(page.triggerId, page.workerId) !== 1) continue;
      const current = fanoutRow.get(page.triggerId) as { cursor: string; state: string } | undefined;
      if (!current || current.state !== 'running' || current.cursor !== page.fromCursor) continue;
      const written = writeRuns({ ...page, now });
      moveFanout.run({
        cursor: page.cursor,
        runs: written.runs,
        now,
        done: page.done ? 1 : 0,
        triggerId: page.triggerId,
      });
      if (page.done) deleteTimer.run(page.triggerId);
      else releaseTimer.run(now, page.triggerId);
      result.runs += written.runs;
      result.messages += written.messages;
      result.queued += written.queued;
    }
    return result;
  }

  return { claimedFanout, advanceFanouts };
}
