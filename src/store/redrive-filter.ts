import { firstIdAt } from '../core/ids.js';
import type { RedriveFilter } from '../core/store.js';

/**
 * The conditions a re-drive puts on failed messages, shared by both dialects: each filter given,
 * as `column = <placeholder>`, and the creation-time bounds as a range on the time-ordered id
 * (ids.ts), which every messages index ends in.
 */
export function redriveConditions(filter: RedriveFilter, placeholder: (value: unknown) => string): string[] {
  const where: string[] = [];
  if (filter.messageId !== undefined) where.push(`id = ${placeholder(filter.messageId)}`);
  if (filter.triggerId !== undefined) where.push(`trigger_id = ${placeholder(filter.triggerId)}`);
  if (filter.subscriberId !== undefined) where.push(`subscriber_id = ${placeholder(filter.subscriberId)}`);
  if (filter.workflow !== undefined) where.push(`workflow_key = ${placeholder(filter.workflow)}`);
  if (filter.channel !== undefined) where.push(`channel = ${placeholder(filter.channel)}`);
  if (filter.createdFrom !== undefined) where.push(`id >= ${placeholder(firstIdAt('msg', filter.createdFrom))}`);
  if (filter.createdBefore !== undefined) where.push(`id < ${placeholder(firstIdAt('msg', filter.createdBefore))}`);
  return where;
}
