import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { checkLayout, refuseLayoutInUse } from '../../core/template-assets.js';
import { currentWorkflows } from '../current-workflows.js';
import type { AppDeps } from '../deps.js';
import { Layout, LayoutBody, LayoutListQuery, LayoutPage, LayoutParams } from '../template-schemas.js';

export const layoutRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['templates'];
    const notFound = (key: string) => new HeraldError('LAYOUT_NOT_FOUND', `No layout with key ${JSON.stringify(key)}`);

    app.put(
      '/layouts/:key',
      {
        schema: {
          tags,
          operationId: 'putLayout',
          summary: 'Create or replace a layout; checked on save',
          description:
            'The HTML (and text, if given) must hold the {{ content }} slot once; templates must parse, and the ' +
            'partials they render must exist. Emails use it from their next render (docs/templates.md).',
          params: LayoutParams,
          body: LayoutBody,
          response: { 200: Layout, 201: Layout },
        },
      },
      async (request, reply) => {
        const env = request.environmentId;
        const { key } = request.params;
        const { name, html, text, variables, default: isDefault } = request.body;
        const input = {
          name: name ?? key,
          html,
          text: text ?? null,
          variables: variables ?? {},
          ...(isDefault !== undefined && { default: isDefault }),
        };
        checkLayout(input, await deps.store.getTemplateAssets(env));
        const { layout, created } = await deps.store.putLayout(env, key, input, deps.clock.now());
        return reply.code(created ? 201 : 200).send(layout);
      },
    );

    app.get(
      '/layouts/:key',
      {
        schema: {
          tags,
          operationId: 'getLayout',
          summary: 'Get a layout',
          params: LayoutParams,
          response: { 200: Layout },
        },
      },
      async (request) => {
        const layout = await deps.store.getLayout(request.environmentId, request.params.key);
        if (!layout) throw notFound(request.params.key);
        return layout;
      },
    );

    app.get(
      '/layouts',
      {
        schema: {
          tags,
          operationId: 'listLayouts',
          summary: 'List layouts, ordered by key',
          querystring: LayoutListQuery,
          response: { 200: LayoutPage },
        },
      },
      async (request) => deps.store.listLayouts(request.environmentId, request.query.limit ?? 50, request.query.cursor),
    );

    app.delete(
      '/layouts/:key',
      {
        schema: {
          tags,
          operationId: 'deleteLayout',
          summary: "Delete a layout that no workflow's current version names",
          description: 'A layout a workflow names is refused (409 TEMPLATE_IN_USE, naming the workflows).',
          params: LayoutParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const env = request.environmentId;
        const { key } = request.params;
        if (!(await deps.store.getLayout(env, key))) throw notFound(key);
        refuseLayoutInUse(key, await currentWorkflows(deps.store, env));
        if (!(await deps.store.deleteLayout(env, key))) throw notFound(key);
        return reply.code(204).send(null);
      },
    );
  };
