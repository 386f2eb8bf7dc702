import { firstIdAt } from '../../core/ids.js';
import type { MessageFilter } from '../../core/store.js';
import { MESSAGE_COLUMNS } from '../rows.js';

/**
 * The delivery-log page query, newest first. Each filter has an index that ends in `id`, so the
 * scan walks it backwards and stops after `limit + 1` rows, without a sort, whatever the table's
 * size: none → messages_by_environment; triggerId → messages_by_trigger; subscriberId →
 * messages_by_subscriber; status → messages_by_status; workflow → messages_by_workflow; channel →
 * messages_by_channel. Filters combined walk one of their indexes and check the others on the rows
 * it reads. A cursor narrows the same index scan to `id < cursor`. `test=true` can walk
 * messages_by_test, a partial index of the test sends' messages only (few); `test=false` is checked
 * on the rows another walk reads. (Plans: docs/query-plans.md.)
 */
export function listMessagesQuery(environmentId: string, filter: MessageFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [environmentId];
  const where = ['environment_id = $1'];
  const narrow = (column: string, value: unknown) => {
    values.push(value);
    where.push(`${column} $${values.length}`);
  };
  if (filter.triggerId !== undefined) narrow('trigger_id =', filter.triggerId);
  if (filter.subscriberId !== undefined) narrow('subscriber_id =', filter.subscriberId);
  if (filter.status !== undefined) narrow('status =', filter.status);
  if (filter.workflow !== undefined) narrow('workflow_key =', filter.workflow);
  if (filter.channel !== undefined) narrow('channel =', filter.channel);
  // A literal, so that the planner can match the partial index's predicate.
  if (filter.test !== undefined) where.push(filter.test ? 'test' : 'NOT test');
  // The time range as a range of the time-ordered ids (ids.ts), on whichever index is walked.
  if (filter.createdFrom !== undefined) narrow('id >=', firstIdAt('msg', filter.createdFrom));
  if (filter.createdBefore !== undefined) narrow('id <', firstIdAt('msg', filter.createdBefore));
  if (filter.cursor !== undefined) narrow('id <', filter.cursor);
  values.push(filter.limit + 1);
  return {
    text: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${values.length}`,
    values,
  };
}

/**
 * The message log after `since`, in seq order: a forward walk of messages_by_seq from
 * (environment, since), stopping after `limit` rows. Rows without a seq (written by an older
 * Herald during a rolling upgrade) are not in the log.
 */
export const LIST_MESSAGES_SINCE = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE environment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`;

/** The environment's highest seq: one backward step on messages_by_seq. */
export const MESSAGE_LOG_HEAD = 'SELECT COALESCE(MAX(seq), 0) AS seq FROM messages WHERE environment_id = $1';
