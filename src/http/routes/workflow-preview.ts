import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import { previewRecipient } from '../../core/preview-recipient.js';
import { previewWorkflow } from '../../core/preview-workflow.js';
import { compileSteps } from '../../core/templates.js';
import { testWorkflow } from '../../core/test-send.js';
import { checkWorkflowSteps } from '../../core/workflow-checks.js';
import type { AppDeps } from '../deps.js';
import { DraftPreviewBody, PreviewBody, TestSendBody, WorkflowPreview } from '../preview-schemas.js';
import { WorkflowParams } from '../schemas.js';
import { TriggerResponse } from '../trigger-schemas.js';

/** The key a draft without one is previewed under. */
const DRAFT_KEY = 'draft';

export const workflowPreviewRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['workflows'];
    const PREVIEW_DESCRIPTION =
      'Nothing is written and nothing is sent. Each step says whether it would run and why not (the reason its ' +
      'message would record), where it would go, what it renders to, and warnings (variables its outputs name that ' +
      'are not set, quiet hours, a closed send window). Conditions reading steps.<ref>.status assume the earlier steps ' +
      'that would run were sent; delays, digests and throttles are described, not waited for; steps after a digest ' +
      'see {count: 1, events: [data]}. A template that fails or runs past the render limit is reported in its step.';

    app.post(
      '/workflows/:key/preview',
      {
        schema: {
          tags,
          operationId: 'previewWorkflow',
          summary: 'What each step of the current version would do for one subscriber and this data, now',
          description: PREVIEW_DESCRIPTION,
          params: WorkflowParams,
          body: PreviewBody,
          response: { 200: WorkflowPreview },
        },
      },
      async (request) => {
        const { key } = request.params;
        const workflow = await deps.store.getWorkflow(request.environmentId, key);
        if (!workflow) throw new HeraldError('WORKFLOW_NOT_FOUND', `No workflow with key ${JSON.stringify(key)}`);
        const { to, subscriber, data, locale } = request.body;
        const now = deps.clock.now();
        return previewWorkflow(deps.preview, {
          environmentId: request.environmentId,
          workflow,
          compiled: compileSteps(workflow.steps),
          subscriber: await previewRecipient(deps.store, request.environmentId, { to, subscriber }, now),
          data: data ?? {},
          locale,
          assets: await deps.store.getTemplateAssets(request.environmentId),
        });
      },
    );

    app.post(
      '/workflows/preview',
      {
        schema: {
          tags,
          operationId: 'previewDraftWorkflow',
          summary: 'Preview a workflow that is not saved: checked as a save checks it, then previewed',
          description:
            `${PREVIEW_DESCRIPTION} A draft that a save would refuse is answered with the same 422, its paths ` +
            'under /workflow.',
          body: DraftPreviewBody,
          response: { 200: WorkflowPreview },
        },
      },
      async (request) => {
        const { workflow: draft, to, subscriber, data, locale } = request.body;
        const assets = await deps.store.getTemplateAssets(request.environmentId);
        const compiled = checkWorkflowSteps(draft.steps, deps.refuseOutboundUrl, assets, '/workflow');
        const key = draft.key ?? DRAFT_KEY;
        const { name, category, critical, preferences, steps } = draft;
        // Named by its steps: previews of the same draft share what the render thread compiled.
        const versionId = `draft_${createHash('sha256').update(JSON.stringify(steps)).digest('base64url')}`;
        const now = deps.clock.now();
        return previewWorkflow(deps.preview, {
          environmentId: request.environmentId,
          workflow: {
            key,
            name: name ?? key,
            version: null,
            versionId,
            steps,
            ...(category !== undefined && { category }),
            ...(critical !== undefined && { critical }),
            ...(preferences !== undefined && { preferences }),
          },
          compiled,
          subscriber: await previewRecipient(deps.store, request.environmentId, { to, subscriber }, now),
          data: data ?? {},
          locale,
          assets,
        });
      },
    );

    app.post(
      '/workflows/:key/test',
      {
        schema: {
          tags,
          operationId: 'testWorkflow',
          summary: 'Send each sending step of the current version once to one recipient, now, marked as a test',
          description:
            'Answers 202 after the trigger, its run, messages and jobs are committed, as a trigger does; the messages ' +
            'are delivered, retried and logged like any other, marked test: true (GET /v1/messages?test=true). Every ' +
            'sending step goes out at once: delays, digests, throttles, conditions and send windows are passed over ' +
            '(steps after a digest see {count: 1, events: [data]}), and the sends are made as if the workflow were ' +
            'critical: preferences and quiet hours do not hold them.',
          params: WorkflowParams,
          body: TestSendBody,
          response: { 202: TriggerResponse },
        },
      },
      async (request, reply) => {
        const { result, messages } = await testWorkflow(deps.trigger, {
          environmentId: request.environmentId,
          workflowKey: request.params.key,
          to: request.body.to,
          data: request.body.data,
        });
        deps.metrics.triggerAccepted(messages);
        return reply.code(202).send(result);
      },
    );
  };
