import type { Database, Statement } from 'better-sqlite3';
import {
  applyInboxAction,
  inboxMessageStatus,
  shiftCounts,
  type InboxCounts,
  type InboxEvent,
  type InboxEventType,
  type InboxSettings,
  type InboxItem,
} from '../../core/inbox.js';
import type { InboxStore, JobCompletion } from '../../core/store.js';
import {
  countsOf,
  eventPayload,
  INBOX_FILTER_SQL,
  INBOX_ITEM_COLUMNS,
  NO_FEED,
  toInboxEvent,
  toInboxItem,
  type FeedState,
  type InboxEventRow,
  type InboxItemRow,
} from '../inbox-rows.js';
import { page } from '../rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * The subscriber-side writes every inbox change shares: the feed row (seq and counts) and the
 * event. They run inside the writer's transaction, which is the only writer: seqs are gapless and
 * in commit order without a lock.
 */
function prepareFeedWrites(prepare: (sql: string) => Statement) {
  const select = prepare(
    'SELECT seq, total, unread, unseen FROM inbox_feeds WHERE environment_id = ? AND subscriber_id = ?',
  );
  const advance = prepare(`
    INSERT INTO inbox_feeds (environment_id, subscriber_id, seq, total, unread, unseen) VALUES (?, ?, 1, ?, ?, ?)
    ON CONFLICT (environment_id, subscriber_id) DO UPDATE SET seq = seq + 1, total = excluded.total,
      unread = excluded.unread, unseen = excluded.unseen
    RETURNING seq`);
  const insertEvent = prepare(`
    INSERT INTO inbox_events (environment_id, subscriber_id, seq, type, payload, created_at)
    VALUES (?, ?, ?, ?, ?, ?)`);
  const feed = (env: string, sub: string): FeedState => (select.get(env, sub) as FeedState | undefined) ?? NO_FEED;
  const record = (
    env: string,
    sub: string,
    type: InboxEventType,
    item: InboxItem | null,
    counts: InboxCounts,
    at: number,
  ): InboxEvent => {
    const { seq } = advance.get(env, sub, counts.total, counts.unread, counts.unseen) as { seq: number };
    insertEvent.run(env, sub, seq, type, eventPayload({ item, counts }), at);
    return { environmentId: env, subscriberId: sub, seq, type, item, counts, at };
  };
  return { feed, record };
}

/**
 * Adds the in-app item of a completion, inside the writer's transaction, and returns its
 * item.created event; 'exists' when the item was already there (a second completion of the same
 * message), which then keeps the status its item gave it.
 */
export function prepareAddInboxItems(db: Database) {
  const { feed, record } = prepareFeedWrites((sql) => db.prepare(sql));
  const insert = db.prepare(`
    INSERT INTO inbox_items (${INBOX_ITEM_COLUMNS}, environment_id, subscriber_id, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
  return (completion: JobCompletion): InboxEvent | 'exists' => {
    const { environmentId: env, subscriberId: sub, item } = completion.inboxItem!;
    const added = insert.run(
      item.id,
      item.workflowKey,
      item.title,
      item.body,
      item.actionUrl,
      item.avatarUrl,
      item.data === null ? null : JSON.stringify(item.data),
      item.createdAt,
      env,
      sub,
      completion.at,
    ).changes;
    if (added === 0) return 'exists';
    const counts = feed(env, sub);
    const full: InboxItem = { ...item, seenAt: null, readAt: null, archivedAt: null };
    const after = { total: counts.total + 1, unread: counts.unread + 1, unseen: counts.unseen + 1 };
    return record(env, sub, 'item.created', full, after, completion.at);
  };
}

/** The inbox read and change methods on SQLite. Feeds walk inbox_items_by_subscriber. */
export function sqliteInboxMethods(
  prepared: (sql: string) => Statement,
  writer: SqliteWriter,
): Omit<InboxStore, 'onInboxEvents' | 'onInboxSettingsChanged'> {
  const { feed, record } = prepareFeedWrites(prepared);
  const find = (env: string): InboxSettings | undefined => {
    const row = prepared('SELECT secret, allowed_origins, updated_at FROM inbox_settings WHERE environment_id = ?').get(
      env,
    ) as { secret: string; allowed_origins: string | null; updated_at: number } | undefined;
    if (!row) return undefined;
    return {
      secret: row.secret,
      allowedOrigins: row.allowed_origins === null ? null : (JSON.parse(row.allowed_origins) as string[]),
      updatedAt: row.updated_at,
    };
  };
  const settings = (env: string, create: { secret: string; now: number }) => {
    prepared(`
      INSERT INTO inbox_settings (environment_id, secret, allowed_origins, updated_at) VALUES (?, ?, NULL, ?)
      ON CONFLICT (environment_id) DO NOTHING`).run(env, create.secret, create.now);
    return find(env)!;
  };
  const itemOf = (env: string, sub: string, id: string) => {
    const row = prepared(
      `SELECT ${INBOX_ITEM_COLUMNS} FROM inbox_items WHERE id = ? AND environment_id = ? AND subscriber_id = ?`,
    ).get(id, env, sub) as InboxItemRow | undefined;
    return row ? toInboxItem(row) : undefined;
  };

  return {
    async getInboxSettings(env, create) {
      // Read first: the settings exist on every call but the first, and a read needs no commit.
      return find(env) ?? writer.run(() => settings(env, create));
    },

    async findInboxSettings(env) {
      return find(env);
    },

    updateInboxSettings(env, change, create) {
      return writer.run(() => {
        settings(env, create);
        if (change.secret !== undefined) {
          prepared('UPDATE inbox_settings SET secret = ?, updated_at = ? WHERE environment_id = ?').run(
            change.secret,
            create.now,
            env,
          );
        }
        if (change.allowedOrigins !== undefined) {
          prepared('UPDATE inbox_settings SET allowed_origins = ?, updated_at = ? WHERE environment_id = ?').run(
            change.allowedOrigins === null ? null : JSON.stringify(change.allowedOrigins),
            create.now,
            env,
          );
        }
        return settings(env, create);
      });
    },

    async listInboxItems(env, sub, filter) {
      const rows = prepared(`
        SELECT ${INBOX_ITEM_COLUMNS} FROM inbox_items
        WHERE environment_id = ? AND subscriber_id = ? AND id < ? AND ${INBOX_FILTER_SQL[filter.status]}
        ORDER BY id DESC LIMIT ?`).all(env, sub, filter.cursor ?? '\uffff', filter.limit + 1) as InboxItemRow[];
      return page(rows, filter.limit, toInboxItem, (row) => row.id);
    },

    async getInboxCounts(env, sub) {
      const row = feed(env, sub);
      return { counts: countsOf(row), seq: row.seq };
    },

    changeInboxItem(env, sub, itemId, action, now) {
      return writer.run(() => {
        const before = itemOf(env, sub, itemId);
        if (!before) return undefined;
        const counts = countsOf(feed(env, sub));
        const item = applyInboxAction(before, action, now);
        if (item === before) return { item, counts, event: null };
        prepared(`
          UPDATE inbox_items SET seen_at = ?, read_at = ?, archived_at = ?, updated_at = ? WHERE id = ?`).run(
          item.seenAt,
          item.readAt,
          item.archivedAt,
          now,
          item.id,
        );
        prepared('UPDATE messages SET status = ?, updated_at = ? WHERE id = ?').run(
          inboxMessageStatus(item),
          now,
          item.id,
        );
        const after = shiftCounts(counts, before, item);
        return { item, counts: after, event: record(env, sub, 'item.updated', item, after, now) };
      });
    },

    changeAllInboxItems(env, sub, action, now) {
      return writer.run(() => {
        const counts = countsOf(feed(env, sub));
        // Reading marks seen too; an unseen item is never read, so seeing all makes them `seen`.
        const changed = prepared(`
          SELECT id, seen_at IS NULL AS was_unseen FROM inbox_items
          WHERE environment_id = ? AND subscriber_id = ? AND archived_at IS NULL AND ${action}_at IS NULL`).all(
          env,
          sub,
        ) as { id: string; was_unseen: 0 | 1 }[];
        if (changed.length === 0) return { changed: 0, counts, event: null };
        const ids = JSON.stringify(changed.map((row) => row.id));
        prepared(`
          UPDATE inbox_items SET ${action}_at = @now, seen_at = coalesce(seen_at, @now), updated_at = @now
          WHERE id IN (SELECT value FROM json_each(@ids))`).run({ now, ids });
        prepared('UPDATE messages SET status = ?, updated_at = ? WHERE id IN (SELECT value FROM json_each(?))').run(
          action,
          now,
          ids,
        );
        const unseen = changed.filter((row) => row.was_unseen).length;
        const after =
          action === 'read'
            ? { total: counts.total, unread: 0, unseen: counts.unseen - unseen }
            : { ...counts, unseen: 0 };
        const type = action === 'read' ? 'items.read' : 'items.seen';
        return { changed: changed.length, counts: after, event: record(env, sub, type, null, after, now) };
      });
    },

    async listInboxEvents(env, sub, afterSeq, limit) {
      const rows = prepared(`
        SELECT * FROM inbox_events WHERE environment_id = ? AND subscriber_id = ? AND seq > ?
        ORDER BY seq LIMIT ?`).all(env, sub, afterSeq, limit) as InboxEventRow[];
      return rows.map(toInboxEvent);
    },

    pruneInboxEvents(before, limit) {
      return writer.run(
        () =>
          prepared(`
            DELETE FROM inbox_events WHERE (environment_id, subscriber_id, seq) IN (
              SELECT environment_id, subscriber_id, seq FROM inbox_events WHERE created_at < ? LIMIT ?)`).run(
            before,
            limit,
          ).changes,
      );
    },
  };
}
