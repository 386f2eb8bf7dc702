import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { checkPartial, refusePartialInUse } from '../../core/template-assets.js';
import { currentWorkflows } from '../current-workflows.js';
import type { AppDeps } from '../deps.js';
import { Partial, PartialBody, PartialListQuery, PartialPage, PartialParams } from '../template-schemas.js';

export const partialRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['templates'];
    const notFound = (key: string) =>
      new HeraldError('PARTIAL_NOT_FOUND', `No partial with key ${JSON.stringify(key)}`);

    app.put(
      '/partials/:key',
      {
        schema: {
          tags,
          operationId: 'putPartial',
          summary: 'Create or replace a partial; checked on save',
          description:
            'The template must parse; the partials it renders must exist (422 UNKNOWN_PARTIALS) and none may ' +
            'render it back (422 PARTIAL_CYCLE). Templates use it from their next render (docs/templates.md).',
          params: PartialParams,
          body: PartialBody,
          response: { 200: Partial, 201: Partial },
        },
      },
      async (request, reply) => {
        const env = request.environmentId;
        const { key } = request.params;
        const { name, template } = request.body;
        checkPartial(key, template, await deps.store.getTemplateAssets(env));
        const { partial, created } = await deps.store.putPartial(
          env,
          key,
          { name: name ?? key, template },
          deps.clock.now(),
        );
        return reply.code(created ? 201 : 200).send(partial);
      },
    );

    app.get(
      '/partials/:key',
      {
        schema: {
          tags,
          operationId: 'getPartial',
          summary: 'Get a partial',
          params: PartialParams,
          response: { 200: Partial },
        },
      },
      async (request) => {
        const partial = await deps.store.getPartial(request.environmentId, request.params.key);
        if (!partial) throw notFound(request.params.key);
        return partial;
      },
    );

    app.get(
      '/partials',
      {
        schema: {
          tags,
          operationId: 'listPartials',
          summary: 'List partials, ordered by key',
          querystring: PartialListQuery,
          response: { 200: PartialPage },
        },
      },
      async (request) =>
        deps.store.listPartials(request.environmentId, request.query.limit ?? 50, request.query.cursor),
    );

    app.delete(
      '/partials/:key',
      {
        schema: {
          tags,
          operationId: 'deletePartial',
          summary: "Delete a partial that no partial, layout or workflow's current version renders",
          description: 'A partial in use is refused (409 TEMPLATE_IN_USE, naming who renders it).',
          params: PartialParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const env = request.environmentId;
        const { key } = request.params;
        if (!(await deps.store.getPartial(env, key))) throw notFound(key);
        refusePartialInUse(key, await deps.store.getTemplateAssets(env), await currentWorkflows(deps.store, env));
        if (!(await deps.store.deletePartial(env, key))) throw notFound(key);
        return reply.code(204).send(null);
      },
    );
  };
