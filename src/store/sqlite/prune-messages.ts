import type { Database } from 'better-sqlite3';
import { firstIdAt } from '../../core/ids.js';

/** A message in one of these states changes no more; any other may still be sent. */
const FINISHED = `('sent', 'failed', 'skipped', 'seen', 'read', 'archived', 'canceled', 'throttled', 'digested')`;

/**
 * One retention batch (see Store.pruneMessages), run by the writer inside its transaction. Messages
 * are walked by id, which is creation time (ids.ts), from a persisted watermark: a batch reads
 * only rows it has not read before, whatever the table's size, and needs no index beyond the
 * primary key. A message still being delivered when the walk passes it goes to retention_pending
 * instead of holding the watermark back (a long retry schedule would otherwise make every batch
 * rescan what follows it). Every statement is a primary-key range or lookup, or uses
 * attempts_by_message or dev_mail_by_message.
 */
export function preparePruneMessages(db: Database) {
  const progress = db.prepare(`SELECT last_id FROM retention_progress WHERE name = 'messages'`);
  const walk = db.prepare(`
    SELECT id, status IN ${FINISHED} AS finished FROM messages
    WHERE id > ? AND id < ? ORDER BY id LIMIT ?`);
  // A lookup per set-aside message (retention_pending stays small). As a join, SQLite (which has no
  // statistics: Herald does not ANALYZE) walked every finished message in messages_by_status instead.
  const finishedSinceWalked = db.prepare(`
    SELECT message_id AS id FROM retention_pending p
    WHERE (SELECT status FROM messages WHERE id = p.message_id) IN ${FINISHED} LIMIT ?`);
  const unpend = db.prepare('DELETE FROM retention_pending WHERE message_id IN (SELECT value FROM json_each(?))');
  const devMail = db.prepare('DELETE FROM dev_mail WHERE message_id IN (SELECT value FROM json_each(?))');
  const attempts = db.prepare('DELETE FROM attempts WHERE message_id IN (SELECT value FROM json_each(?))');
  const erase = db.prepare(`
    UPDATE messages SET recipient = NULL, subject = NULL, content = NULL
    WHERE id IN (SELECT value FROM json_each(?)) AND status IN ${FINISHED}`);
  const setAside = db.prepare('INSERT OR IGNORE INTO retention_pending (message_id) SELECT value FROM json_each(?)');
  const advance = db.prepare(`UPDATE retention_progress SET last_id = ? WHERE name = 'messages'`);

  return (before: number, batchSize: number): number => {
    const { last_id: lastId } = progress.get() as { last_id: string };
    const walked = walk.all(lastId, firstIdAt('msg', before), batchSize) as { id: string; finished: 0 | 1 }[];
    const finishedSince = (finishedSinceWalked.all(batchSize) as { id: string }[]).map((row) => row.id);
    if (finishedSince.length > 0) unpend.run(JSON.stringify(finishedSince));
    const prune = [...walked.filter((row) => row.finished).map((row) => row.id), ...finishedSince];
    if (prune.length > 0) {
      const ids = JSON.stringify(prune);
      devMail.run(ids);
      attempts.run(ids);
      erase.run(ids);
    }
    const unfinished = walked.filter((row) => !row.finished).map((row) => row.id);
    if (unfinished.length > 0) setAside.run(JSON.stringify(unfinished));
    if (walked.length > 0) advance.run(walked[walked.length - 1]!.id);
    return walked.length + finishedSince.length;
  };
}
