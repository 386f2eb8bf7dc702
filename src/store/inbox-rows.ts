import type { InboxCounts, InboxEvent, InboxEventType, InboxFilter, InboxItem } from '../core/inbox.js';

/** Inbox rows as both dialects read them (timestamps as numbers). */
export interface InboxItemRow {
  id: string;
  workflow_key: string;
  title: string | null;
  body: string;
  action_url: string | null;
  avatar_url: string | null;
  data: string | null;
  created_at: number;
  seen_at: number | null;
  read_at: number | null;
  archived_at: number | null;
}

export interface InboxEventRow {
  environment_id: string;
  subscriber_id: string;
  seq: number;
  type: InboxEventType;
  payload: string;
  created_at: number;
}

/** A subscriber's feed row: the seq of their latest event and their counts. */
export interface FeedState extends InboxCounts {
  seq: number;
}

export const NO_FEED: FeedState = { seq: 0, total: 0, unread: 0, unseen: 0 };

export const INBOX_ITEM_COLUMNS =
  'id, workflow_key, title, body, action_url, avatar_url, data, created_at, seen_at, read_at, archived_at';

/** The WHERE condition of each feed filter; `all` is every item not archived. */
export const INBOX_FILTER_SQL: Record<InboxFilter, string> = {
  all: 'archived_at IS NULL',
  unread: 'archived_at IS NULL AND read_at IS NULL',
  unseen: 'archived_at IS NULL AND seen_at IS NULL',
  archived: 'archived_at IS NOT NULL',
};

export const countsOf = ({ total, unread, unseen }: InboxCounts): InboxCounts => ({ total, unread, unseen });

export function toInboxItem(row: InboxItemRow): InboxItem {
  return {
    id: row.id,
    workflowKey: row.workflow_key,
    title: row.title,
    body: row.body,
    actionUrl: row.action_url,
    avatarUrl: row.avatar_url,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    createdAt: row.created_at,
    seenAt: row.seen_at,
    readAt: row.read_at,
    archivedAt: row.archived_at,
  };
}

export function toInboxEvent(row: InboxEventRow): InboxEvent {
  const payload = JSON.parse(row.payload) as { item: InboxItem | null; counts: InboxCounts };
  return {
    environmentId: row.environment_id,
    subscriberId: row.subscriber_id,
    seq: row.seq,
    type: row.type,
    item: payload.item,
    counts: payload.counts,
    at: row.created_at,
  };
}

/** What an event row's payload column holds. */
export const eventPayload = (event: Pick<InboxEvent, 'item' | 'counts'>) =>
  JSON.stringify({ item: event.item, counts: event.counts });
