import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../app.js';
import { problem, sendProblem } from '../problem.js';

/** Probes and machine-readable descriptions; none of these need an API key. */
export const healthRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const hidden = { schema: { hide: true } };

    app.get('/healthz', hidden, async () => ({ status: 'ok' }));

    app.get('/readyz', hidden, async (request, reply) => {
      try {
        await deps.store.ping();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        return sendProblem(reply, problem('SERVICE_UNAVAILABLE', 'The database is not reachable or not migrated'));
      }
    });

    app.get('/metrics', hidden, async (_request, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    });

    app.get('/openapi.json', hidden, async () => app.swagger());
  };
