import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { saveWorkflow } from '../../core/save-workflow.js';
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
      async (request) => saveWorkflow(deps, request.environmentId, request.params.key, request.body),
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
