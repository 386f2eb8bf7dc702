import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../../core/errors.js';
import { saveWorkflow, type WorkflowInput } from '../../core/save-workflow.js';
import type { NumberedWorkflowVersion } from '../../core/store.js';
import { fieldErrorsOf, type SchemaError } from '../../core/validation-errors.js';
import { resolveComponent } from '../components.js';
import type { AppDeps } from '../deps.js';
import { Workflow, WorkflowBody } from '../schemas.js';
import {
  WorkflowVersion,
  WorkflowVersionListParams,
  WorkflowVersionListQuery,
  WorkflowVersionPage,
  WorkflowVersionParams,
} from '../workflow-version-schemas.js';

/**
 * A workflow's version history. Versions are immutable and outlive their workflow (messages
 * already accepted render the version their trigger saw), so one can be read by number after the
 * workflow is deleted; the list and restore belong to the workflow, and answer 404 once it is gone.
 */
export const workflowVersionRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['workflows'];

    /** Whether the key ever had a workflow: its versions outlive it. */
    const hadWorkflow = async (environmentId: string, key: string) =>
      (await deps.store.listWorkflowVersions(environmentId, key, 1)).items.length > 0;
    const neverSaved = (key: string) =>
      new HeraldError('WORKFLOW_NOT_FOUND', `No workflow with key ${JSON.stringify(key)}`);
    /** The 404 for a key with no workflow now, saying so when it had one that was deleted. */
    const workflowNotFound = async (environmentId: string, key: string) =>
      (await hadWorkflow(environmentId, key))
        ? new HeraldError(
            'WORKFLOW_NOT_FOUND',
            `The workflow ${JSON.stringify(key)} was deleted; its versions stay readable one by one ` +
              `(GET /v1/workflows/${key}/versions/{n}), and a PUT saves it again`,
          )
        : neverSaved(key);
    const versionNotFound = (key: string, n: number) =>
      new HeraldError(
        'VERSION_NOT_FOUND',
        `The workflow ${JSON.stringify(key)} has no version ${n}; GET /v1/workflows/${key}/versions lists them`,
      );

    app.get(
      '/workflows/:key/versions',
      {
        schema: {
          tags,
          operationId: 'listWorkflowVersions',
          summary: "List a workflow's versions, newest first",
          params: WorkflowVersionListParams,
          querystring: WorkflowVersionListQuery,
          response: { 200: WorkflowVersionPage },
        },
      },
      async (request) => {
        const { environmentId } = request;
        const { key } = request.params;
        if (!(await deps.store.getWorkflow(environmentId, key))) throw await workflowNotFound(environmentId, key);
        return deps.store.listWorkflowVersions(environmentId, key, request.query.limit ?? 50, request.query.cursor);
      },
    );

    app.get(
      '/workflows/:key/versions/:n',
      {
        schema: {
          tags,
          operationId: 'getWorkflowVersion',
          summary: 'Get one version of a workflow, also after the workflow was deleted',
          params: WorkflowVersionParams,
          response: { 200: WorkflowVersion },
        },
      },
      async (request) => {
        const { environmentId } = request;
        const { key, n } = request.params;
        const version = await deps.store.getWorkflowVersionByNumber(environmentId, key, n);
        if (version) return version;
        throw (await hadWorkflow(environmentId, key)) ? versionNotFound(key, n) : neverSaved(key);
      },
    );

    app.post(
      '/workflows/:key/versions/:n/restore',
      {
        schema: {
          tags,
          operationId: 'restoreWorkflowVersion',
          summary:
            'Save a new version equal to version n; the checks of a save apply, earlier versions stay as they are',
          params: WorkflowVersionParams,
          response: { 200: Workflow },
        },
      },
      async (request) => {
        const { environmentId } = request;
        const { key, n } = request.params;
        if (!(await deps.store.getWorkflow(environmentId, key))) throw await workflowNotFound(environmentId, key);
        const version = await deps.store.getWorkflowVersionByNumber(environmentId, key, n);
        if (!version) throw versionNotFound(key, n);
        return saveWorkflow(deps, environmentId, key, asSavedBody(request, version));
      },
    );
  };

/**
 * What a PUT of this version would have sent, held to the PUT's body schema: the version passed
 * it when saved, but the schema may have grown stricter since.
 */
function asSavedBody(request: FastifyRequest, version: NumberedWorkflowVersion): WorkflowInput {
  const { name, category, critical, preferences, steps } = version;
  const body: WorkflowInput = {
    name,
    ...(category !== undefined && { category }),
    ...(critical !== undefined && { critical }),
    ...(preferences !== undefined && { preferences }),
    steps,
  };
  const validate = request.compileValidationSchema(WorkflowBody, 'body');
  if (!validate(body)) {
    const errors = fieldErrorsOf((validate.errors ?? []) as SchemaError[], { resolveRef: resolveComponent });
    throw new HeraldError(
      'VALIDATION_FAILED',
      `Version ${version.version} no longer passes the checks of a save: ` +
        errors.map((e) => `${e.path} ${e.message}`).join('; '),
      errors,
    );
  }
  return body;
}
