import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { pino, type Logger } from 'pino';
import { createChannelRouting } from './channels/channel-routing.js';
import { createDispatcher } from './channels/dispatcher.js';
import { isDeliverableAddress } from './channels/email/mime.js';
import { createIntegrationDirectory } from './channels/integration-directory.js';
import { createIntegrationService } from './channels/integration-service.js';
import { createSocketGuard } from './channels/outbound/guarded-socket.js';
import { createHttpClient } from './channels/outbound/http-client.js';
import { vetUrl } from './channels/outbound/ssrf.js';
import type { ProviderContext } from './channels/provider.js';
import { createWebhookDestinations } from './channels/webhook/webhook-destinations.js';
import { runCli } from './cli/cli.js';
import { MAX_PROVIDERS_PER_ATTEMPT } from './core/attempt-plan.js';
import type { Dispatcher } from './core/dispatch.js';
import { standingIntegration, type IntegrationService } from './core/integrations.js';
import { createRunawayGuard } from './core/runaway-guard.js';
import type { SecretBox } from './core/secret-box.js';
import type { StoredIntegration } from './core/store.js';
import { systemClock, type Clock } from './core/clock.js';
import type { Store } from './core/store.js';
import type { TriggerDeps } from './core/trigger-workflow.js';
import { createUnsubscribeTokens, UNSUBSCRIBE_KEY_PURPOSE, unsubscribeUrl } from './core/unsubscribe.js';
import type { ServeConfig } from './config/settings.js';
import { buildApp, type App } from './http/app.js';
import type { ApiKeyAuthOptions } from './http/auth.js';
import { defaultMaxConnections } from './http/connection-guard.js';
import { createMetrics } from './observability/metrics.js';
import { withCachedTemplateAssets } from './store/cached-template-assets.js';
import { withCachedWorkflows } from './store/cached-workflows.js';
import { withLocalInboxEvents } from './store/local-inbox-events.js';
import { sealStoredInboxSecrets, withSealedInboxSecrets } from './store/sealed-inbox-secrets.js';
import { describeDatabase, migrateDatabase, openStore } from './store/open-store.js';
import { openSecretBox, setUpApiKey, type SecretKeySource, type StartupApiKey } from './startup-keys.js';
import { startHousekeeping } from './worker/housekeeping.js';
import { createRenderPool, type RenderPool } from './worker/render-pool.js';
import { createRunner } from './worker/runner.js';
import { createWorker, type Worker } from './worker/worker.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** A job claimed this many times more than the retry schedule allows keeps killing its worker. */
const EXTRA_CLAIMS = 5;
/** Workflow versions and drafts the preview thread keeps compiled: drafts change with each edit. */
const PREVIEW_VERSIONS_KEPT = 20;

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Without its store Herald can accept nothing safely: stop, and let the supervisor restart it. */
function exitOnStoreFailure(error: Error): void {
  process.stderr.write(`herald: the database thread failed, exiting: ${error.message}\n`);
  process.exit(1);
}

/**
 * How far V8 lets a heap grow past what its last full collection kept, in percent. V8's own
 * factor goes up to 300 % when collections are cheap, which they are for Herald (its live heap is
 * ≈ 35 MB under load, its garbage short-lived): a 100,000-member fan-out grew the main heap to
 * 175 MB before each full collection brought it back to 35. At 50 % the same run peaks ≈ 80 MB
 * lower at the same CPU per message (bench/README.md, "Topic fan-out"). `node
 * --heap-growing-percent=N bin/herald.js` sets another (0: V8's own).
 */
const HEAP_GROWING_PERCENT = 50;

/** The `herald` command (bin/herald.js): the CLI, given what its commands open and start. */
export function runHerald(argv: string[]): Promise<number> {
  if (!process.execArgv.some((flag) => /heap[-_]growing[-_]percent/.test(flag))) {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  }
  return runCli(argv, {
    version: VERSION,
    startHerald,
    openStore: (settings) => openStore(settings, { onFatal: exitOnStoreFailure }),
    migrateDatabase,
    describeDatabase,
  });
}

export interface Herald {
  url: string;
  app: App;
  store: Store;
  worker: Worker;
  dispatcher: Dispatcher;
  integrations: IntegrationService;
  renderPool: RenderPool;
  logger: Logger;
  /** The API key this start registered or kept (for the banner). */
  apiKey: StartupApiKey;
  /** Where the key sealing secrets came from (for the banner). */
  secretKey: SecretKeySource;
  /** Whether the dashboard waits for its first user (for the banner); undefined where it is not served. */
  dashboard: { setupRequired: boolean } | undefined;
  /** Graceful stop: no new requests, in-flight sends finish (bounded), held jobs released. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** What to do if the database thread dies; the default exits the process with code 1. */
  onStoreFailure?: (error: Error) => void;
  /** API-key cache lifetime and last-use write interval; the defaults suit production. */
  auth?: ApiKeyAuthOptions;
  /** Where the built dashboard is; dist/dashboard by default (http/dashboard-files.ts). */
  dashboardDir?: string;
}

/** The composition root: the one place that picks the store and the channels and wires them up. */
export async function startHerald(config: ServeConfig, options: StartOptions = {}): Promise<Herald> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? pino({ level: config.logLevel });
  const opened = await openStore(config, {
    idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS,
    onFatal: options.onStoreFailure ?? exitOnStoreFailure,
  });
  let secretBox: SecretBox;
  let secretKey: SecretKeySource;
  let apiKey: StartupApiKey;
  try {
    ({ box: secretBox, source: secretKey } = await openSecretBox(config, opened, logger));
    await sealStoredInboxSecrets(opened, secretBox);
    apiKey = await setUpApiKey(config, opened, clock.now());
  } catch (error) {
    await opened.close();
    throw error;
  }
  const store = withLocalInboxEvents(
    withCachedTemplateAssets(withCachedWorkflows(withSealedInboxSecrets(opened, secretBox))),
  );
  const metrics = createMetrics(store, clock);
  const fromEnvironment = environmentIntegrations(config);
  const policy = { allowedNetworks: config.allowPrivateNetworks, timeoutMs: config.sendTimeoutMs };
  const http = createHttpClient(policy);
  const providerContext: ProviderContext = {
    http,
    createHttpClient: (options) => createHttpClient({ ...policy, ...options }),
    openSocket: createSocketGuard(policy),
    emailFrom: config.emailFrom,
    sendTimeoutMs: config.sendTimeoutMs,
    now: () => clock.now(),
    saveDevMail: (mail) => store.addDevMail(mail),
  };
  const breaker = { threshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs };
  // Links are checked whether or not this process makes them: links already sent keep working.
  const unsubscribeTokens = createUnsubscribeTokens(secretBox.deriveKey(UNSUBSCRIBE_KEY_PURPOSE));
  const { publicUrl } = config;
  if (publicUrl === undefined) {
    logger.info('no --public-url (HERALD_PUBLIC_URL): emails carry no List-Unsubscribe link');
  }
  const directory = createIntegrationDirectory({
    store,
    secretBox,
    providerContext,
    breaker,
    destinationConcurrency: config.destinationConcurrency,
    clock,
    logger,
    fromEnvironment,
    onCircuitChange(integration, snapshot) {
      metrics.circuitState(integration.id, integration.provider, snapshot.state);
      logger.warn({ integration: integration.id, circuit: snapshot.state }, 'integration circuit changed');
    },
  });
  const dispatcher = createDispatcher({
    directory,
    store,
    clock,
    logger,
    isDeliverableAddress,
    sendTimeoutMs: config.sendTimeoutMs,
    webhookDestinations: createWebhookDestinations({
      breaker,
      concurrency: config.destinationConcurrency,
      now: () => clock.now(),
      onCircuitChange(origin, snapshot) {
        logger.warn({ webhookReceiver: origin, circuit: snapshot.state }, 'webhook receiver circuit changed');
      },
    }),
  });
  const integrations = createIntegrationService({
    store,
    directory,
    secretBox,
    http,
    clock,
    policy,
    fromEnvironment,
  });
  // Threads start with the first render: an API-only process never starts any.
  const renderPool = createRenderPool({
    threads: config.renderThreads,
    timeoutMs: config.renderTimeoutMs,
    logger,
    onOverrun: (how) => metrics.renderOverrun(how),
    defaultLocale: config.defaultLocale,
    defaultTimeZone: config.defaultTimeZone,
  });
  metrics.watchRenderPool(() => renderPool.stats());
  // Previews render drafts no one has sent: a pool of their own (one thread, started by the first
  // preview that needs it), so a runaway draft holds neither the API's event loop nor a delivery
  // thread, and drafts do not push delivered versions out of the delivery threads' caches.
  const previewPool = createRenderPool({
    threads: 1,
    timeoutMs: config.renderTimeoutMs,
    logger,
    versionsPerThread: PREVIEW_VERSIONS_KEPT,
    defaultLocale: config.defaultLocale,
    defaultTimeZone: config.defaultTimeZone,
  });
  const worker = createWorker(
    {
      store,
      clock,
      logger,
      metrics,
      deliver: {
        render: (request) => renderPool.render(request),
        runaways: createRunawayGuard({ now: () => clock.now() }),
        dispatcher,
        clock,
        retryPolicy: { schedule: config.retryScheduleMs, jitter: 0.2 },
        random: Math.random,
        maxClaims: config.retryScheduleMs.length + 1 + EXTRA_CLAIMS,
        // Each provider call has its own timeout; failover may make a few in one attempt.
        sendTimeoutMs: config.sendTimeoutMs * MAX_PROVIDERS_PER_ATTEMPT,
        defaultTimeZone: config.defaultTimeZone,
        ...(publicUrl !== undefined && {
          unsubscribeUrl: (claims) => unsubscribeUrl(publicUrl, unsubscribeTokens.sign(claims)),
        }),
      },
      onRunsWoken: () => runner.notify(),
    },
    { concurrency: config.concurrency, leaseMs: config.jobLeaseMs, pollIntervalMs: 1000, completionDelayMs: 15 },
  );
  const runner = createRunner(
    { store, clock, logger, metrics, onDispatched: () => worker.notify(), defaultTimeZone: config.defaultTimeZone },
    { leaseMs: config.jobLeaseMs, pollIntervalMs: 1000, batchSize: 100 },
  );
  const trigger: TriggerDeps = {
    store,
    clock,
    idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS,
    inFlight: new Map(),
    onCommitted: ({ runsDue }) => {
      worker.notify();
      // Most triggers start no run work now (a workflow of sends is done at commit).
      if (runsDue) runner.notify();
    },
  };
  const runsWorker = config.role !== 'api';
  const connections = {
    requestTimeoutMs: config.requestTimeoutMs,
    maxConnections: config.maxConnections ?? defaultMaxConnections(config),
  };
  logger.info(connections, 'http connection limits');
  const app = await buildApp({
    store,
    clock,
    logger,
    metrics,
    trigger,
    preview: {
      render: (request) => previewPool.render(request),
      routing: createChannelRouting(directory),
      isDeliverableAddress,
      clock,
      defaultTimeZone: config.defaultTimeZone,
    },
    integrations,
    isDeliverableAddress,
    refuseOutboundUrl(url) {
      try {
        vetUrl(url, policy);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
    version: VERSION,
    connections,
    unsubscribeTokens,
    inbox: {
      // Dev mode (no API key) lets any page try the inbox; production lists its origins.
      defaultOrigins: config.inboxOrigins.length > 0 || config.apiKey ? config.inboxOrigins : ['*'],
      heartbeatMs: config.inboxHeartbeatMs,
      maxStreams: config.inboxMaxStreams,
    },
    benchRoutes: config.benchRoutes,
    apiRoutes: config.role !== 'worker',
    ...(publicUrl !== undefined && { publicUrl }),
    ...(options.dashboardDir !== undefined && { dashboardDir: options.dashboardDir }),
    auth: options.auth,
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // The port is taken or the host is wrong: release what was opened, or the store's thread
    // would keep the process alive after the error is reported.
    await app.close();
    await renderPool.close();
    await previewPool.close();
    await dispatcher.close();
    await http.close();
    await store.close();
    throw listenError(error, config);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  if (runsWorker) {
    // Triggers committed by other processes wake this worker at once; polling covers the rest.
    store.onJobsAvailable?.(() => {
      worker.notify();
      runner.notify();
    });
    worker.start();
    runner.start();
  }

  // Retention runs where delivery does: API-only processes stay lean.
  const housekeeping = startHousekeeping(
    { store, clock, logger },
    { idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS, retentionMs: runsWorker ? config.retentionMs : undefined },
  );

  const dashboard = config.role === 'worker' ? undefined : { setupRequired: (await store.countUsers()) === 0 };

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    dashboard,
    app,
    store,
    worker,
    dispatcher,
    integrations,
    renderPool,
    logger,
    apiKey,
    secretKey,
    close() {
      closing ??= (async () => {
        // server.close() waits for every connection to end, and a keep-alive connection whose
        // request finishes during the close would idle for the full keep-alive timeout (72 s in
        // Fastify), holding the exit. From now on, a connection is closed once it goes idle.
        app.server.keepAliveTimeout = 1;
        await app.close();
        await runner.stop();
        await worker.stop(config.shutdownTimeoutMs);
        await renderPool.close();
        await previewPool.close();
        await dispatcher.close();
        await http.close();
        await housekeeping.stop(); // at most one more retention batch
        await store.close();
      })();
      return closing;
    },
  };
}

/** Why the server could not listen, in words that name the setting to change. */
function listenError(error: unknown, config: Pick<ServeConfig, 'host' | 'port'>): unknown {
  const code = (error as { code?: unknown }).code;
  const where = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  const explain = (reason: string) => Object.assign(new Error(`cannot listen on ${where}: ${reason}`), { code });
  switch (code) {
    case 'EADDRINUSE':
      return explain(
        `the port is already in use (EADDRINUSE). Stop the process using it, or choose another port with --port (HERALD_PORT); --port 0 picks a free one`,
      );
    case 'EACCES':
      return explain(
        `not allowed to use this port (EACCES); ports below 1024 need privileges: choose another with --port (HERALD_PORT)`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return explain(
        `this machine has no such address (${code}); set --host (HERALD_HOST) to one of its addresses, e.g. 127.0.0.1 or 0.0.0.0`,
      );
    default:
      return error;
  }
}

/** HERALD_SMTP_URL as a read-only email integration, tried after the stored ones. */
function environmentIntegrations(config: ServeConfig): Omit<StoredIntegration, 'environmentId'>[] {
  if (!config.smtpUrl) return [];
  return [
    standingIntegration({
      id: ENVIRONMENT_SMTP_ID,
      channel: 'email',
      provider: 'smtp',
      config: { url: config.smtpUrl, pool: config.smtpPool },
    }),
  ];
}

export const ENVIRONMENT_SMTP_ID = 'env-smtp';
