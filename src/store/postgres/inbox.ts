import type pg from 'pg';
import {
  applyInboxAction,
  inboxMessageStatus,
  shiftCounts,
  type InboxEvent,
  type InboxSettings,
} from '../../core/inbox.js';
import type { InboxStore } from '../../core/store.js';
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
import { inboxNotifyPayload } from './notifications.js';

interface FeedRow extends FeedState {
  environment_id: string;
  subscriber_id: string;
}

/** Map key of a subscriber's feed. */
export const feedKey = (environmentId: string, subscriberId: string) => JSON.stringify([environmentId, subscriberId]);

/**
 * Locks the feed rows of these subscribers (creating empty ones) and returns them by feedKey.
 * Every inbox writer takes this lock first, so a subscriber's changes are serialised and seqs are
 * handed out gapless in commit order. The rows are locked in one sorted order (the upsert follows
 * its input's order), so that two transactions locking several feeds cannot deadlock.
 */
export async function lockInboxFeeds(
  client: pg.PoolClient,
  subscribers: readonly { environmentId: string; subscriberId: string }[],
): Promise<Map<string, FeedState>> {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const feeds = [...new Map(subscribers.map((s) => [feedKey(s.environmentId, s.subscriberId), s])).values()].sort(
    (a, b) => compare(a.environmentId, b.environmentId) || compare(a.subscriberId, b.subscriberId),
  );
  const { rows } = await client.query<FeedRow>({
    name: 'herald_lock_inbox_feeds',
    text: `INSERT INTO inbox_feeds (environment_id, subscriber_id, seq, total, unread, unseen)
           SELECT environment_id, subscriber_id, 0, 0, 0, 0
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(environment_id, subscriber_id, n) ORDER BY n
           ON CONFLICT (environment_id, subscriber_id) DO UPDATE SET seq = inbox_feeds.seq
           RETURNING environment_id, subscriber_id, seq, total, unread, unseen`,
    values: [feeds.map((s) => s.environmentId), feeds.map((s) => s.subscriberId)],
  });
  return new Map(
    rows.map((row) => [feedKey(row.environment_id, row.subscriber_id), { ...countsOf(row), seq: row.seq }]),
  );
}

/**
 * Records events whose subscribers' feeds the transaction has locked: each feed row moves to its
 * last event's seq and counts, the events are inserted, and each is NOTIFYed in order (delivered
 * at commit, so listeners hear them in commit order). Seqs and counts are the caller's, computed
 * from the locked rows. Feed updates are primary-key lookups.
 */
export async function recordInboxEvents(
  client: pg.PoolClient,
  channel: string,
  events: readonly InboxEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const last = new Map(events.map((event) => [feedKey(event.environmentId, event.subscriberId), event]));
  const feeds = [...last.values()];
  await client.query({
    name: 'herald_record_inbox_events',
    text: `
      WITH feeds AS (
        UPDATE inbox_feeds f SET seq = u.seq, total = u.total, unread = u.unread, unseen = u.unseen
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[], $6::int[])
          AS u(environment_id, subscriber_id, seq, total, unread, unseen)
        WHERE f.environment_id = u.environment_id AND f.subscriber_id = u.subscriber_id
      ), events AS (
        INSERT INTO inbox_events (environment_id, subscriber_id, seq, type, payload, created_at)
        SELECT * FROM unnest($7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[], $12::bigint[])
      )
      SELECT pg_notify($13, payload) FROM unnest($14::text[]) WITH ORDINALITY AS u(payload, n) ORDER BY n`,
    values: [
      feeds.map((e) => e.environmentId),
      feeds.map((e) => e.subscriberId),
      feeds.map((e) => e.seq),
      feeds.map((e) => e.counts.total),
      feeds.map((e) => e.counts.unread),
      feeds.map((e) => e.counts.unseen),
      events.map((e) => e.environmentId),
      events.map((e) => e.subscriberId),
      events.map((e) => e.seq),
      events.map((e) => e.type),
      events.map(eventPayload),
      events.map((e) => e.at),
      channel,
      events.map(inboxNotifyPayload),
    ],
  });
}

/** Marks every item not archived read (or seen); returns how many changed and how many were unseen. */
const CHANGE_ALL: Record<'read' | 'seen', string> = {
  read: changeAllStatement('read_at IS NULL', 'read_at = $3, seen_at = COALESCE(i.seen_at, $3)', 'read'),
  // An unseen item is never read (reading marks seen), so these all become `seen`.
  seen: changeAllStatement('seen_at IS NULL', 'seen_at = $3', 'seen'),
};

function changeAllStatement(which: string, set: string, status: string): string {
  // inbox_items_by_subscriber finds the items; the messages are primary-key lookups in id order,
  // the order retention locks them in.
  return `
    WITH old AS (
      SELECT id, seen_at FROM inbox_items
      WHERE environment_id = $1 AND subscriber_id = $2 AND archived_at IS NULL AND ${which}
    ), changed AS (
      UPDATE inbox_items i SET ${set}, updated_at = $3 FROM old WHERE i.id = old.id
      RETURNING i.id, old.seen_at IS NULL AS was_unseen
    ), statuses AS (
      UPDATE messages SET status = '${status}', updated_at = $3
      WHERE id = ANY(ARRAY(SELECT id FROM changed ORDER BY id))
    )
    SELECT count(*)::int AS changed, (count(*) FILTER (WHERE was_unseen))::int AS unseen FROM changed`;
}

/**
 * The inbox methods on PostgreSQL. Every change locks the subscriber's feed row first (see
 * lockInboxFeeds) and records its event, NOTIFYed on `channels.events`, in the same transaction.
 * A settings change is NOTIFYed on `channels.settings`, so every process forgets its cached
 * settings and ends the streams a rotated secret no longer vouches for.
 */
export function postgresInboxMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
  channels: { events: string; settings: string },
): Omit<InboxStore, 'onInboxEvents' | 'onInboxSettingsChanged'> {
  const channel = channels.events;
  const settingsOf = async (env: string): Promise<InboxSettings | undefined> => {
    const { rows } = await pool.query<{ secret: string; allowed_origins: string | null; updated_at: number }>(
      'SELECT secret, allowed_origins, updated_at FROM inbox_settings WHERE environment_id = $1',
      [env],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      secret: row.secret,
      allowedOrigins: row.allowed_origins === null ? null : (JSON.parse(row.allowed_origins) as string[]),
      updatedAt: row.updated_at,
    };
  };
  /** Creates the settings row when missing; a concurrent creation wins and this one does nothing. */
  const createSettings = async (env: string, create: { secret: string; now: number }) => {
    await pool.query(
      `INSERT INTO inbox_settings (environment_id, secret, allowed_origins, updated_at) VALUES ($1, $2, NULL, $3)
       ON CONFLICT (environment_id) DO NOTHING`,
      [env, create.secret, create.now],
    );
  };

  /** Locks an existing feed row; none means the subscriber has no items. */
  const lockFeed = async (client: pg.PoolClient, env: string, sub: string): Promise<FeedState | undefined> => {
    const { rows } = await client.query<FeedState>(
      `SELECT seq, total, unread, unseen FROM inbox_feeds WHERE environment_id = $1 AND subscriber_id = $2
       FOR UPDATE`,
      [env, sub],
    );
    return rows[0];
  };

  return {
    async getInboxSettings(env, create) {
      // Read first: the settings exist on every call but the first.
      const existing = await settingsOf(env);
      if (existing) return existing;
      await createSettings(env, create);
      return (await settingsOf(env))!;
    },

    findInboxSettings(env) {
      return settingsOf(env);
    },

    async updateInboxSettings(env, change, create) {
      await createSettings(env, create);
      const resetOrigins = change.allowedOrigins !== undefined;
      if (change.secret !== undefined || resetOrigins) {
        // The NOTIFY is delivered at commit: listeners that then read the settings see the change.
        await pool.query(
          `WITH changed AS (
             UPDATE inbox_settings SET secret = COALESCE($2, secret),
               allowed_origins = CASE WHEN $3 THEN $4 ELSE allowed_origins END, updated_at = $5
             WHERE environment_id = $1 RETURNING environment_id
           )
           SELECT pg_notify($6, environment_id) FROM changed`,
          [
            env,
            change.secret ?? null,
            resetOrigins,
            change.allowedOrigins == null ? null : JSON.stringify(change.allowedOrigins),
            create.now,
            channels.settings,
          ],
        );
      }
      return (await settingsOf(env))!;
    },

    async listInboxItems(env, sub, filter) {
      // inbox_items_by_subscriber, walked backwards from the cursor.
      const { rows } = await pool.query<InboxItemRow>(
        `SELECT ${INBOX_ITEM_COLUMNS} FROM inbox_items
         WHERE environment_id = $1 AND subscriber_id = $2 AND id < $3 AND ${INBOX_FILTER_SQL[filter.status]}
         ORDER BY id DESC LIMIT $4`,
        [env, sub, filter.cursor ?? '\uffff', filter.limit + 1],
      );
      return page(rows, filter.limit, toInboxItem, (row) => row.id);
    },

    async getInboxCounts(env, sub) {
      const { rows } = await pool.query<FeedState>(
        'SELECT seq, total, unread, unseen FROM inbox_feeds WHERE environment_id = $1 AND subscriber_id = $2',
        [env, sub],
      );
      const feed = rows[0] ?? NO_FEED;
      return { counts: countsOf(feed), seq: feed.seq };
    },

    changeInboxItem(env, sub, itemId, action, now) {
      return transaction(async (client) => {
        // An item is only ever written with its feed row, so no feed row means no item.
        const feed = await lockFeed(client, env, sub);
        if (!feed) return undefined;
        const { rows } = await client.query<InboxItemRow>(
          `SELECT ${INBOX_ITEM_COLUMNS} FROM inbox_items WHERE id = $1 AND environment_id = $2 AND subscriber_id = $3`,
          [itemId, env, sub],
        );
        if (!rows[0]) return undefined;
        const before = toInboxItem(rows[0]);
        const item = applyInboxAction(before, action, now);
        if (item === before) return { item, counts: countsOf(feed), event: null };
        await client.query(
          `WITH item AS (
             UPDATE inbox_items SET seen_at = $2, read_at = $3, archived_at = $4, updated_at = $5 WHERE id = $1
           )
           UPDATE messages SET status = $6, updated_at = $5 WHERE id = $1`,
          [item.id, item.seenAt, item.readAt, item.archivedAt, now, inboxMessageStatus(item)],
        );
        const counts = shiftCounts(feed, before, item);
        const event: InboxEvent = {
          environmentId: env,
          subscriberId: sub,
          seq: feed.seq + 1,
          type: 'item.updated',
          item,
          counts,
          at: now,
        };
        await recordInboxEvents(client, channel, [event]);
        return { item, counts, event };
      });
    },

    changeAllInboxItems(env, sub, action, now) {
      return transaction(async (client) => {
        const feed = await lockFeed(client, env, sub);
        if (!feed) return { changed: 0, counts: countsOf(NO_FEED), event: null };
        const { rows } = await client.query<{ changed: number; unseen: number }>(CHANGE_ALL[action], [env, sub, now]);
        const { changed, unseen } = rows[0]!;
        if (changed === 0) return { changed, counts: countsOf(feed), event: null };
        const counts =
          action === 'read'
            ? { total: feed.total, unread: 0, unseen: feed.unseen - unseen }
            : { total: feed.total, unread: feed.unread, unseen: 0 };
        const event: InboxEvent = {
          environmentId: env,
          subscriberId: sub,
          seq: feed.seq + 1,
          type: action === 'read' ? 'items.read' : 'items.seen',
          item: null,
          counts,
          at: now,
        };
        await recordInboxEvents(client, channel, [event]);
        return { changed, counts, event };
      });
    },

    async listInboxEvents(env, sub, afterSeq, limit) {
      // The primary key (environment_id, subscriber_id, seq).
      const { rows } = await pool.query<InboxEventRow>(
        `SELECT environment_id, subscriber_id, seq, type, payload, created_at FROM inbox_events
         WHERE environment_id = $1 AND subscriber_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
        [env, sub, afterSeq, limit],
      );
      return rows.map(toInboxEvent);
    },

    async pruneInboxEvents(before, limit) {
      // inbox_events_by_created_at picks the oldest; each is deleted by its primary key.
      const { rowCount } = await pool.query(
        `DELETE FROM inbox_events e USING (
           SELECT environment_id, subscriber_id, seq FROM inbox_events WHERE created_at < $1 ORDER BY created_at LIMIT $2
         ) old
         WHERE e.environment_id = old.environment_id AND e.subscriber_id = old.subscriber_id AND e.seq = old.seq`,
        [before, limit],
      );
      return rowCount ?? 0;
    },
  };
}
