import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowParams } from '../schemas.js';
import { TriggerBody, TriggerHeaders, TriggerResponse } from '../trigger-schemas.js';

/**
 * The ingest ceiling for `npm run bench`: the trigger route's auth, JSON parsing and validation,
 * answered 202 without touching the database. Registered (and documented) only with --bench-routes.
 */
export const benchRoutes = (): FastifyPluginAsyncTypebox => async (app) => {
  app.post(
    '/bench/noop-trigger/:key',
    {
      schema: {
        operationId: 'benchNoopTrigger',
        tags: ['bench'],
        summary: 'The trigger route without the database: the ingest ceiling benchmarks compare against',
        params: WorkflowParams,
        headers: TriggerHeaders,
        body: TriggerBody,
        response: { 202: TriggerResponse },
      },
    },
    async (_request, reply) => reply.code(202).send({ triggerId: 'trg_noop', messageIds: ['msg_noop'] }),
  );
};
