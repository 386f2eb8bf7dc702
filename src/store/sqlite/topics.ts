import type { Statement } from 'better-sqlite3';
import type { TopicStore } from '../../core/store.js';
import type { TopicDetail } from '../../core/topics.js';
import { unknownSubscribers } from '../../core/trigger-workflow.js';
import { page } from '../rows.js';
import { toTopic, toTopicMember, type TopicMemberRow, type TopicRow } from '../topic-rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * Topics and their members on SQLite. Members are read and paged through the primary key of
 * topic_subscribers, a subscriber's topics through topic_subscribers_by_subscriber; the foreign
 * keys delete a topic's or a subscriber's memberships with it.
 */
export function sqliteTopicMethods(prepared: (sql: string) => Statement, writer: SqliteWriter): TopicStore {
  const topicRow = (env: string, key: string) =>
    prepared('SELECT key, name, created_at, updated_at FROM topics WHERE environment_id = ? AND key = ?').get(
      env,
      key,
    ) as TopicRow | undefined;
  const insertTopic = (env: string, key: string, name: string, now: number) =>
    prepared('INSERT INTO topics (environment_id, key, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(
      env,
      key,
      name,
      now,
      now,
    );

  return {
    putTopic(env, key, name, now) {
      return writer.run(() => {
        const current = topicRow(env, key);
        if (!current) {
          insertTopic(env, key, name ?? key, now);
          return { topic: toTopic({ key, name: name ?? key, created_at: now, updated_at: now }), created: true };
        }
        if (name === undefined) return { topic: toTopic(current), created: false };
        prepared('UPDATE topics SET name = ?, updated_at = ? WHERE environment_id = ? AND key = ?').run(
          name,
          now,
          env,
          key,
        );
        return { topic: toTopic({ ...current, name, updated_at: now }), created: false };
      });
    },

    async getTopic(env, key) {
      const row = topicRow(env, key);
      if (!row) return undefined;
      const count = prepared('SELECT COUNT(*) FROM topic_subscribers WHERE environment_id = ? AND topic_key = ?')
        .pluck()
        .get(env, key) as number;
      return { ...toTopic(row), subscriberCount: count } satisfies TopicDetail;
    },

    async listTopics(env, limit, cursor) {
      const rows = prepared(`
        SELECT key, name, created_at, updated_at FROM topics
        WHERE environment_id = ? AND key > ? ORDER BY key LIMIT ?`).all(env, cursor ?? '', limit + 1) as TopicRow[];
      return page(rows, limit, toTopic, (row) => row.key);
    },

    deleteTopic(env, key) {
      return writer.run(
        () => prepared('DELETE FROM topics WHERE environment_id = ? AND key = ?').run(env, key).changes > 0,
      );
    },

    addTopicSubscribers(env, key, subscriberIds, now) {
      return writer.run(() => {
        // One statement for every id, each a subscribers_pkey probe.
        const missing = prepared(`
          SELECT value FROM json_each(?)
          WHERE NOT EXISTS (SELECT 1 FROM subscribers WHERE environment_id = ? AND subscriber_id = json_each.value)`)
          .pluck()
          .all(JSON.stringify(subscriberIds), env) as string[];
        if (missing.length > 0) throw unknownSubscribers([...new Set(missing)], 'topic');
        const created = topicRow(env, key) === undefined;
        if (created) insertTopic(env, key, key, now);
        const insert = prepared(`
          INSERT INTO topic_subscribers (environment_id, topic_key, subscriber_id, created_at) VALUES (?, ?, ?, ?)
          ON CONFLICT DO NOTHING`);
        let added = 0;
        for (const subscriberId of subscriberIds) added += insert.run(env, key, subscriberId, now).changes;
        return { added, created };
      });
    },

    removeTopicSubscribers(env, key, subscriberIds) {
      return writer.run(() => {
        if (!topicRow(env, key)) return undefined;
        const remove = prepared(
          'DELETE FROM topic_subscribers WHERE environment_id = ? AND topic_key = ? AND subscriber_id = ?',
        );
        let removed = 0;
        for (const subscriberId of subscriberIds) removed += remove.run(env, key, subscriberId).changes;
        return { removed };
      });
    },

    async listTopicSubscribers(env, key, limit, cursor) {
      if (!topicRow(env, key)) return undefined;
      const rows = prepared(`
        SELECT subscriber_id, created_at FROM topic_subscribers
        WHERE environment_id = ? AND topic_key = ? AND subscriber_id > ?
        ORDER BY subscriber_id LIMIT ?`).all(env, key, cursor ?? '', limit + 1) as TopicMemberRow[];
      return page(rows, limit, toTopicMember, (row) => row.subscriber_id);
    },

    async listSubscriberTopics(env, subscriberId) {
      return prepared(`
        SELECT topic_key FROM topic_subscribers WHERE environment_id = ? AND subscriber_id = ? ORDER BY topic_key`)
        .pluck()
        .all(env, subscriberId) as string[];
    },
  };
}
