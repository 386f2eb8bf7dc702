import type pg from 'pg';
import type { Store, TriggerPlan } from '../../core/store.js';
import { postgresAccessMethods } from './access.js';
import { postgresApiKeyMethods } from './api-keys.js';
import { postgresAuditMethods } from './audit.js';
import { commitTriggers } from './commit-trigger.js';
import { connectionConfig, createPool, inTransaction } from './connection.js';
import { postgresDeliveryLogMethods } from './delivery-log.js';
import { PostgresGroupCommit } from './group-commit.js';
import { postgresInboxMethods } from './inbox.js';
import { postgresIntegrationMethods } from './integrations.js';
import { postgresJobMethods } from './jobs.js';
import { postgresMessageStatsMethods } from './message-stats.js';
import { migratePostgres, postgresSchemaIsCurrent } from './migrate.js';
import {
  inboxChannel,
  inboxSettingsChannel,
  jobsChannel,
  listenForNotifications,
  parseInboxNotifyPayload,
  templatesChannel,
  workflowsChannel,
} from './notifications.js';
import { postgresRunMethods } from './runs.js';
import { postgresSecretMethods } from './secrets.js';
import { postgresSubscriberMethods } from './subscribers.js';
import { postgresTemplateMethods } from './templates.js';
import { postgresTopicMethods } from './topics.js';
import { postgresTriggerMethods } from './triggers.js';
import { postgresWorkflowMethods } from './workflows.js';

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
  const templateChannel = templatesChannel(schema);
  const inboxEventsChannel = inboxChannel(schema);
  const inboxSettingsChanges = inboxSettingsChannel(schema);
  // One LISTEN connection for the process, opened when something first listens.
  const notifications = listenForNotifications({
    connectionString: options.connectionString,
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  const transaction = <T>(work: (client: pg.PoolClient) => Promise<T>) => inTransaction(pool, work);

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

    onTemplateAssetsChanged(listener) {
      notifications.on(templateChannel, listener);
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

    ...postgresApiKeyMethods(pool, transaction),
    ...postgresAccessMethods(pool, transaction),
    ...postgresAuditMethods(pool),
    ...postgresSecretMethods(pool),
    ...postgresSubscriberMethods(pool, transaction),
    ...postgresTopicMethods(pool, transaction),
    ...postgresWorkflowMethods(pool, transaction, workflowChannel),
    ...postgresTemplateMethods(pool, transaction, templateChannel),
    ...postgresTriggerMethods(pool, triggers),
    ...postgresRunMethods(pool, channel),
    ...postgresDeliveryLogMethods(pool),
    ...postgresJobMethods(pool, { inboxEvents: inboxEventsChannel, jobs: channel }),
    ...postgresMessageStatsMethods(pool),
    ...postgresIntegrationMethods(pool, transaction),
    ...postgresInboxMethods(pool, transaction, { events: inboxEventsChannel, settings: inboxSettingsChanges }),
  };
}
