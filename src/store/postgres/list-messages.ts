import type { MessageFilter } from '../../core/store.js';
import { MESSAGE_COLUMNS } from '../rows.js';

/**
 * The delivery-log page query, newest first. Each filter has an index that ends in `id`, so the
 * scan walks it backwards and stops after `limit + 1` rows, without a sort, whatever the table's
 * size: none → messages_by_environment; triggerId → messages_by_trigger; subscriberId →
 * messages_by_subscriber; status → messages_by_status. A cursor narrows the same index scan to
 * `id < cursor`. (Plans at 1,000,000 messages: docs/query-plans.md.)
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
  if (filter.cursor !== undefined) narrow('id <', filter.cursor);
  values.push(filter.limit + 1);
  return {
    text: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${values.length}`,
    values,
  };
}
