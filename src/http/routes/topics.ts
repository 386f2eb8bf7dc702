import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import type { AppDeps } from '../deps.js';
import {
  Topic,
  TopicBody,
  TopicDetail,
  TopicListQuery,
  TopicMemberPage,
  TopicMemberQuery,
  TopicPage,
  TopicParams,
  TopicSubscribersAdded,
  TopicSubscribersBody,
  TopicSubscribersRemoved,
} from '../topic-schemas.js';

export const topicRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['topics'];
    const notFound = (key: string) => new HeraldError('TOPIC_NOT_FOUND', `No topic with key ${JSON.stringify(key)}`);

    app.put(
      '/topics/:key',
      {
        schema: {
          tags,
          operationId: 'putTopic',
          summary: 'Create a topic, or rename it',
          params: TopicParams,
          body: TopicBody,
          response: { 200: Topic, 201: Topic },
        },
        // The body is optional: no body keeps the name (or names a new topic by its key).
        config: { optionalBody: true },
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request, reply) => {
        const { topic, created } = await deps.store.putTopic(
          request.environmentId,
          request.params.key,
          request.body.name,
          deps.clock.now(),
        );
        return reply.code(created ? 201 : 200).send(topic);
      },
    );

    app.get(
      '/topics/:key',
      {
        schema: {
          tags,
          operationId: 'getTopic',
          summary: 'Get a topic with its number of subscribers',
          params: TopicParams,
          response: { 200: TopicDetail },
        },
      },
      async (request) => {
        const topic = await deps.store.getTopic(request.environmentId, request.params.key);
        if (!topic) throw notFound(request.params.key);
        return topic;
      },
    );

    app.get(
      '/topics',
      {
        schema: {
          tags,
          operationId: 'listTopics',
          summary: 'List topics, ordered by key',
          querystring: TopicListQuery,
          response: { 200: TopicPage },
        },
      },
      async (request) => deps.store.listTopics(request.environmentId, request.query.limit ?? 50, request.query.cursor),
    );

    app.delete(
      '/topics/:key',
      {
        schema: {
          tags,
          operationId: 'deleteTopic',
          summary: 'Delete a topic and its memberships; a fan-out to it still running reaches no one more',
          params: TopicParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        if (!(await deps.store.deleteTopic(request.environmentId, request.params.key))) {
          throw notFound(request.params.key);
        }
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/topics/:key/subscribers',
      {
        schema: {
          tags,
          operationId: 'addTopicSubscribers',
          summary: 'Add subscribers to a topic, creating the topic if it does not exist',
          description:
            'Idempotent: a member added again stays a member. Every id must name an existing subscriber: if any ' +
            'does not, the call is refused (422 UNKNOWN_SUBSCRIBERS, naming them) and nothing is added.',
          params: TopicParams,
          body: TopicSubscribersBody,
          response: { 200: TopicSubscribersAdded },
        },
      },
      async (request) => {
        const { added, created } = await deps.store.addTopicSubscribers(
          request.environmentId,
          request.params.key,
          request.body.subscriberIds,
          deps.clock.now(),
        );
        return { added, topicCreated: created };
      },
    );

    app.delete(
      '/topics/:key/subscribers',
      {
        schema: {
          tags,
          operationId: 'removeTopicSubscribers',
          summary: 'Remove subscribers from a topic',
          description: 'Idempotent: ids that are not members (or name no subscriber) are fine.',
          params: TopicParams,
          body: TopicSubscribersBody,
          response: { 200: TopicSubscribersRemoved },
        },
      },
      async (request) => {
        const result = await deps.store.removeTopicSubscribers(
          request.environmentId,
          request.params.key,
          request.body.subscriberIds,
        );
        if (!result) throw notFound(request.params.key);
        return result;
      },
    );

    app.get(
      '/topics/:key/subscribers',
      {
        schema: {
          tags,
          operationId: 'listTopicSubscribers',
          summary: "A topic's members, ordered by subscriberId",
          params: TopicParams,
          querystring: TopicMemberQuery,
          response: { 200: TopicMemberPage },
        },
      },
      async (request) => {
        const members = await deps.store.listTopicSubscribers(
          request.environmentId,
          request.params.key,
          request.query.limit ?? 100,
          request.query.cursor,
        );
        if (!members) throw notFound(request.params.key);
        return members;
      },
    );
  };
