import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError, type FieldError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { checkSteps } from '../../core/run-engine.js';
import { checkStepAssets } from '../../core/template-assets.js';
import { compileSteps } from '../../core/templates.js';
import type { AppDeps } from '../deps.js';
import { WorkflowListQuery, pageOf, Workflow, WorkflowBody, WorkflowParams } from '../schemas.js';

export const workflowRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['workflows'];
    const notFound = (key: string) =>
      new HeraldError('WORKFLOW_NOT_FOUND', `No workflow with key ${JSON.stringify(key)}`);

    app.put(
      '/workflows/:key',
      {
        schema: {
          tags,
          operationId: 'putWorkflow',
          summary: 'Create or replace a workflow; templates are checked on save',
          params: WorkflowParams,
          body: WorkflowBody,
          response: { 200: Workflow },
        },
      },
      async (request) => {
        const { key } = request.params;
        const invalid = checkSteps(request.body.steps);
        if (invalid.length > 0) {
          throw new HeraldError('VALIDATION_FAILED', invalid.map((e) => `${e.path}: ${e.message}`).join('; '), invalid);
        }
        // A webhook URL without Liquid is known now: refuse it on save, as the send would (SSRF guard).
        const refusedUrls: FieldError[] = request.body.steps.flatMap((step, index) => {
          if (step.type !== 'webhook' || !step.url || /{{|{%/.test(step.url)) return [];
          const refusal = deps.refuseOutboundUrl(step.url);
          return refusal ? [{ path: `/steps/${index}/url`, message: `refused: ${refusal}` }] : [];
        });
        if (refusedUrls.length > 0) {
          throw new HeraldError(
            'VALIDATION_FAILED',
            refusedUrls.map((e) => `${e.path}: ${e.message}`).join('; '),
            refusedUrls,
          );
        }
        compileSteps(request.body.steps); // throws a 422 naming the step, field and line
        // The partials its templates render and the layouts its emails name must exist (422 naming them).
        checkStepAssets(request.body.steps, await deps.store.getTemplateAssets(request.environmentId));
        const { name, category, critical, preferences, steps } = request.body;
        return deps.store.putWorkflow(
          request.environmentId,
          { key, name: name ?? key, category, critical, preferences, steps, versionId: newId('wfv') },
          deps.clock.now(),
        );
      },
    );

    app.get(
      '/workflows/:key',
      {
        schema: {
          tags,
          operationId: 'getWorkflow',
          summary: 'Get a workflow',
          params: WorkflowParams,
          response: { 200: Workflow },
        },
      },
      async (request) => {
        const workflow = await deps.store.getWorkflow(request.environmentId, request.params.key);
        if (!workflow) throw notFound(request.params.key);
        return workflow;
      },
    );

    app.get(
      '/workflows',
      {
        schema: {
          tags,
          operationId: 'listWorkflows',
          summary: 'List workflows, ordered by key',
          querystring: WorkflowListQuery,
          response: { 200: pageOf(Workflow) },
        },
      },
      async (request) =>
        deps.store.listWorkflows(request.environmentId, request.query.limit ?? 50, request.query.cursor),
    );

    app.delete(
      '/workflows/:key',
      {
        schema: {
          tags,
          operationId: 'deleteWorkflow',
          summary: 'Delete a workflow; messages already accepted are still delivered',
          params: WorkflowParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        if (!(await deps.store.deleteWorkflow(request.environmentId, request.params.key))) {
          throw notFound(request.params.key);
        }
        return reply.code(204).send(null);
      },
    );
  };
