import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Problem, TriggerBody, TriggerHeaders, TriggerResponse, WorkflowParams } from '../schemas.js';

/**
 * The ingest ceiling for `npm run bench`: the trigger route's auth, JSON parsing and validation,
 * answered 202 without touching the database. Registered only with --bench-routes.
 */
export const benchRoutes = (): FastifyPluginAsyncTypebox => async (app) => {
  app.post(
    '/bench/noop-trigger/:key',
    {
      schema: {
        hide: true,
        params: WorkflowParams,
        headers: TriggerHeaders,
        body: TriggerBody,
        response: { 202: TriggerResponse, '4xx': Problem },
      },
    },
    async (_request, reply) => reply.code(202).send({ triggerId: 'trg_noop', messageIds: ['msg_noop'] }),
  );
};
