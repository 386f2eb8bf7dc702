import type { Statement } from 'better-sqlite3';
import { withWorkflowChannelOff, type SubscriberPreferences } from '../../core/preferences.js';
import type { SubscriberStore } from '../../core/store.js';
import { emailCursor, emailSearchKey, prefixUpperBound, type SubscriberSearch } from '../../core/subscriber-search.js';
import { page, subscriberParams, toSubscriber, type SubscriberRow } from '../rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * A page of subscribers (limit + 1 rows), walking the primary key (by id) or subscribers_by_email
 * (environment_id, lower(email), subscriber_id) from the search's range, in index order. lower()
 * folds ASCII only, as emailSearchKey does; the expression must stay the index's.
 */
export function listSubscribersQuery(env: string, { limit, by, prefix, after }: SubscriberSearch) {
  const upper = prefixUpperBound(prefix);
  const column = by === 'id' ? 'subscriber_id' : 'lower(email)';
  const conditions = ['environment_id = @env', `${column} >= @prefix`];
  if (upper !== null) conditions.push(`${column} < @upper`);
  if (after) {
    conditions.push(by === 'id' ? 'subscriber_id > @afterId' : '(lower(email), subscriber_id) > (@afterKey, @afterId)');
  }
  const order = by === 'id' ? 'subscriber_id' : 'lower(email), subscriber_id';
  return {
    sql: `SELECT * FROM subscribers WHERE ${conditions.join(' AND ')} ORDER BY ${order} LIMIT @limit`,
    params: {
      env,
      prefix,
      limit: limit + 1,
      ...(upper !== null && { upper }),
      ...(after && { afterId: after.id, ...(by === 'email' && { afterKey: after.key }) }),
    },
  };
}

/**
 * Subscribers on SQLite: upsert, read, and delete with the erasure of their data, by primary key;
 * lists by listSubscribersQuery.
 */
export function sqliteSubscriberMethods(prepared: (sql: string) => Statement, writer: SqliteWriter): SubscriberStore {
  return {
    async putSubscriber(env, subscriberId, fields, now) {
      const row = await writer.run(
        () =>
          prepared(`
            INSERT INTO subscribers (environment_id, subscriber_id, email, phone, name, locale, timezone, data,
                                     channels, created_at, updated_at)
            VALUES (@env, @id, @email, @phone, @name, @locale, @timezone, @data, @channels, @now, @now)
            ON CONFLICT (environment_id, subscriber_id) DO UPDATE SET
              email = excluded.email, phone = excluded.phone, name = excluded.name, locale = excluded.locale,
              timezone = excluded.timezone, data = excluded.data, channels = excluded.channels,
              updated_at = excluded.updated_at
            RETURNING *`).get(subscriberParams(env, subscriberId, fields, now)) as SubscriberRow,
      );
      return toSubscriber(row);
    },

    async getSubscriber(env, subscriberId) {
      const row = prepared('SELECT * FROM subscribers WHERE environment_id = ? AND subscriber_id = ?').get(
        env,
        subscriberId,
      ) as SubscriberRow | undefined;
      return row ? toSubscriber(row) : undefined;
    },

    async putSubscriberPreferences(env, subscriberId, preferences, now) {
      const row = await writer.run(
        () =>
          prepared(`
            UPDATE subscribers SET preferences = ?, updated_at = ?
            WHERE environment_id = ? AND subscriber_id = ?
            RETURNING *`).get(JSON.stringify(preferences), now, env, subscriberId) as SubscriberRow | undefined,
      );
      return row ? toSubscriber(row) : undefined;
    },

    async turnOffWorkflowChannel(env, subscriberId, workflowKey, channel, now) {
      // Read and written in one writer operation: nothing else writes in between.
      return writer.run(() => {
        const row = prepared('SELECT preferences FROM subscribers WHERE environment_id = ? AND subscriber_id = ?').get(
          env,
          subscriberId,
        ) as { preferences: string | null } | undefined;
        if (!row) return undefined;
        const current = row.preferences ? (JSON.parse(row.preferences) as SubscriberPreferences) : null;
        const preferences = withWorkflowChannelOff(current, workflowKey, channel);
        prepared(
          'UPDATE subscribers SET preferences = ?, updated_at = ? WHERE environment_id = ? AND subscriber_id = ?',
        ).run(JSON.stringify(preferences), now, env, subscriberId);
        return preferences;
      });
    },

    async listSubscribers(env, search) {
      const { sql, params } = listSubscribersQuery(env, search);
      const rows = prepared(sql).all(params) as SubscriberRow[];
      return page(rows, search.limit, toSubscriber, (row) =>
        search.by === 'id' ? row.subscriber_id : emailCursor(emailSearchKey(row.email!), row.subscriber_id),
      );
    },

    async deleteSubscriber(env, subscriberId) {
      return writer.run(() => {
        const deleted = prepared('DELETE FROM subscribers WHERE environment_id = ? AND subscriber_id = ?').run(
          env,
          subscriberId,
        ).changes;
        // Erase personal data from the delivery log: addresses, rendered content, provider replies
        // (which often quote the address) and captured dev mail.
        prepared(`
          DELETE FROM dev_mail WHERE message_id IN (
            SELECT id FROM messages WHERE environment_id = ? AND subscriber_id = ?)`).run(env, subscriberId);
        prepared(`
          UPDATE attempts SET detail = '[erased]' WHERE message_id IN (
            SELECT id FROM messages WHERE environment_id = ? AND subscriber_id = ?)`).run(env, subscriberId);
        const erased = prepared(`
          UPDATE messages SET recipient = NULL, subject = NULL, content = NULL, reason = CASE
            WHEN status IN ('queued', 'sending', 'retrying') THEN reason ELSE NULL END
          WHERE environment_id = ? AND subscriber_id = ?`).run(env, subscriberId).changes;
        for (const table of ['inbox_items', 'inbox_feeds', 'inbox_events']) {
          prepared(`DELETE FROM ${table} WHERE environment_id = ? AND subscriber_id = ?`).run(env, subscriberId);
        }
        return deleted > 0 || erased > 0;
      });
    },
  };
}
