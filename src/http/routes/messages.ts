import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import { MAX_REDRIVE, redriveFailedMessages, retryMessage } from '../../core/redrive-messages.js';
import type { AppDeps } from '../deps.js';
import { RedriveInput, RedriveResult } from '../message-schemas.js';
import { MessageParams, MessagePage, MessageQuery, MessageWithAttempts } from '../schemas.js';

/** What `since` cannot be combined with: the log is every message of the environment, in commit order. */
const NOT_WITH_SINCE = [
  'cursor',
  'triggerId',
  'subscriberId',
  'status',
  'workflow',
  'channel',
  'test',
  'from',
  'until',
] as const;

/** An ISO time from a validated `date-time` field, in ms; undefined when absent. */
const time = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

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
        if (since === undefined) {
          const { from, until, ...rest } = filter;
          return deps.store.listMessages(env, { ...rest, createdFrom: time(from), createdBefore: time(until), limit });
        }
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

    app.post(
      '/messages/:id/retry',
      {
        schema: {
          tags,
          operationId: 'retryMessage',
          summary: 'Retry a failed message: the same message, queued again with a job due now',
          description:
            'The message keeps its id, trigger and run and its attempts; its step is rendered again from its ' +
            'workflow version when the job runs, and its retry schedule starts over. Only a failed message ' +
            '(MESSAGE_NOT_RETRYABLE otherwise). Later steps of its run are not looked at again.',
          params: MessageParams,
          response: { 202: MessageWithAttempts },
        },
      },
      async (request, reply) => {
        const message = await retryMessage(deps, request.environmentId, request.params.id);
        return reply.code(202).send(message);
      },
    );

    app.post(
      '/messages/redrive',
      {
        schema: {
          tags,
          operationId: 'redriveMessages',
          summary: 'Re-drive every failed message matching a filter, as a retry of each',
          description:
            `Re-queues up to \`limit\` (at most ${MAX_REDRIVE}) failed messages matching every filter given, ` +
            'oldest first, in batches of one transaction each; `more` says whether others still match. A message ' +
            're-queued is no longer failed, so re-driving again never queues it twice.',
          body: RedriveInput,
          response: { 200: RedriveResult },
        },
      },
      async (request) => {
        const { status: _failed, since, until, limit = MAX_REDRIVE, ...filter } = request.body;
        return redriveFailedMessages(
          deps,
          request.environmentId,
          { ...filter, createdFrom: time(since), createdBefore: time(until) },
          limit,
        );
      },
    );
  };
