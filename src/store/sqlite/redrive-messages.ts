import type { Database, Statement } from 'better-sqlite3';
import type { RedriveBatch, RedriveFilter } from '../../core/store.js';
import { redriveConditions } from '../redrive-filter.js';

/**
 * Which index a re-drive walks: one message by its primary key; a trigger's or a subscriber's
 * messages by theirs; otherwise the environment's failed messages along messages_by_status
 * (environment_id, status, id), where failed ones are usually few next to a workflow's or a
 * channel's sent ones. Each ends in `id`, so the time range is a range on the walk. Written into
 * the query as list-messages.ts does: SQLite has no statistics to choose by.
 */
function walk(filter: RedriveFilter): string {
  if (filter.messageId !== undefined) return '';
  if (filter.triggerId !== undefined) return 'INDEXED BY messages_by_trigger';
  if (filter.subscriberId !== undefined) return 'INDEXED BY messages_by_subscriber';
  return 'INDEXED BY messages_by_status';
}

/**
 * One re-drive batch (JobStore.redriveMessages), run by the writer inside its transaction. The
 * job's id is its message's, so a message that somehow still has a job keeps that one.
 */
export function prepareRedriveMessages(db: Database) {
  const requeue = db.prepare(`
    UPDATE messages SET status = 'queued', reason = NULL, failed_attempts = 0, updated_at = ?
    WHERE id = ? AND status = 'failed'`);
  const insertJob = db.prepare(`
    INSERT INTO jobs (id, message_id, available_at, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);

  // One statement per combination of filters given (a few dozen at most).
  const selects = new Map<string, Statement>();

  return (env: string, filter: RedriveFilter, limit: number, now: number): RedriveBatch => {
    const values: unknown[] = [env];
    const where = ['environment_id = ?', "status = 'failed'"];
    where.push(
      ...redriveConditions(filter, (value) => {
        values.push(value);
        return '?';
      }),
    );
    const sql = `SELECT id FROM messages ${walk(filter)} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`;
    let select = selects.get(sql);
    if (!select) selects.set(sql, (select = db.prepare(sql).pluck()));
    const ids = select.all(...values, limit + 1) as string[];
    const picked = ids.slice(0, limit);
    for (const id of picked) {
      requeue.run(now, id);
      insertJob.run(id, id, now, now);
    }
    return { messageIds: picked, more: ids.length > limit };
  };
}
