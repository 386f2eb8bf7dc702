import type pg from 'pg';
import type { TopicStore } from '../../core/store.js';
import { unknownSubscribers } from '../../core/trigger-workflow.js';
import { page } from '../rows.js';
import { toTopic, toTopicMember, type TopicMemberRow, type TopicRow } from '../topic-rows.js';

/**
 * The ids that name no subscriber: one statement, each a subscribers_pkey probe (LATERAL … LIMIT 1,
 * as in commit-trigger.ts: written as NOT EXISTS, the planner may hash the whole table).
 */
async function unknownIds(client: pg.Pool | pg.PoolClient, env: string, ids: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT u.id FROM unnest($2::text[]) AS u(id)
     LEFT JOIN LATERAL (
       SELECT true AS found FROM subscribers s WHERE s.environment_id = $1 AND s.subscriber_id = u.id LIMIT 1
     ) s ON true
     WHERE s.found IS NULL`,
    [env, ids],
  );
  return rows.map((row) => row.id);
}

/** A foreign key refused the row: here, a subscriber deleted while being added to a topic. */
const isForeignKeyViolation = (error: unknown) => (error as { code?: unknown } | null)?.code === '23503';

/**
 * Topics and their members on PostgreSQL. Members are read and paged through the primary key of
 * topic_subscribers, a subscriber's topics through topic_subscribers_by_subscriber; the foreign
 * keys delete a topic's or a subscriber's memberships with it, and make adding a member wait for
 * (then fail on) a concurrent deletion of that subscriber.
 */
export function postgresTopicMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
): TopicStore {
  const topicExists = async (env: string, key: string) =>
    (await pool.query('SELECT 1 FROM topics WHERE environment_id = $1 AND key = $2', [env, key])).rowCount === 1;

  return {
    async putTopic(env, key, name, now) {
      // xmax is 0 on a row this statement inserted, and set on one it updated.
      const { rows } = await pool.query<TopicRow & { created: boolean }>(
        `INSERT INTO topics (environment_id, key, name, created_at, updated_at) VALUES ($1, $2, COALESCE($3, $2), $4, $4)
         ON CONFLICT (environment_id, key) DO UPDATE SET
           name = COALESCE($3, topics.name),
           updated_at = CASE WHEN $3::text IS NULL THEN topics.updated_at ELSE $4 END
         RETURNING key, name, created_at, updated_at, (xmax = 0) AS created`,
        [env, key, name ?? null, now],
      );
      return { topic: toTopic(rows[0]!), created: rows[0]!.created };
    },

    async getTopic(env, key) {
      const { rows } = await pool.query<TopicRow & { subscriber_count: number }>(
        `SELECT key, name, created_at, updated_at,
                (SELECT COUNT(*) FROM topic_subscribers m WHERE m.environment_id = t.environment_id AND m.topic_key = t.key)
                  AS subscriber_count
         FROM topics t WHERE environment_id = $1 AND key = $2`,
        [env, key],
      );
      const row = rows[0];
      return row ? { ...toTopic(row), subscriberCount: row.subscriber_count } : undefined;
    },

    async listTopics(env, limit, cursor) {
      const { rows } = await pool.query<TopicRow>(
        `SELECT key, name, created_at, updated_at FROM topics
         WHERE environment_id = $1 AND key > $2 ORDER BY key LIMIT $3`,
        [env, cursor ?? '', limit + 1],
      );
      return page(rows, limit, toTopic, (row) => row.key);
    },

    async deleteTopic(env, key) {
      const result = await pool.query('DELETE FROM topics WHERE environment_id = $1 AND key = $2', [env, key]);
      return (result.rowCount ?? 0) > 0;
    },

    async addTopicSubscribers(env, key, subscriberIds, now) {
      // In one order, so that two calls adding the same members lock them alike.
      const ids = [...new Set(subscriberIds)].sort();
      try {
        return await transaction(async (client) => {
          const missing = await unknownIds(client, env, ids);
          if (missing.length > 0) throw unknownSubscribers(missing, 'topic');
          const topic = await client.query(
            `INSERT INTO topics (environment_id, key, name, created_at, updated_at) VALUES ($1, $2, $2, $3, $3)
             ON CONFLICT DO NOTHING`,
            [env, key, now],
          );
          const added = await client.query(
            `INSERT INTO topic_subscribers (environment_id, topic_key, subscriber_id, created_at)
             SELECT $1, $2, id, $4 FROM unnest($3::text[]) AS u(id)
             ON CONFLICT DO NOTHING`,
            [env, key, ids, now],
          );
          return { added: added.rowCount ?? 0, created: topic.rowCount === 1 };
        });
      } catch (error) {
        if (!isForeignKeyViolation(error)) throw error;
        // A subscriber was deleted between the check and the insert: refuse as if it had been first.
        const missing = await unknownIds(pool, env, ids);
        throw missing.length > 0 ? unknownSubscribers(missing, 'topic') : error;
      }
    },

    async removeTopicSubscribers(env, key, subscriberIds) {
      return transaction(async (client) => {
        const topic = await client.query('SELECT 1 FROM topics WHERE environment_id = $1 AND key = $2', [env, key]);
        if (topic.rowCount === 0) return undefined;
        const removed = await client.query(
          `DELETE FROM topic_subscribers WHERE environment_id = $1 AND topic_key = $2 AND subscriber_id = ANY($3::text[])`,
          [env, key, [...new Set(subscriberIds)]],
        );
        return { removed: removed.rowCount ?? 0 };
      });
    },

    async listTopicSubscribers(env, key, limit, cursor) {
      if (!(await topicExists(env, key))) return undefined;
      const { rows } = await pool.query<TopicMemberRow>(
        `SELECT subscriber_id, created_at FROM topic_subscribers
         WHERE environment_id = $1 AND topic_key = $2 AND subscriber_id > $3
         ORDER BY subscriber_id LIMIT $4`,
        [env, key, cursor ?? '', limit + 1],
      );
      return page(rows, limit, toTopicMember, (row) => row.subscriber_id);
    },

    async listSubscriberTopics(env, subscriberId) {
      const { rows } = await pool.query<{ topic_key: string }>(
        `SELECT topic_key FROM topic_subscribers WHERE environment_id = $1 AND subscriber_id = $2 ORDER BY topic_key`,
        [env, subscriberId],
      );
      return rows.map((row) => row.topic_key);
    },
  };
}
