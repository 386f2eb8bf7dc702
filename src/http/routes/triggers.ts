import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import { stepRef } from '../../core/run-engine.js';
import { triggerWorkflow } from '../../core/trigger-workflow.js';
import type { AppDeps } from '../deps.js';
import {
  CancelBody,
  CancelResult,
  TriggerBody,
  TriggerDetail,
  TriggerHeaders,
  TriggerParams,
  TriggerQuery,
  TriggerResponse,
} from '../trigger-schemas.js';
import { WorkflowParams } from '../schemas.js';

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
            'Answers 202 only after the trigger, its runs, messages and jobs are committed: one run per recipient, ' +
            'one message per recipient and sending step. When `to` names topics, the answer comes once the trigger ' +
            "and its fan-out are committed, and the members' runs are started after it, page by page (each " +
            'subscriber once, the actor left out). With an Idempotency-Key, the same body within 24 h returns the ' +
            'first response and sends nothing new.',
          params: WorkflowParams,
          headers: TriggerHeaders,
          body: TriggerBody,
          response: { 202: TriggerResponse },
        },
      },
      async (request, reply) => {
        const { to, actor, data, sendAt, cancellationKey } = request.body;
        const outcome = await triggerWorkflow(deps.trigger, {
          environmentId: request.environmentId,
          workflowKey: request.params.key,
          to,
          actor,
          data,
          sendAt: sendAt === undefined ? undefined : Date.parse(sendAt),
          cancellationKey,
          idempotencyKey: request.headers['idempotency-key'],
        });
        if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
        else deps.metrics.triggerAccepted(outcome.messages);
        return reply.code(202).send(outcome.result);
      },
    );

    app.get(
      '/triggers/:triggerId',
      {
        schema: {
          tags: ['triggers'],
          operationId: 'getTrigger',
          summary: "A trigger, its data, and each recipient's run with its messages",
          params: TriggerParams,
          querystring: TriggerQuery,
          response: { 200: TriggerDetail },
        },
      },
      async (request) => {
        const { triggerId } = request.params;
        const found = await deps.store.getTrigger(request.environmentId, triggerId, {
          limit: request.query.limit ?? 100,
          cursor: request.query.cursor,
        });
        if (!found) throw new HeraldError('TRIGGER_NOT_FOUND', `No trigger ${JSON.stringify(triggerId)}`);
        const [version] = await deps.store.getWorkflowVersions([found.workflowVersionId]);
        const { runs, ...trigger } = found;
        return {
          ...trigger,
          runs: runs.items.map((run) => {
            const step = version?.steps[run.stepIndex];
            return { ...run, step: step ? stepRef(step, run.stepIndex) : null };
          }),
          nextCursor: runs.nextCursor,
        };
      },
    );

    app.post(
      '/triggers/cancel',
      {
        schema: {
          tags: ['triggers'],
          operationId: 'cancelRuns',
          summary: 'Cancel every pending part of the runs of triggers with this cancellationKey',
          description:
            'Runs still moving (scheduled, in a delay, in a digest, waiting for a condition) end canceled, and ' +
            'messages not yet sent (pending, queued, waiting for a retry) become canceled. A send under way ' +
            'finishes. Answers how many runs and messages were canceled; 0 and 0 when nothing matched.',
          body: CancelBody,
          response: { 200: CancelResult },
        },
      },
      async (request) => {
        const { runs, messages, byChannel } = await deps.store.cancelRuns(
          request.environmentId,
          request.body.cancellationKey,
          request.body.workflow,
          deps.clock.now(),
        );
        for (const [channel, count] of Object.entries(byChannel))
          deps.metrics.messageStatus(channel, 'canceled', count);
        return { runs, messages };
      },
    );
  };
