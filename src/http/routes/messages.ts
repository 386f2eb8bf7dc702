import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import type { AppDeps } from '../deps.js';
import { MessageParams, MessagePage, MessageQuery, MessageWithAttempts } from '../schemas.js';

/** What `since` cannot be combined with: the log is every message of the environment, in commit order. */
const NOT_WITH_SINCE = ['cursor', 'triggerId', 'subscriberId', 'status', 'workflow', 'channel', 'test'] as const;

export const messageRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['delivery log'];

    app.get(
      '/messages',
      {
        schema: {
          tags,
          operationId: 'listMessages',
          summary: 'The delivery log: newest first by cursor, or followed in commit order by since',
          querystring: MessageQuery,
          response: { 200: MessagePage },
        },
      },
      async (request) => {
        const { limit = 50, since, ...filter } = request.query;
        const env = request.environmentId;
        if (since === undefined) return deps.store.listMessages(env, { ...filter, limit });
        const combined = NOT_WITH_SINCE.filter((name) => filter[name] !== undefined);
        if (combined.length > 0) {
          throw new HeraldError(
            'INVALID_REQUEST',
            `since cannot be combined with ${combined.join(', ')}: it follows every message of the environment in ` +
              'commit order; page with cursor to filter',
          );
        }
        if (since === 'now') return { items: [], nextSince: await deps.store.messageLogHead(env) };
        return deps.store.listMessagesSince(env, Number(since), limit);
      },
    );

    app.get(
      '/messages/:id',
      {
        schema: {
          tags,
          operationId: 'getMessage',
          summary: 'One message with every delivery attempt',
          params: MessageParams,
          response: { 200: MessageWithAttempts },
        },
      },
      async (request) => {
        const message = await deps.store.getMessage(request.environmentId, request.params.id);
        if (!message) throw new HeraldError('MESSAGE_NOT_FOUND', `No message ${JSON.stringify(request.params.id)}`);
        return message;
      },
    );
  };
