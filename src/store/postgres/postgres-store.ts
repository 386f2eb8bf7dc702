import pg from 'pg';
import type { Store, StoredIdempotency, TriggerPlan } from '../../core/store.js';
import type { Workflow } from '../../core/types.js';
import { unpackContent } from '../content.js';
import {
  devMailValues,
  logPage,
  MESSAGE_COLUMNS,
  page,
  toAttempt,
  ATTEMPT_COLUMNS,
  toDevMail,
  toMessage,
  toWorkflow,
  toWorkflowVersion,
  type AttemptRow,
  type DevMailRow,
  type MessageRow,
  type WorkflowRow,
  type WorkflowVersionRow,
} from '../rows.js';
import { claimJobs } from './claim-jobs.js';
import { commitTriggers } from './commit-trigger.js';
import { completeJobs } from './complete-jobs.js';
import { postgresApiKeyMethods } from './api-keys.js';
import { postgresInboxMethods } from './inbox.js';
import { postgresIntegrationMethods } from './integrations.js';
import { postgresRunMethods } from './runs.js';
import { postgresSecretMethods } from './secrets.js';
import { postgresSubscriberMethods } from './subscribers.js';
import { connectionConfig, createPool, inTransaction } from './connection.js';
import { PostgresGroupCommit } from './group-commit.js';
import {
  inboxChannel,
  inboxSettingsChannel,
  jobsChannel,
  listenForNotifications,
  parseInboxNotifyPayload,
  workflowsChannel,
} from './notifications.js';
import { LIST_MESSAGES_SINCE, listMessagesQuery, MESSAGE_LOG_HEAD } from './list-messages.js';
import { migratePostgres, postgresSchemaIsCurrent } from './migrate.js';
import { pruneMessages } from './prune-messages.js';

/** Inserted by the first migration, as on SQLite. */
const DEFAULT_ENVIRONMENT_ID = 'env_development';

export interface PostgresStoreOptions {
  /** e.g. postgres://user@host:5432/herald */
  connectionString: string;
  /** Keep Herald's tables in this schema (created when missing) instead of the search_path default. */
  schema?: string;
  /** How long an Idempotency-Key holds (24 h by default). */
  idempotencyWindowMs?: number;
  /** Connections in this process's pool (10 by default). */
  poolSize?: number;
  /** Apply pending migrations on open (the default); `herald migrate` does it explicitly. */
  migrate?: boolean;
}

export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { schema } = options;
  const connection = connectionConfig(options.connectionString, schema);
  const pool = createPool({
    ...connection,
    max: options.poolSize ?? 10,
    // With every connection busy, or the server unreachable, give up after a while: the caller
    // answers 503 and retries, instead of requests piling up behind the pool without limit.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  try {
    if (options.migrate !== false) await migratePostgres(pool, schema);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const idempotencyWindowMs = options.idempotencyWindowMs ?? 24 * 3_600_000;
  const channel = jobsChannel(schema);
  const triggers = new PostgresGroupCommit<TriggerPlan>(pool, (client, plans) =>
    commitTriggers(client, plans, { idempotencyWindowMs, jobsChannel: channel }),
  );
  const workflowChannel = workflowsChannel(schema);
  const inboxEventsChannel = inboxChannel(schema);
  const inboxSettingsChanges = inboxSettingsChannel(schema);
  // One LISTEN connection for the process, opened when something first listens.
  const notifications = listenForNotifications({
    connectionString: options.connectionString,
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  /** Tells every process's workflow cache, at commit, that this workflow changed. */
  const announceWorkflow = (client: pg.PoolClient | pg.Pool, env: string, key: string) =>
    client.query('SELECT pg_notify($1, $2)', [workflowChannel, JSON.stringify([env, key])]);

  const query = async <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    (await pool.query<Row>(sql, params)).rows;
  /** For the statements on the delivery path: each connection parses and plans them once. */
  const named = async <Row extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) =>
    (await pool.query<Row>({ name, text, values })).rows;

  const transaction = <T>(work: (client: pg.PoolClient) => Promise<T>) => inTransaction(pool, work);

  // Versions are immutable, so their parsed steps can be kept: a trigger then reads one small
  // row instead of parsing the templates again.
  const stepsByVersion = new Map<string, Workflow['steps']>();
  const stepsOf = async (versionId: string): Promise<Workflow['steps']> => {
    let steps = stepsByVersion.get(versionId);
    if (!steps) {
      const [row] = await query<{ steps: string }>('SELECT steps FROM workflow_versions WHERE id = $1', [versionId]);
      steps = JSON.parse(row!.steps) as Workflow['steps'];
      if (stepsByVersion.size >= 1000) stepsByVersion.delete(stepsByVersion.keys().next().value!);
      stepsByVersion.set(versionId, steps);
    }
    return steps;
  };

  return {
    dialect: 'postgres',

    async ping() {
      if (!(await postgresSchemaIsCurrent(pool))) throw new Error('database schema is not current: run herald migrate');
    },

    onJobsAvailable(listener) {
      notifications.on(channel, listener);
      notifications.onConnected(listener); // anything committed while no one was listening
    },

    onWorkflowChanged(listener) {
      notifications.on(workflowChannel, (payload) => {
        const [environmentId, key] = JSON.parse(payload) as [string, string];
        listener({ environmentId, key });
      });
      notifications.onConnected(() => listener(undefined)); // changes may have been missed
    },

    onInboxEvents(listener) {
      notifications.on(inboxEventsChannel, (payload) => {
        const event = parseInboxNotifyPayload(payload);
        if (event) listener(event);
      });
      notifications.onConnected(() => listener(undefined)); // events may have been missed
    },

    onInboxSettingsChanged(listener) {
      notifications.on(inboxSettingsChanges, listener);
      notifications.onConnected(() => listener(undefined)); // a rotation may have been missed
    },

    async close() {
      await notifications.close();
      await triggers.drain();
      await pool.end();
    },

    async defaultEnvironmentId() {
      return DEFAULT_ENVIRONMENT_ID;
    },

    async putWorkflow(env, input, now) {
      return transaction(async (client) => {
        // The upsert takes the workflow's row lock, so concurrent saves get successive versions.
        const { rows } = await client.query<{ version: number; created_at: number }>(
          `INSERT INTO workflows (environment_id, key, name, version, version_id, created_at, updated_at)
           VALUES ($1, $2, $3, 1, $4, $5, $5)
           ON CONFLICT (environment_id, key) DO UPDATE SET
             name = excluded.name, version = workflows.version + 1, version_id = excluded.version_id,
             updated_at = excluded.updated_at
           RETURNING version, created_at`,
          [env, input.key, input.name, input.versionId, now],
        );
        const { version, created_at: createdAt } = rows[0]!;
        await client.query(
          `INSERT INTO workflow_versions (id, environment_id, key, name, version, steps, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [input.versionId, env, input.key, input.name, version, JSON.stringify(input.steps), now],
        );
        await announceWorkflow(client, env, input.key);
        return {
          key: input.key,
          name: input.name,
          steps: input.steps,
          version,
          versionId: input.versionId,
          createdAt,
          updatedAt: now,
        };
      });
    },

    async getWorkflow(env, key) {
      const [row] = await query<Omit<WorkflowRow, 'steps'>>(
        `SELECT key, name, version, version_id, created_at, updated_at
         FROM workflows WHERE environment_id = $1 AND key = $2`,
        [env, key],
      );
      if (!row) return undefined;
      return {
        key: row.key,
        name: row.name,
        steps: await stepsOf(row.version_id),
        version: row.version,
        versionId: row.version_id,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
    },

    async listWorkflows(env, limit, cursor) {
      const rows = await query<WorkflowRow>(
        `SELECT w.key, w.name, w.version, w.version_id, v.steps, w.created_at, w.updated_at
         FROM workflows w JOIN workflow_versions v ON v.id = w.version_id
         WHERE w.environment_id = $1 AND w.key > $2
         ORDER BY w.key LIMIT $3`,
        [env, cursor ?? '', limit + 1],
      );
      return page(rows, limit, toWorkflow, (row) => row.key);
    },

    async deleteWorkflow(env, key) {
      // Versions stay: messages already accepted still render the version they were planned with.
      return transaction(async (client) => {
        const result = await client.query('DELETE FROM workflows WHERE environment_id = $1 AND key = $2', [env, key]);
        await announceWorkflow(client, env, key);
        return (result.rowCount ?? 0) > 0;
      });
    },

    async getWorkflowVersions(versionIds) {
      const rows = await query<WorkflowVersionRow>(
        'SELECT id, key, name, steps FROM workflow_versions WHERE id = ANY($1::text[])',
        [versionIds],
      );
      return rows.map(toWorkflowVersion);
    },

    async findIdempotency(env, key, since) {
      const [row] = await query<{ body_hash: string; response: string }>(
        `SELECT body_hash, response FROM idempotency_keys
         WHERE environment_id = $1 AND key = $2 AND created_at >= $3`,
        [env, key, since],
      );
      return row ? ({ bodyHash: row.body_hash, responseJson: row.response } satisfies StoredIdempotency) : undefined;
    },

    commitTrigger(plan) {
      return triggers.run(plan);
    },

    async getTriggerData(triggerIds) {
      const rows = await named<{ id: string; data: string }>(
        'herald_trigger_data',
        'SELECT id, data FROM triggers WHERE id = ANY($1::text[])',
        [triggerIds],
      );
      return new Map(rows.map((row) => [row.id, JSON.parse(row.data) as Record<string, unknown>]));
    },

    async listMessages(env, filter) {
      const { text, values } = listMessagesQuery(env, filter);
      const rows = await query<MessageRow>(text, values);
      return page(rows, filter.limit, toMessage, (row) => row.id);
    },

    async listMessagesSince(env, since, limit) {
      const rows = await named<MessageRow>('herald_list_messages_since', LIST_MESSAGES_SINCE, [env, since, limit]);
      return logPage(rows, since);
    },

    async messageLogHead(env) {
      const [row] = await named<{ seq: number }>('herald_message_log_head', MESSAGE_LOG_HEAD, [env]);
      return row!.seq;
    },

    async getMessage(env, messageId) {
      const [row] = await query<MessageRow & { content: Buffer | null }>(
        `SELECT ${MESSAGE_COLUMNS}, content FROM messages WHERE id = $1 AND environment_id = $2`,
        [messageId, env],
      );
      if (!row) return undefined;
      const attempts = await query<AttemptRow>(
        `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE message_id = $1 ORDER BY at, seq`,
        [messageId],
      );
      return { ...toMessage(row), attempts: attempts.map(toAttempt), content: unpackContent(row.content) };
    },

    claimJobs(workerId, limit, now, leaseMs) {
      return claimJobs(pool, workerId, limit, now, leaseMs);
    },

    completeJobs(completions) {
      return completeJobs(pool, completions, inboxEventsChannel);
    },

    async renewLeases(workerId, jobIds, until) {
      // The jobs' primary key, for the whole list in one statement.
      const result = await pool.query({
        name: 'herald_renew_leases',
        text: 'UPDATE jobs SET available_at = $1 WHERE id = ANY($2::text[]) AND locked_by = $3',
        values: [until, jobIds, workerId],
      });
      return result.rowCount ?? 0;
    },

    async releaseJobs(workerId, now) {
      // jobs_by_locked_by
      const result = await pool.query('UPDATE jobs SET available_at = $1, locked_by = NULL WHERE locked_by = $2', [
        now,
        workerId,
      ]);
      return result.rowCount ?? 0;
    },

    async nextJobDueAt() {
      // One step on jobs_by_available_at and one on run_timers_by_due_at.
      const [row] = await named<{ at: number | null }>(
        'herald_next_job_due',
        'SELECT LEAST((SELECT MIN(available_at) FROM jobs), (SELECT MIN(due_at) FROM run_timers)) AS at',
        [],
      );
      return row?.at ?? undefined;
    },

    async queueStats(now) {
      const [row] = await query<{ depth: number; oldest: number | null }>(
        'SELECT COUNT(*) AS depth, MIN(available_at) FILTER (WHERE available_at <= $1) AS oldest FROM jobs',
        [now],
      );
      return { depth: row!.depth, oldestDueAgeMs: row!.oldest === null ? 0 : now - row!.oldest };
    },

    async pruneIdempotency(before) {
      // idempotency_keys_by_created_at
      const result = await pool.query('DELETE FROM idempotency_keys WHERE created_at < $1', [before]);
      return result.rowCount ?? 0;
    },

    pruneMessages(before, batchSize) {
      return pruneMessages(pool, before, batchSize);
    },

    async addDevMail(mail) {
      await query(
        `INSERT INTO dev_mail (id, environment_id, message_id, sender, recipient, subject, html, text, headers, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        devMailValues(mail),
      );
    },

    async listDevMail(env, limit, cursor) {
      const rows = await query<DevMailRow>(
        'SELECT * FROM dev_mail WHERE environment_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
        [env, cursor ?? '\uffff', limit + 1],
      );
      return page(rows, limit, toDevMail, (row) => row.id);
    },
    ...postgresApiKeyMethods(pool, transaction),
    ...postgresSecretMethods(pool),
    ...postgresIntegrationMethods(pool, transaction),
    ...postgresSubscriberMethods(pool, transaction),
    ...postgresRunMethods(pool, channel),
    ...postgresInboxMethods(pool, transaction, { events: inboxEventsChannel, settings: inboxSettingsChanges }),
  };
}
