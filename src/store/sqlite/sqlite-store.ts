import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import type { Store, StoredIdempotency } from '../../core/store.js';
import type { DevMail, Subscriber, Workflow } from '../../core/types.js';
import { prepareClaimJobs } from './claim-jobs.js';
import { prepareCommitTrigger } from './commit-trigger.js';
import { prepareCompleteJobs } from './complete-jobs.js';
import { listMessagesSql } from './list-messages.js';
import { preparePruneMessages } from './prune-messages.js';
import { unpackContent } from '../content.js';
import { migrateSqlite, sqliteSchemaIsCurrent } from './migrate.js';
import {
  devMailValues,
  logPage,
  MESSAGE_COLUMNS,
  page,
  toAttempt,
  ATTEMPT_COLUMNS,
  toDevMail,
  toMessage,
  subscriberParams,
  toSubscriber,
  toWorkflow,
  toWorkflowVersion,
  type AttemptRow,
  type DevMailRow,
  type MessageRow,
  type SubscriberRow,
  type WorkflowRow,
  type WorkflowVersionRow,
} from '../rows.js';
import { sqliteApiKeyMethods } from './api-keys.js';
import { sqliteInboxMethods } from './inbox.js';
import { sqliteIntegrationMethods } from './integrations.js';
import { sqliteRunMethods } from './runs.js';
import { sqliteSecretMethods } from './secrets.js';
import { SqliteWriter } from './sqlite-writer.js';

export const DEFAULT_ENVIRONMENT_ID = 'env_development';

export interface SqliteStoreOptions {
  /** File path of the database; created with its folder when missing. */
  path: string;
  /** How long an Idempotency-Key holds (24 h by default). */
  idempotencyWindowMs?: number;
  /** Apply pending migrations on open (the default); `herald migrate` does it explicitly. */
  migrate?: boolean;
}

/** Opens the SQLite file with the settings durability and speed rely on. */
export function openSqlite(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before a 202 answers it, power loss included.
  db.pragma('synchronous = FULL');
  // Without it, UPDATE … RETURNING with a subquery spills to temp files (7× slower claims).
  db.pragma('temp_store = MEMORY');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Whether the schema is current; false also when Herald's tables do not exist yet. */
function isMigrated(db: Database): boolean {
  try {
    return sqliteSchemaIsCurrent(db);
  } catch {
    return false; // no herald_migrations table: never migrated
  }
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openSqlite(options.path);
  if (options.migrate !== false) migrateSqlite(db);
  else if (!isMigrated(db)) {
    db.close();
    throw new Error('database schema is not current: run herald migrate');
  }
  const writer = new SqliteWriter(db);
  const idempotencyWindowMs = options.idempotencyWindowMs ?? 24 * 3_600_000;
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const commitTrigger = prepareCommitTrigger(db, idempotencyWindowMs);
  const claimJobs = prepareClaimJobs(db);
  const completeJobs = prepareCompleteJobs(db);
  const pruneMessages = preparePruneMessages(db);

  const getSubscriber = (env: string, id: string): Subscriber | undefined => {
    const row = prepared('SELECT * FROM subscribers WHERE environment_id = ? AND subscriber_id = ?').get(env, id) as
      SubscriberRow | undefined;
    return row ? toSubscriber(row) : undefined;
  };

  // Hot reads by key are cached in front of the store (cached-workflows.ts), so this stays plain.
  const getWorkflow = (env: string, key: string): Workflow | undefined => {
    const row = prepared(`
      SELECT w.key, w.name, w.version, w.version_id, v.steps, w.created_at, w.updated_at
      FROM workflows w JOIN workflow_versions v ON v.id = w.version_id
      WHERE w.environment_id = ? AND w.key = ?`).get(env, key) as WorkflowRow | undefined;
    return row ? toWorkflow(row) : undefined;
  };

  return {
    dialect: 'sqlite',

    async ping() {
      if (!sqliteSchemaIsCurrent(db)) throw new Error('database schema is not current: run herald migrate');
    },

    async close() {
      writer.drain();
      db.close();
    },

    async defaultEnvironmentId() {
      return DEFAULT_ENVIRONMENT_ID;
    },

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
      return getSubscriber(env, subscriberId);
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

    async putWorkflow(env, input, now) {
      return writer.run(() => {
        const current = prepared('SELECT version, created_at FROM workflows WHERE environment_id = ? AND key = ?').get(
          env,
          input.key,
        ) as { version: number; created_at: number } | undefined;
        const version = (current?.version ?? 0) + 1;
        prepared(`
          INSERT INTO workflow_versions (id, environment_id, key, name, version, steps, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
          input.versionId,
          env,
          input.key,
          input.name,
          version,
          JSON.stringify(input.steps),
          now,
        );
        prepared(`
          INSERT INTO workflows (environment_id, key, name, version, version_id, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (environment_id, key) DO UPDATE SET
            name = excluded.name, version = excluded.version, version_id = excluded.version_id,
            updated_at = excluded.updated_at`).run(env, input.key, input.name, version, input.versionId, now, now);
        return {
          key: input.key,
          name: input.name,
          steps: input.steps,
          version,
          versionId: input.versionId,
          createdAt: current?.created_at ?? now,
          updatedAt: now,
        };
      });
    },

    async getWorkflow(env, key) {
      return getWorkflow(env, key);
    },

    async listWorkflows(env, limit, cursor) {
      const rows = prepared(`
        SELECT w.key, w.name, w.version, w.version_id, v.steps, w.created_at, w.updated_at
        FROM workflows w JOIN workflow_versions v ON v.id = w.version_id
        WHERE w.environment_id = ? AND w.key > ?
        ORDER BY w.key LIMIT ?`).all(env, cursor ?? '', limit + 1) as WorkflowRow[];
      return page(rows, limit, toWorkflow, (row) => row.key);
    },

    async deleteWorkflow(env, key) {
      // Versions stay: messages already accepted still render the version they were planned with.
      return writer.run(
        () => prepared('DELETE FROM workflows WHERE environment_id = ? AND key = ?').run(env, key).changes > 0,
      );
    },

    async getWorkflowVersions(versionIds) {
      const rows = prepared(`
        SELECT id, key, name, steps FROM workflow_versions WHERE id IN (SELECT value FROM json_each(?))`).all(
        JSON.stringify(versionIds),
      ) as WorkflowVersionRow[];
      return rows.map(toWorkflowVersion);
    },

    async findIdempotency(env, key, since) {
      const row = prepared(`
        SELECT body_hash, response FROM idempotency_keys
        WHERE environment_id = ? AND key = ? AND created_at >= ?`).get(env, key, since) as
        { body_hash: string; response: string } | undefined;
      return row ? ({ bodyHash: row.body_hash, responseJson: row.response } satisfies StoredIdempotency) : undefined;
    },

    commitTrigger(plan) {
      return writer.run(() => commitTrigger(plan));
    },

    async getTriggerData(triggerIds) {
      const rows = prepared('SELECT id, data FROM triggers WHERE id IN (SELECT value FROM json_each(?))').all(
        JSON.stringify(triggerIds),
      ) as { id: string; data: string }[];
      return new Map(rows.map((row) => [row.id, JSON.parse(row.data) as Record<string, unknown>]));
    },

    async listMessages(env, filter) {
      const rows = prepared(listMessagesSql(filter)).all({ ...filter, env, limit: filter.limit + 1 }) as MessageRow[];
      return page(rows, filter.limit, toMessage, (row) => row.id);
    },

    async listMessagesSince(env, since, limit) {
      // messages_by_seq, walked forward from (environment, since).
      const rows = prepared(`
        SELECT ${MESSAGE_COLUMNS} FROM messages WHERE environment_id = ? AND seq > ? ORDER BY seq LIMIT ?`).all(
        env,
        since,
        limit,
      ) as MessageRow[];
      return logPage(rows, since);
    },

    async messageLogHead(env) {
      // One step on messages_by_seq.
      return prepared('SELECT COALESCE(MAX(seq), 0) FROM messages WHERE environment_id = ?').pluck().get(env) as number;
    },

    async getMessage(env, messageId) {
      const row = prepared(`SELECT ${MESSAGE_COLUMNS}, content FROM messages WHERE id = ? AND environment_id = ?`).get(
        messageId,
        env,
      ) as (MessageRow & { content: Buffer | null }) | undefined;
      if (!row) return undefined;
      const attempts = prepared(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE message_id = ? ORDER BY at, rowid`).all(
        messageId,
      ) as AttemptRow[];
      return { ...toMessage(row), attempts: attempts.map(toAttempt), content: unpackContent(row.content) };
    },

    claimJobs(workerId, limit, now, leaseMs) {
      return writer.run(() => claimJobs(workerId, limit, now, leaseMs));
    },

    completeJobs(completions) {
      return writer.run(() => completeJobs(completions));
    },

    renewLeases(workerId, jobIds, until) {
      // The jobs' primary key, once per id.
      const renew = prepared('UPDATE jobs SET available_at = ? WHERE id = ? AND locked_by = ?');
      return writer.run(() =>
        jobIds.reduce((renewed, jobId) => renewed + renew.run(until, jobId, workerId).changes, 0),
      );
    },

    releaseJobs(workerId, now) {
      return writer.run(
        () =>
          prepared('UPDATE jobs SET available_at = ?, locked_by = NULL WHERE locked_by = ?').run(now, workerId).changes,
      );
    },

    async nextJobDueAt() {
      const row = prepared(
        'SELECT MIN(at) AS at FROM (SELECT MIN(available_at) AS at FROM jobs UNION ALL SELECT MIN(due_at) FROM run_timers)',
      ).get() as { at: number | null };
      return row.at ?? undefined;
    },

    async queueStats(now) {
      const depth = (prepared('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n;
      const oldest = (
        prepared('SELECT MIN(available_at) AS at FROM jobs WHERE available_at <= ?').get(now) as {
          at: number | null;
        }
      ).at;
      return { depth, oldestDueAgeMs: oldest === null ? 0 : now - oldest };
    },

    pruneIdempotency(before) {
      return writer.run(() => prepared('DELETE FROM idempotency_keys WHERE created_at < ?').run(before).changes);
    },

    pruneMessages(before, batchSize) {
      return writer.run(() => pruneMessages(before, batchSize));
    },

    async addDevMail(mail: DevMail) {
      await writer.run(() =>
        prepared(`
          INSERT INTO dev_mail (id, environment_id, message_id, sender, recipient, subject, html, text, headers, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...devMailValues(mail)),
      );
    },

    ...sqliteApiKeyMethods(prepared, writer),
    ...sqliteSecretMethods(prepared, writer),
    ...sqliteIntegrationMethods(prepared, writer),
    ...sqliteInboxMethods(prepared, writer),
    ...sqliteRunMethods(db, writer),

    async listDevMail(env, limit, cursor) {
      const rows = prepared(`
        SELECT * FROM dev_mail WHERE environment_id = ? AND id < ? ORDER BY id DESC LIMIT ?`).all(
        env,
        cursor ?? '\uffff',
        limit + 1,
      ) as DevMailRow[];
      return page(rows, limit, toDevMail, (row) => row.id);
    },
  };
}
