import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { IntegrationService } from '../core/integrations.js';
import type { PreviewDeps } from '../core/preview-workflow.js';
import type { Store } from '../core/store.js';
import type { TriggerDeps } from '../core/trigger-workflow.js';
import type { UnsubscribeTokens } from '../core/unsubscribe.js';
import type { Metrics } from '../observability/metrics.js';
import type { ApiKeyAuthOptions } from './auth.js';
import type { ConnectionLimits } from './connection-guard.js';

// What the app and its routes are given (by main.ts), apart from app.ts, so that route files
// import their deps without importing the app that registers them.

/** Everything the HTTP layer uses, handed in by main.ts. */
export interface AppDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  trigger: TriggerDeps;
  /** Workflow previews: their render pool, how channels route, the default time zone. */
  preview: PreviewDeps;
  integrations: IntegrationService;
  /** What the `email` format accepts: the addresses the email channel can send to. */
  isDeliverableAddress(address: string): boolean;
  /** Why an outbound URL a user sets would be refused (SSRF guard), or undefined when it is fine. */
  refuseOutboundUrl(url: string): string | undefined;
  version: string;
  /** Request timeout and connection cap (--request-timeout, --max-connections). */
  connections: ConnectionLimits;
  inbox: {
    /** Origins allowed where an environment sets none (HERALD_INBOX_ORIGINS; dev mode: *). */
    defaultOrigins: readonly string[];
    heartbeatMs: number;
    /** Inbox streams one process holds at most (--inbox-max-streams). */
    maxStreams: number;
  };
  /** Checks the tokens of one-click unsubscribe links (made with the same key by the workers). */
  unsubscribeTokens: Pick<UnsubscribeTokens, 'verify'>;
  /** API-key cache lifetime and last-use write interval (defaults in auth.ts). */
  auth?: ApiKeyAuthOptions;
  /** --public-url: Herald's own origin for the dashboard's CSRF checks, and https makes its cookie Secure. */
  publicUrl?: string;
  /** Where the built dashboard is (default: dist/dashboard, http/dashboard-files.ts). */
  dashboardDir?: string;
  /** Adds the no-op trigger route that benchmarks use as their ceiling. */
  benchRoutes?: boolean;
  /** false for worker processes: only the health, metrics and OpenAPI routes. */
  apiRoutes?: boolean;
}

/** The Fastify instance Herald builds. */
export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;
