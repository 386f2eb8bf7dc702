import type pg from 'pg';
import { firstIdAt } from '../../core/ids.js';
import { inTransaction } from './connection.js';

/**
 * A message in one of these states is no longer being sent; any other may still be. An in-app
 * message is finished once sent: seen, read and archived only follow its inbox item.
 */
const FINISHED = `('sent', 'failed', 'skipped', 'seen', 'read', 'archived', 'canceled', 'throttled', 'digested')`;

/**
 * The statements of one retention batch, in the order they run (exported for
 * bench/explain-plans.js). Every one is a primary-key range or lookup, or uses dev_mail_by_message
 * or attempts_by_message: a batch costs the same at any table size.
 */
export const PRUNE_MESSAGES = {
  /**
   * The walk's position. SKIP LOCKED: while one process's batch holds it, a batch elsewhere
   * returns at once instead of queueing behind it and then pruning the same rows again.
   */
  progress: `SELECT last_id FROM retention_progress WHERE name = 'messages' FOR UPDATE SKIP LOCKED`,
  /** The next messages past the watermark, along messages_pkey. */
  walk: `SELECT id, status IN ${FINISHED} AS finished FROM messages
         WHERE id > $1 AND id < $2 ORDER BY id LIMIT $3`,
  /** Messages set aside earlier that have finished since (retention_pending stays small). */
  finishedSinceWalked: `DELETE FROM retention_pending WHERE message_id IN (
           SELECT p.message_id FROM retention_pending p JOIN messages m ON m.id = p.message_id
           WHERE m.status IN ${FINISHED} LIMIT $1)
         RETURNING message_id`,
  // dev_mail, attempts, then messages: the order deleteSubscriber locks them in.
  devMail: 'DELETE FROM dev_mail WHERE message_id = ANY($1::text[])',
  attempts: 'DELETE FROM attempts WHERE message_id = ANY($1::text[])',
  /** The status is checked again under the row lock; a finished message does not change back. */
  erase: `UPDATE messages SET recipient = NULL, subject = NULL, content = NULL
          WHERE id = ANY($1::text[]) AND status IN ${FINISHED}`,
  setAside: `INSERT INTO retention_pending (message_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`,
  advance: `UPDATE retention_progress SET last_id = $1 WHERE name = 'messages'`,
};

/**
 * One retention batch in one transaction (see Store.pruneMessages). Messages are walked by id,
 * which is creation time (ids.ts), from a persisted watermark: a batch reads only rows it has not
 * read before, whatever the table's size, and needs no index beyond the primary key. A message
 * still being delivered when the walk passes it goes to retention_pending instead of holding the
 * watermark back (a long retry schedule would otherwise make every batch rescan what follows it).
 * Row locks last one batch: a few milliseconds for a few hundred messages.
 */
export function pruneMessages(pool: pg.Pool, before: number, batchSize: number): Promise<number> {
  return inTransaction(pool, async (client) => {
    const [progress] = (await client.query<{ last_id: string }>(PRUNE_MESSAGES.progress)).rows;
    if (!progress) return 0;
    const walked = (
      await client.query<{ id: string; finished: boolean }>(PRUNE_MESSAGES.walk, [
        progress.last_id,
        firstIdAt('msg', before),
        batchSize,
      ])
    ).rows;
    const finishedSince = (
      await client.query<{ message_id: string }>(PRUNE_MESSAGES.finishedSinceWalked, [batchSize])
    ).rows.map((row) => row.message_id);
    const prune = [...walked.filter((row) => row.finished).map((row) => row.id), ...finishedSince];
    if (prune.length > 0) {
      await client.query(PRUNE_MESSAGES.devMail, [prune]);
      await client.query(PRUNE_MESSAGES.attempts, [prune]);
      await client.query(PRUNE_MESSAGES.erase, [prune]);
    }
    const unfinished = walked.filter((row) => !row.finished).map((row) => row.id);
    if (unfinished.length > 0) await client.query(PRUNE_MESSAGES.setAside, [unfinished]);
    if (walked.length > 0) await client.query(PRUNE_MESSAGES.advance, [walked[walked.length - 1]!.id]);
    return walked.length + finishedSince.length;
  });
}
