import { firstIdAt } from '../../core/ids.js';
import type { MessageFilter } from '../../core/store.js';
import { MESSAGE_COLUMNS } from '../rows.js';

/**
 * Which index a page walks when these filters are given: the first one present, most selective
 * kind first (a trigger's messages, a subscriber's, a workflow's, then a status's or a channel's,
 * which have few values). Each index ends in `id`, so the walk goes backwards from the newest and
 * stops after `limit + 1` rows, without a sort; the other filters are checked on the rows it reads.
 * The choice is written into the query (INDEXED BY) because SQLite has no statistics (Herald does
 * not ANALYZE): between two indexes of equal shape it took the newest, so subscriberId + status=sent
 * walked every sent message of the environment for a subscriber's 20 (54 ms at 200,000 messages,
 * growing with the table; 0.2 ms along messages_by_subscriber). A static order can still pick the
 * wider of two (a common workflow with a rare status): that walk reads more rows, never a sort.
 * `test=true` walks messages_by_test, which holds only test sends' messages (a partial index; its
 * condition is written as a literal, which SQLite needs to use it), after a trigger's messages;
 * `test=false` is checked on the rows another walk reads (nearly all of them pass).
 */
const WALKS: [keyof MessageFilter, string][] = [
  ['triggerId', 'messages_by_trigger'],
  ['subscriberId', 'messages_by_subscriber'],
  ['workflow', 'messages_by_workflow'],
  ['status', 'messages_by_status'],
  ['channel', 'messages_by_channel'],
];

/**
 * The delivery-log page query, newest first, with named parameters (`@env`, `@limit` and the
 * filter's own names; the time range as `@createdFromId`/`@createdBeforeId`, listMessagesParams). Without a filter it walks messages_by_environment; a cursor narrows the
 * walk to `id < @cursor`. (Plans: docs/query-plans.md.)
 */
export function listMessagesSql(filter: MessageFilter): string {
  const index =
    filter.test === true && filter.triggerId === undefined
      ? 'messages_by_test'
      : (WALKS.find(([name]) => filter[name] !== undefined)?.[1] ?? 'messages_by_environment');
  const where = ['environment_id = @env'];
  if (filter.triggerId !== undefined) where.push('trigger_id = @triggerId');
  if (filter.subscriberId !== undefined) where.push('subscriber_id = @subscriberId');
  if (filter.status !== undefined) where.push('status = @status');
  if (filter.workflow !== undefined) where.push('workflow_key = @workflow');
  if (filter.channel !== undefined) where.push('channel = @channel');
  if (filter.test !== undefined) where.push(filter.test ? 'test = 1' : 'test = 0');
  if (filter.createdFrom !== undefined) where.push('id >= @createdFromId');
  if (filter.createdBefore !== undefined) where.push('id < @createdBeforeId');
  if (filter.cursor !== undefined) where.push('id < @cursor');
  return `SELECT ${MESSAGE_COLUMNS} FROM messages INDEXED BY ${index}
    WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`;
}

/** The named parameters of listMessagesSql: the filter's, with the time range as id bounds (ids.ts). */
export function listMessagesParams(env: string, filter: MessageFilter): Record<string, unknown> {
  const { createdFrom, createdBefore, ...rest } = filter;
  return {
    ...rest,
    env,
    limit: filter.limit + 1,
    ...(createdFrom !== undefined && { createdFromId: firstIdAt('msg', createdFrom) }),
    ...(createdBefore !== undefined && { createdBeforeId: firstIdAt('msg', createdBefore) }),
  };
}
