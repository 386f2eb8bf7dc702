import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import type { InboxAccess } from '../inbox-access.js';
import type { InboxStreams } from '../inbox-stream.js';
import {
  InboxAllChanged,
  InboxCounts,
  InboxItem,
  InboxItemChanged,
  InboxItemParams,
  InboxItemsQuery,
  InboxStreamQuery,
} from '../inbox-schemas.js';
import type { AppDeps } from '../deps.js';
import { pageOf } from '../schemas.js';

/**
 * Retry-After of a stream refused because the process holds its most: pages leave all the time, and
 * the element backs off on its own as well.
 */
const STREAMS_FULL_RETRY_AFTER_S = 30;

export interface InboxRouteDeps extends AppDeps {
  inboxAccess: InboxAccess;
  inboxStreams: InboxStreams;
}

/**
 * The browser-facing inbox: a subscriber's feed, counts, state changes and live stream. These
 * routes take subscriber credentials instead of an API key, and answer CORS for allowed origins.
 */
export const inboxRoutes =
  (deps: InboxRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['inbox (browser)'];
    const config = { auth: 'subscriber', cors: true } as const;
    const security: { [scheme: string]: string[] }[] = [{ subscriberHash: [] }, { inboxToken: [] }];

    // Preflight: browsers ask before sending the credential headers cross-origin. Not an operation
    // of the API (OpenAPI cannot name a wildcard path): the browser's CORS machinery calls it.
    app.options('/inbox/*', { config: { auth: 'none', cors: true }, schema: { hide: true } }, async (_request, reply) =>
      reply.code(204).send(),
    );

    app.get(
      '/inbox/items',
      {
        config,
        schema: {
          tags,
          security,
          operationId: 'listInboxItems',
          summary: "The subscriber's items, newest first",
          querystring: InboxItemsQuery,
          response: { 200: pageOf(InboxItem) },
        },
      },
      async (request) => {
        const { status, limit, cursor } = request.query;
        return deps.store.listInboxItems(request.environmentId, request.subscriberId, {
          status: status ?? 'all',
          limit: limit ?? 20,
          cursor,
        });
      },
    );

    app.get(
      '/inbox/counts',
      {
        config,
        schema: {
          tags,
          security,
          operationId: 'getInboxCounts',
          summary: 'Items not archived, unread and unseen',
          response: { 200: InboxCounts },
        },
      },
      async (request) => (await deps.store.getInboxCounts(request.environmentId, request.subscriberId)).counts,
    );

    app.post(
      '/inbox/items/:id/:action',
      {
        config,
        schema: {
          tags,
          security,
          operationId: 'changeInboxItem',
          summary: 'Mark an item read, unread or seen, or archive or unarchive it',
          params: InboxItemParams,
          response: { 200: InboxItemChanged },
        },
      },
      async (request) => {
        const { id, action } = request.params;
        const changed = await deps.store.changeInboxItem(
          request.environmentId,
          request.subscriberId,
          id,
          action,
          deps.clock.now(),
        );
        // Another subscriber's item is as unknown as one that does not exist.
        if (!changed) throw new HeraldError('INBOX_ITEM_NOT_FOUND', `No inbox item ${JSON.stringify(id)}`);
        return { item: changed.item, counts: changed.counts };
      },
    );

    for (const action of ['read', 'seen'] as const) {
      app.post(
        `/inbox/${action}-all`,
        {
          config,
          schema: {
            operationId: action === 'read' ? 'markAllInboxItemsRead' : 'markAllInboxItemsSeen',
            tags,
            security,
            summary: `Mark every item not archived ${action}`,
            response: { 200: InboxAllChanged },
          },
        },
        async (request) => {
          const { changed, counts } = await deps.store.changeAllInboxItems(
            request.environmentId,
            request.subscriberId,
            action,
            deps.clock.now(),
          );
          return { changed, counts };
        },
      );
    }

    app.get(
      '/inbox/stream',
      {
        config: { ...config, credentialsInQuery: true },
        schema: {
          tags,
          security,
          operationId: 'streamInbox',
          summary: 'Server-Sent Events: item.created, item.updated, items.read, items.seen, counts, reset',
          description:
            "Event ids are the subscriber's event sequence; send the last one as Last-Event-ID to resume. EventSource cannot set headers, so credentials may come as query parameters.",
          querystring: InboxStreamQuery,
          response: {
            200: {
              description: 'The event stream; it ends when the credentials do, or when Herald stops',
              content: { 'text/event-stream': { schema: Type.String() } },
            },
          },
        },
      },
      async (request, reply) => {
        const header = request.headers['last-event-id'];
        const lastEventId = typeof header === 'string' && /^\d{1,15}$/.test(header.trim()) ? Number(header) : undefined;
        const subscriber = request.inboxSubscriber!;
        if (!deps.inboxStreams.hasRoomFor(subscriber)) {
          reply.header('retry-after', String(STREAMS_FULL_RETRY_AFTER_S));
          throw new HeraldError(
            'SERVICE_UNAVAILABLE',
            'This Herald process holds as many inbox streams as it may (--inbox-max-streams); retry later or on another instance',
          );
        }
        reply.hijack();
        // Headers set so far (CORS) are not sent by a hijacked reply: pass them on.
        reply.raw.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no', // nginx: do not buffer the stream
          connection: 'keep-alive',
        });
        request.raw.socket.setNoDelay(true);
        reply.raw.write('retry: 2000\n\n');
        deps.inboxStreams.open(reply.raw, subscriber, lastEventId);
      },
    );
  };
