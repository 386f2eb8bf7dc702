import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { emailSearchKey, readEmailCursor, type SubscriberSearch } from '../../core/subscriber-search.js';
import type { AppDeps } from '../deps.js';
import { InboxItem, InboxItemsQuery } from '../inbox-schemas.js';
import {
  pageOf,
  Subscriber,
  SubscriberBody,
  SubscriberListItem,
  SubscriberListQuery,
  SubscriberParams,
} from '../schemas.js';

export const subscriberRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['subscribers'];
    const notFound = (id: string) => new HeraldError('SUBSCRIBER_NOT_FOUND', `No subscriber ${JSON.stringify(id)}`);

    app.put(
      '/subscribers/:subscriberId',
      {
        schema: {
          tags,
          operationId: 'putSubscriber',
          summary: 'Create or replace a subscriber',
          params: SubscriberParams,
          body: SubscriberBody,
          response: { 200: Subscriber },
        },
      },
      async (request) => {
        // Outbound URLs are refused when saved, not only when a send tries them (SSRF guard).
        const { webhookUrl, chat, push } = request.body;
        const urls: [string, string | undefined][] = [
          ['/webhookUrl', webhookUrl ?? undefined],
          ...Object.entries(chat ?? {})
            .filter(([, value]) => /^https?:/i.test(value ?? ''))
            .map(([key, value]): [string, string] => [`/chat/${key}`, value!]),
          ...(push?.webPush ?? []).map((subscription, i): [string, string] => [
            `/push/webPush/${i}/endpoint`,
            subscription.endpoint,
          ]),
        ];
        const errors = urls.flatMap(([path, url]) => {
          const refusal = url === undefined ? undefined : deps.refuseOutboundUrl(url);
          return refusal ? [{ path, message: `refused: ${refusal}` }] : [];
        });
        if (errors.length > 0) {
          throw new HeraldError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
        }
        const subscriber = await deps.store.putSubscriber(
          request.environmentId,
          request.params.subscriberId,
          request.body,
          deps.clock.now(),
        );
        return {
          ...subscriber,
          topics: await deps.store.listSubscriberTopics(request.environmentId, subscriber.subscriberId),
        };
      },
    );

    app.get(
      '/subscribers',
      {
        schema: {
          tags,
          operationId: 'listSubscribers',
          summary: 'List subscribers by id, or find them by id prefix or by email prefix',
          description:
            'Ordered by subscriberId (byte order); with `email`, by email (ASCII letters in lower case), then ' +
            'subscriberId. `prefix` and `email` cannot be combined. Each page walks an index.',
          querystring: SubscriberListQuery,
          response: { 200: pageOf(SubscriberListItem) },
        },
      },
      async (request) => {
        const { prefix, email, limit = 50, cursor } = request.query;
        if (prefix !== undefined && email !== undefined) {
          throw new HeraldError('INVALID_REQUEST', 'prefix and email cannot be combined: search by one of them');
        }
        const search: SubscriberSearch =
          email === undefined
            ? {
                limit,
                by: 'id',
                prefix: prefix ?? '',
                ...(cursor !== undefined && { after: { key: cursor, id: cursor } }),
              }
            : { limit, by: 'email', prefix: emailSearchKey(email) };
        if (email !== undefined && cursor !== undefined) {
          const after = readEmailCursor(cursor);
          if (!after) {
            throw new HeraldError(
              'INVALID_REQUEST',
              'cursor: not the nextCursor of an earlier page found by email; leave it out to start from the first page',
            );
          }
          search.after = after;
        }
        return deps.store.listSubscribers(request.environmentId, search);
      },
    );

    app.get(
      '/subscribers/:subscriberId',
      {
        schema: {
          tags,
          operationId: 'getSubscriber',
          summary: 'Get a subscriber',
          params: SubscriberParams,
          response: { 200: Subscriber },
        },
      },
      async (request) => {
        const { environmentId } = request;
        const [subscriber, topics] = await Promise.all([
          deps.store.getSubscriber(environmentId, request.params.subscriberId),
          deps.store.listSubscriberTopics(environmentId, request.params.subscriberId),
        ]);
        if (!subscriber) throw notFound(request.params.subscriberId);
        return { ...subscriber, topics };
      },
    );

    app.get(
      '/subscribers/:subscriberId/inbox',
      {
        schema: {
          tags,
          operationId: 'listSubscriberInbox',
          summary: "A subscriber's inbox items, newest first, as the subscriber sees them (for operators)",
          description:
            'The same items GET /v1/inbox/items answers the subscriber, read with an API key or a dashboard session. ' +
            'Reading them changes nothing (not seen, not read). Viewers get them without their content.',
          params: SubscriberParams,
          querystring: InboxItemsQuery,
          response: { 200: pageOf(InboxItem) },
        },
      },
      async (request) => {
        const { environmentId } = request;
        const { subscriberId } = request.params;
        const { status, limit, cursor } = request.query;
        const [subscriber, page] = await Promise.all([
          deps.store.getSubscriber(environmentId, subscriberId),
          deps.store.listInboxItems(environmentId, subscriberId, {
            status: status ?? 'all',
            limit: limit ?? 20,
            cursor,
          }),
        ]);
        if (!subscriber) throw notFound(subscriberId);
        return page;
      },
    );

    app.delete(
      '/subscribers/:subscriberId',
      {
        schema: {
          tags,
          operationId: 'deleteSubscriber',
          summary:
            'Delete a subscriber and their topic memberships, and erase their personal data from the delivery log',
          params: SubscriberParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const found = await deps.store.deleteSubscriber(request.environmentId, request.params.subscriberId);
        if (!found) throw notFound(request.params.subscriberId);
        return reply.code(204).send(null);
      },
    );
  };
