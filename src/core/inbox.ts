/** The in-app inbox: items, their states, counts and the event feed that browsers follow. */

/** What a subscriber can do to one item. */
export const INBOX_ACTIONS = ['read', 'unread', 'seen', 'archive', 'unarchive'] as const;
export type InboxAction = (typeof INBOX_ACTIONS)[number];

/** Which items a feed lists: `all` is every item not archived. */
export const INBOX_FILTERS = ['all', 'unread', 'unseen', 'archived'] as const;
export type InboxFilter = (typeof INBOX_FILTERS)[number];

/** One notification in a subscriber's inbox. Its id is the id of its message in the delivery log. */
export interface InboxItem {
  id: string;
  workflowKey: string;
  title: string | null;
  body: string;
  /** An http(s) URL, or a path relative to the page showing the inbox. */
  actionUrl: string | null;
  avatarUrl: string | null;
  data: Record<string, unknown> | null;
  createdAt: number;
  seenAt: number | null;
  readAt: number | null;
  archivedAt: number | null;
}

/** A new item, as a delivery writes it. */
export type NewInboxItem = Omit<InboxItem, 'seenAt' | 'readAt' | 'archivedAt'>;

/** Counted over the items that are not archived. */
export interface InboxCounts {
  total: number;
  unread: number;
  unseen: number;
}

/**
 * What a browser hears about a subscriber's inbox. `seq` counts the subscriber's events from 1
 * without gaps, in commit order: it is the SSE event id, so `Last-Event-ID` resumes exactly.
 * `items.read` / `items.seen`: every item that existed then and was not archived is now read (seen).
 */
export type InboxEventType = 'item.created' | 'item.updated' | 'items.read' | 'items.seen';

export interface InboxEvent {
  environmentId: string;
  subscriberId: string;
  seq: number;
  type: InboxEventType;
  /** For item.created and item.updated: the item as it is after the change. */
  item: InboxItem | null;
  /** The subscriber's counts right after this event. */
  counts: InboxCounts;
  at: number;
}

/** That an event exists, without its content (a notification too large to carry it). */
export interface InboxEventRef {
  environmentId: string;
  subscriberId: string;
  seq: number;
}

/** An environment's inbox settings. `allowedOrigins` null: the configured default (HERALD_INBOX_ORIGINS). */
export interface InboxSettings {
  secret: string;
  allowedOrigins: string[] | null;
  updatedAt: number;
}

/** The delivery-log status of an in-app message follows its item. */
export function inboxMessageStatus(item: Pick<InboxItem, 'seenAt' | 'readAt' | 'archivedAt'>) {
  if (item.archivedAt !== null) return 'archived' as const;
  if (item.readAt !== null) return 'read' as const;
  if (item.seenAt !== null) return 'seen' as const;
  return 'sent' as const;
}

/** The item after an action at `now`; reading also marks it seen. Unchanged when it changes nothing. */
export function applyInboxAction(item: InboxItem, action: InboxAction, now: number): InboxItem {
  switch (action) {
    case 'read':
      return item.readAt !== null ? item : { ...item, readAt: now, seenAt: item.seenAt ?? now };
    case 'unread':
      return item.readAt === null ? item : { ...item, readAt: null };
    case 'seen':
      return item.seenAt !== null ? item : { ...item, seenAt: now };
    case 'archive':
      return item.archivedAt !== null ? item : { ...item, archivedAt: now };
    case 'unarchive':
      return item.archivedAt === null ? item : { ...item, archivedAt: null };
  }
}

/** What one item adds to the counts. */
export function countsOf(item: Pick<InboxItem, 'seenAt' | 'readAt' | 'archivedAt'>): InboxCounts {
  if (item.archivedAt !== null) return { total: 0, unread: 0, unseen: 0 };
  return { total: 1, unread: item.readAt === null ? 1 : 0, unseen: item.seenAt === null ? 1 : 0 };
}

/** `counts` after an item went from `before` to `after`. */
export function shiftCounts(
  counts: InboxCounts,
  before: Pick<InboxItem, 'seenAt' | 'readAt' | 'archivedAt'>,
  after: Pick<InboxItem, 'seenAt' | 'readAt' | 'archivedAt'>,
): InboxCounts {
  const a = countsOf(before);
  const b = countsOf(after);
  return {
    total: counts.total + b.total - a.total,
    unread: counts.unread + b.unread - a.unread,
    unseen: counts.unseen + b.unseen - a.unseen,
  };
}

/** A link the inbox may show: http(s) or relative. Anything else (javascript:, data:) is dropped. */
export function safeLink(url: string | null | undefined): string | null {
  // As browsers read URLs: tabs and newlines anywhere are dropped, controls and spaces at the ends
  // trimmed, so "java\tscript:" is a scheme, not a relative path.
  const trimmed = url?.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  if (!trimmed) return null;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return trimmed.startsWith('//') ? `https:${trimmed}` : trimmed;
  return scheme === 'http' || scheme === 'https' ? trimmed : null;
}
