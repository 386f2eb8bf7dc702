import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { createEmailChannel } from './channels/registry.js';
import { isDeliverableAddress } from './channels/email/mime.js';
import { systemClock, type Clock } from './core/clock.js';
import type { Store } from './core/store.js';
import type { TriggerDeps } from './core/trigger-workflow.js';
import type { EmailChannel } from './core/types.js';
import type { ServeConfig } from './config/settings.js';
import { buildApp, type App } from './http/app.js';
import { hashApiKey } from './http/auth.js';
import { createMetrics } from './observability/metrics.js';
import { withCachedWorkflows } from './store/cached-workflows.js';
import { createPostgresStore } from './store/postgres/postgres-store.js';
import { createThreadedSqliteStore } from './store/sqlite/threaded-sqlite-store.js';
import { startHousekeeping } from './worker/housekeeping.js';
import { createWorker, type Worker } from './worker/worker.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** A job claimed this many times more than the retry schedule allows keeps killing its worker. */
const EXTRA_CLAIMS = 5;

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

type DatabaseConfig = Pick<ServeConfig, 'database' | 'dataDir' | 'dbPool'> & { migrate?: boolean };

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//.test(database);
}

/** The SQLite file a config points at. */
export function databasePath(config: Pick<ServeConfig, 'database' | 'dataDir'>): string {
  return resolve(config.database || join(config.dataDir, 'herald.db'));
}

/** Where the data lives, for people: the SQLite path, or the PostgreSQL URL without its password. */
export function describeDatabase(config: DatabaseConfig): string {
  if (!isPostgresUrl(config.database)) return databasePath(config);
  const url = new URL(config.database);
  if (url.password) url.password = '***';
  return url.toString();
}

/**
 * Opens the store the config names: PostgreSQL for a postgres:// URL, else SQLite. It migrates the
 * schema unless `migrate` is false; then the schema must already be current, or opening fails.
 */
export async function openStore(
  config: DatabaseConfig,
  onFatal: (error: Error) => void = exitOnStoreFailure,
): Promise<Store> {
  const store = await openUnchecked(config, onFatal);
  if (config.migrate === false) {
    try {
      await store.ping();
    } catch (error) {
      await store.close();
      throw new Error(
        `--no-migrate: the database schema is not current (${(error as Error).message}); run \`herald migrate\` first`,
      );
    }
  }
  return store;
}

async function openUnchecked(config: DatabaseConfig, onFatal: (error: Error) => void): Promise<Store> {
  const migrate = config.migrate !== false;
  if (isPostgresUrl(config.database)) {
    // `?schema=` is Herald's, not libpq's: take it out before pg sees the URL.
    const url = new URL(config.database);
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    return createPostgresStore({
      connectionString: url.toString(),
      schema,
      poolSize: config.dbPool,
      idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS,
      migrate,
    });
  }
  return createThreadedSqliteStore({
    path: databasePath(config),
    idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS,
    onFatal,
    migrate,
  });
}

/** Without its store Herald can accept nothing safely: stop, and let the supervisor restart it. */
function exitOnStoreFailure(error: Error): void {
  process.stderr.write(`herald: the database thread failed, exiting: ${error.message}\n`);
  process.exit(1);
}

export interface Herald {
  url: string;
  app: App;
  store: Store;
  worker: Worker;
  channel: EmailChannel;
  logger: Logger;
  /** Graceful stop: no new requests, in-flight sends finish (bounded), held jobs released. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** What to do if the database thread dies; the default exits the process with code 1. */
  onStoreFailure?: (error: Error) => void;
}

/** The composition root: the one place that picks the store and the channels and wires them up. */
export async function startHerald(config: ServeConfig, options: StartOptions = {}): Promise<Herald> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? pino({ level: config.logLevel });
  const store = withCachedWorkflows(await openStore(config, options.onStoreFailure));
  const environmentId = await store.defaultEnvironmentId();
  if (config.apiKey) {
    await store.addApiKey({
      environmentId,
      name: 'HERALD_API_KEY',
      hash: hashApiKey(config.apiKey),
      createdAt: clock.now(),
    });
  }
  const metrics = createMetrics(store, clock);
  const channel = createEmailChannel(
    { smtpUrl: config.smtpUrl, from: config.emailFrom, smtpPool: config.smtpPool, sendTimeoutMs: config.sendTimeoutMs },
    store,
  );
  const worker = createWorker(
    {
      store,
      clock,
      logger,
      metrics,
      deliver: {
        channel,
        clock,
        retryPolicy: { schedule: config.retryScheduleMs, jitter: 0.2 },
        random: Math.random,
        isDeliverableAddress,
        maxClaims: config.retryScheduleMs.length + 1 + EXTRA_CLAIMS,
        sendTimeoutMs: config.sendTimeoutMs,
      },
    },
    { concurrency: config.concurrency, leaseMs: config.jobLeaseMs, pollIntervalMs: 1000, completionDelayMs: 15 },
  );
  const trigger: TriggerDeps = {
    store,
    clock,
    idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS,
    inFlight: new Map(),
    onCommitted: () => worker.notify(),
  };
  const runsWorker = config.role !== 'api';
  const app = await buildApp({
    store,
    clock,
    logger,
    metrics,
    trigger,
    version: VERSION,
    benchRoutes: config.benchRoutes,
    apiRoutes: config.role !== 'worker',
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // The port is taken or the host is wrong: release what was opened, or the store's thread
    // would keep the process alive after the error is reported.
    await app.close();
    await channel.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  if (runsWorker) {
    // Triggers committed by other processes wake this worker at once; polling covers the rest.
    store.onJobsAvailable?.(() => worker.notify());
    worker.start();
  }

  // Retention runs where delivery does: API-only processes stay lean.
  const housekeeping = startHousekeeping(
    { store, clock, logger },
    { idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS, retentionMs: runsWorker ? config.retentionMs : undefined },
  );

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    app,
    store,
    worker,
    channel,
    logger,
    close() {
      closing ??= (async () => {
        // server.close() waits for every connection to end, and a keep-alive connection whose
        // request finishes during the close would idle for the full keep-alive timeout (72 s in
        // Fastify), holding the exit. From now on, a connection is closed once it goes idle.
        app.server.keepAliveTimeout = 1;
        await app.close();
        await worker.stop(config.shutdownTimeoutMs);
        await channel.close();
        await housekeeping.stop(); // at most one more retention batch
        await store.close();
      })();
      return closing;
    },
  };
}
