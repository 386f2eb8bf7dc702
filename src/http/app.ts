import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from 'pino';
import { isDeliverableAddress } from '../channels/email/mime.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../core/store.js';
import type { TriggerDeps } from '../core/trigger-workflow.js';
import type { Metrics } from '../observability/metrics.js';
import { createApiKeyAuthenticator } from './auth.js';
import { parseJsonBody } from './json-body.js';
import { problem, sendProblem, toProblem } from './problem.js';
import { benchRoutes } from './routes/bench.js';
import { devMailRoutes } from './routes/dev-mail.js';
import { healthRoutes } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { subscriberRoutes } from './routes/subscribers.js';
import { triggerRoutes } from './routes/triggers.js';
import { workflowRoutes } from './routes/workflows.js';

export interface AppDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  trigger: TriggerDeps;
  version: string;
  /** Adds the no-op trigger route that benchmarks use as their ceiling. */
  benchRoutes?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    environmentId: string;
  }
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

/** A request body larger than this is refused with 413 before it is read to the end. */
export const BODY_LIMIT = 1024 * 1024;

function createAjv(coerceTypes: boolean) {
  // Bodies are validated as sent (no coercion, no silent removal); query strings are text and
  // are coerced to the declared types.
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addFormat('email', { type: 'string', validate: isDeliverableAddress });
  return ajv;
}

/** Builds the HTTP API. The request lifecycle: auth (onRequest) → JSON parse → validation → handler. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    // Per-request logs would cost more than the request itself on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const bodyAjv = createAjv(false);
  const queryAjv = createAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodyAjv.compile(schema) : queryAjv.compile(schema),
  );

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => sendProblem(reply, toProblem(error, request)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem('ROUTE_NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald API',
        version: deps.version,
        description: 'Durable notifications: workflows, subscribers, triggers and the delivery log.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });

  const authenticate = createApiKeyAuthenticator(deps.store);
  app.decorateRequest('environmentId', '');
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/') && request.url !== '/v1') return;
    request.environmentId = await authenticate(request.headers.authorization);
  });

  await app.register(healthRoutes(deps));
  await app.register(subscriberRoutes(deps), { prefix: '/v1' });
  await app.register(workflowRoutes(deps), { prefix: '/v1' });
  await app.register(triggerRoutes(deps), { prefix: '/v1' });
  await app.register(messageRoutes(deps), { prefix: '/v1' });
  await app.register(devMailRoutes(deps), { prefix: '/v1' });
  if (deps.benchRoutes) await app.register(benchRoutes(), { prefix: '/v1' });
  return app;
}
