import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createApiKey } from '../../core/api-keys.js';
import { HeraldError } from '../../core/errors.js';
import type { ApiKey as StoredApiKey } from '../../core/store.js';
import { ApiKey, ApiKeyBody, ApiKeyParams, CreatedApiKey } from '../api-key-schemas.js';
import type { AppDeps } from '../deps.js';
import type { ApiKeyAuthenticator } from '../auth.js';

/** The environment's API keys: list, create (the key shown once), revoke. */
export const apiKeyRoutes =
  (deps: AppDeps & { authenticator: ApiKeyAuthenticator }): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['api-keys'];
    const view = (key: StoredApiKey) => ({
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      createdAt: key.createdAt,
      lastUsedAt: key.lastUsedAt,
    });

    app.get(
      '/api-keys',
      {
        schema: {
          tags,
          operationId: 'listApiKeys',
          summary: "The environment's API keys, oldest first (never the keys themselves)",
          response: { 200: Type.Object({ items: Type.Array(ApiKey) }) },
        },
      },
      async (request) => ({ items: (await deps.store.listApiKeys(request.environmentId)).map(view) }),
    );

    app.post(
      '/api-keys',
      {
        schema: {
          tags,
          operationId: 'createApiKey',
          summary: 'Create an API key; the key is in this answer only',
          body: ApiKeyBody,
          response: { 201: CreatedApiKey },
        },
      },
      async (request, reply) => {
        const { key, secret } = await createApiKey(deps.store, {
          environmentId: request.environmentId,
          name: request.body.name,
          now: deps.clock.now(),
        });
        return reply.code(201).send({ ...view(key), key: secret });
      },
    );

    app.delete(
      '/api-keys/:id',
      {
        schema: {
          tags,
          operationId: 'revokeApiKey',
          summary: 'Revoke an API key at once (the key making the call included); never the last one',
          params: ApiKeyParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const outcome = await deps.store.revokeApiKey(request.environmentId, id, deps.clock.now());
        if (outcome === 'not_found') throw new HeraldError('API_KEY_NOT_FOUND', `No API key ${JSON.stringify(id)}`);
        if (outcome === 'last_key') {
          throw new HeraldError(
            'LAST_API_KEY',
            "This is the environment's last API key: create another first (POST /v1/api-keys or `herald keys create`), then revoke this one",
          );
        }
        deps.authenticator.forget(id);
        return reply.code(204).send(null);
      },
    );
  };
