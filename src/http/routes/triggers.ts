import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { triggerWorkflow } from '../../core/trigger-workflow.js';
import type { AppDeps } from '../deps.js';
import { TriggerBody, TriggerHeaders, TriggerResponse, WorkflowParams } from '../schemas.js';

export const triggerRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/workflows/:key/trigger',
      {
        schema: {
          tags: ['triggers'],
          operationId: 'triggerWorkflow',
          summary: 'Trigger a workflow for one or more recipients',
          description:
            'Answers 202 only after the trigger, its messages and their jobs are committed. With an ' +
            'Idempotency-Key, the same body within 24 h returns the first response and sends nothing new.',
          params: WorkflowParams,
          headers: TriggerHeaders,
          body: TriggerBody,
          response: { 202: TriggerResponse },
        },
      },
      async (request, reply) => {
        const outcome = await triggerWorkflow(deps.trigger, {
          environmentId: request.environmentId,
          workflowKey: request.params.key,
          to: request.body.to,
          data: request.body.data,
          idempotencyKey: request.headers['idempotency-key'],
        });
        if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
        else deps.metrics.triggerAccepted(outcome.result.messageIds.length);
        return reply.code(202).send(outcome.result);
      },
    );
  };
