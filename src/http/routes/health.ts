import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../deps.js';
import { problem, sendProblem } from '../problem.js';

/** Probes and machine-readable descriptions; none of these need an API key. */
export const healthRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['operations'];
    const security: { [scheme: string]: string[] }[] = [];

    app.get(
      '/healthz',
      {
        schema: {
          operationId: 'getHealth',
          tags,
          security,
          summary: 'Liveness: the process answers',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          operationId: 'getReadiness',
          tags,
          security,
          summary: 'Readiness: the database is reachable and migrated (503 otherwise)',
          response: { 200: Type.Object({ status: Type.Literal('ready') }) },
        },
      },
      async (request, reply) => {
        try {
          await deps.store.ping();
          return { status: 'ready' as const };
        } catch (error) {
          request.log.warn({ err: error }, 'readiness check failed');
          return sendProblem(reply, problem('SERVICE_UNAVAILABLE', 'The database is not reachable or not migrated'));
        }
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          operationId: 'getMetrics',
          tags,
          security,
          summary: 'Prometheus metrics',
          response: {
            200: {
              description: 'The Prometheus text exposition format',
              content: { 'text/plain': { schema: Type.String() } },
            },
          },
        },
      },
      async (_request, reply) => {
        const body = await deps.metrics.registry.metrics();
        return reply.type(deps.metrics.registry.contentType).send(body);
      },
    );

    app.get(
      '/openapi.json',
      {
        schema: {
          operationId: 'getOpenApiDocument',
          tags,
          security,
          summary: 'This document: OpenAPI 3.1, generated from the route schemas',
          response: {
            200: Type.Object({}, { additionalProperties: true, description: 'An OpenAPI 3.1 document' }),
          },
        },
      },
      async () => app.swagger(),
    );
  };
