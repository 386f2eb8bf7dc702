import type pg from 'pg';
import { withWorkflowChannelOff, type SubscriberPreferences } from '../../core/preferences.js';
import type { SubscriberStore } from '../../core/store.js';
import { emailCursor, emailSearchKey, prefixUpperBound, type SubscriberSearch } from '../../core/subscriber-search.js';
import { channelsJson, page, toSubscriber, type SubscriberRow } from '../rows.js';
import { lockInboxFeeds } from './inbox.js';

/**
 * A page of subscribers (limit + 1 rows) in byte order (COLLATE "C", whatever the database's
 * collation), walking subscribers_by_id (environment_id, subscriber_id "C") or
 * subscribers_by_email (environment_id, lower(email "C"), subscriber_id "C") from the search's
 * range: the expressions must stay the indexes' own. lower() of a "C" value folds ASCII only, as
 * emailSearchKey does.
 */
export function listSubscribersQuery(env: string, { limit, by, prefix, after }: SubscriberSearch) {
  const upper = prefixUpperBound(prefix);
  const id = 'subscriber_id COLLATE "C"';
  const column = by === 'id' ? id : 'lower(email COLLATE "C")';
  const params: unknown[] = [env, prefix, limit + 1];
  const conditions = ['environment_id = $1', `${column} >= $2`];
  if (upper !== null) conditions.push(`${column} < $${params.push(upper)}`);
  if (after && by === 'id') conditions.push(`${id} > $${params.push(after.id)}`);
  if (after && by === 'email') {
    conditions.push(`(${column}, ${id}) > ($${params.push(after.key)}, $${params.push(after.id)})`);
  }
  const order = by === 'id' ? id : `${column}, ${id}`;
  return {
    sql: `SELECT * FROM subscribers WHERE ${conditions.join(' AND ')} ORDER BY ${order} LIMIT $3`,
    params,
  };
}

/** Subscribers on PostgreSQL: upsert, read, and delete with the erasure of their data. Primary keys; lists by listSubscribersQuery. */
export function postgresSubscriberMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
): SubscriberStore {
  return {
    async putSubscriber(env, subscriberId, fields, now) {
      const { rows } = await pool.query<SubscriberRow>(
        `INSERT INTO subscribers (environment_id, subscriber_id, email, phone, name, locale, timezone, data,
                                  channels, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9)
         ON CONFLICT (environment_id, subscriber_id) DO UPDATE SET
           email = excluded.email, phone = excluded.phone, name = excluded.name, locale = excluded.locale,
           timezone = excluded.timezone, data = excluded.data, channels = excluded.channels,
           updated_at = excluded.updated_at
         RETURNING *`,
        [
          env,
          subscriberId,
          fields.email ?? null,
          fields.phone ?? null,
          fields.name ?? null,
          fields.locale ?? null,
          fields.timezone ?? null,
          fields.data == null ? null : JSON.stringify(fields.data),
          now,
          channelsJson(fields),
        ],
      );
      return toSubscriber(rows[0]!);
    },

    async getSubscriber(env, subscriberId) {
      const { rows } = await pool.query<SubscriberRow>(
        'SELECT * FROM subscribers WHERE environment_id = $1 AND subscriber_id = $2',
        [env, subscriberId],
      );
      return rows[0] ? toSubscriber(rows[0]) : undefined;
    },

    async putSubscriberPreferences(env, subscriberId, preferences, now) {
      const { rows } = await pool.query<SubscriberRow>(
        `UPDATE subscribers SET preferences = $3, updated_at = $4
         WHERE environment_id = $1 AND subscriber_id = $2
         RETURNING *`,
        [env, subscriberId, JSON.stringify(preferences), now],
      );
      return rows[0] ? toSubscriber(rows[0]) : undefined;
    },

    async turnOffWorkflowChannel(env, subscriberId, workflowKey, channel, now) {
      return transaction(async (client) => {
        // The row lock holds off a concurrent change until this one commits (or it waits for that).
        const { rows } = await client.query<{ preferences: string | null }>(
          'SELECT preferences FROM subscribers WHERE environment_id = $1 AND subscriber_id = $2 FOR UPDATE',
          [env, subscriberId],
        );
        if (!rows[0]) return undefined;
        const stored = rows[0].preferences;
        const current = stored ? (JSON.parse(stored) as SubscriberPreferences) : null;
        const preferences = withWorkflowChannelOff(current, workflowKey, channel);
        await client.query(
          'UPDATE subscribers SET preferences = $3, updated_at = $4 WHERE environment_id = $1 AND subscriber_id = $2',
          [env, subscriberId, JSON.stringify(preferences), now],
        );
        return preferences;
      });
    },

    async listSubscribers(env, search) {
      const { sql, params } = listSubscribersQuery(env, search);
      const { rows } = await pool.query<SubscriberRow>(sql, params);
      return page(rows, search.limit, toSubscriber, (row) =>
        search.by === 'id' ? row.subscriber_id : emailCursor(emailSearchKey(row.email!), row.subscriber_id),
      );
    },

    async deleteSubscriber(env, subscriberId) {
      return transaction(async (client) => {
        // The inbox feed first, as every inbox writer locks it: a delivery adding an item either
        // committed before (its item is deleted below) or waits and then finds the subscriber gone.
        await lockInboxFeeds(client, [{ environmentId: env, subscriberId }]);
        const args = [env, subscriberId];
        const deleted = await client.query(
          'DELETE FROM subscribers WHERE environment_id = $1 AND subscriber_id = $2',
          args,
        );
        // Erase personal data from the delivery log: addresses, rendered content, provider replies
        // (which often quote the address) and captured dev mail. messages_by_subscriber finds them.
        const ofSubscriber = 'SELECT id FROM messages WHERE environment_id = $1 AND subscriber_id = $2';
        await client.query(`DELETE FROM dev_mail WHERE message_id IN (${ofSubscriber})`, args);
        await client.query(`UPDATE attempts SET detail = '[erased]' WHERE message_id IN (${ofSubscriber})`, args);
        const erased = await client.query(
          `UPDATE messages SET recipient = NULL, subject = NULL, content = NULL, reason = CASE
             WHEN status IN ('queued', 'sending', 'retrying') THEN reason ELSE NULL END
           WHERE environment_id = $1 AND subscriber_id = $2`,
          args,
        );
        // inbox_items_by_subscriber and the primary keys of inbox_feeds and inbox_events.
        for (const table of ['inbox_items', 'inbox_events', 'inbox_feeds']) {
          await client.query(`DELETE FROM ${table} WHERE environment_id = $1 AND subscriber_id = $2`, args);
        }
        return (deleted.rowCount ?? 0) > 0 || (erased.rowCount ?? 0) > 0;
      });
    },
  };
}
