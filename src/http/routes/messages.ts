import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import type { AppDeps } from '../app.js';
import { Message, MessageParams, MessageQuery, MessageWithAttempts, pageOf } from '../schemas.js';

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
          summary: 'The delivery log, newest first',
          querystring: MessageQuery,
          response: { 200: pageOf(Message) },
        },
      },
      async (request) => {
        const { limit, ...filter } = request.query;
        return deps.store.listMessages(request.environmentId, { ...filter, limit: limit ?? 50 });
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
