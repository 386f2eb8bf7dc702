import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseDuration } from '../../core/durations.js';
import type { AppDeps } from '../deps.js';
import {
  Integration,
  IntegrationBody,
  IntegrationParams,
  IntegrationTestBody,
  IntegrationTestResult,
} from '../schemas.js';

export const integrationRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['integrations'];

    app.put(
      '/integrations/:id',
      {
        schema: {
          tags,
          operationId: 'putIntegration',
          summary: 'Create or replace an integration (a provider for a channel); credentials are stored encrypted',
          params: IntegrationParams,
          body: IntegrationBody,
          response: { 200: Integration, 201: Integration },
        },
      },
      async (request, reply) => {
        const { rateLimit, ...rest } = request.body;
        const { view, created, secret } = await deps.integrations.put(request.environmentId, request.params.id, {
          ...rest,
          rateLimit: rateLimit ? { limit: rateLimit.limit, intervalMs: parseDuration(rateLimit.interval)! } : rateLimit,
        });
        return reply.code(created ? 201 : 200).send(secret ? { ...view, secret } : view);
      },
    );

    app.get(
      '/integrations',
      {
        schema: {
          tags,
          operationId: 'listIntegrations',
          summary: 'List integrations, by channel and priority',
          response: { 200: Type.Object({ items: Type.Array(Integration) }) },
        },
      },
      async (request) => ({ items: await deps.integrations.list(request.environmentId) }),
    );

    app.get(
      '/integrations/:id',
      {
        schema: {
          tags,
          operationId: 'getIntegration',
          summary: 'Get an integration, with its circuit breaker state',
          params: IntegrationParams,
          response: { 200: Integration },
        },
      },
      async (request) => deps.integrations.get(request.environmentId, request.params.id),
    );

    app.delete(
      '/integrations/:id',
      {
        schema: {
          tags,
          operationId: 'deleteIntegration',
          summary: 'Delete an integration',
          params: IntegrationParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await deps.integrations.remove(request.environmentId, request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/integrations/:id/test',
      {
        schema: {
          tags,
          operationId: 'testIntegration',
          summary: 'Send a test message through this integration now, and report what the provider answered',
          params: IntegrationParams,
          body: IntegrationTestBody,
          response: { 200: IntegrationTestResult },
        },
      },
      async (request) =>
        deps.integrations.test(request.environmentId, request.params.id, request.body.to, request.body.text),
    );

    app.post(
      '/integrations/:id/rotate-secret',
      {
        schema: {
          tags,
          operationId: 'rotateIntegrationSecret',
          summary: 'Rotate the webhook signing secret; the old one keeps signing alongside for 24 h',
          params: IntegrationParams,
          response: { 200: Integration },
        },
      },
      async (request) => {
        const { view, secret } = await deps.integrations.rotateSecret(request.environmentId, request.params.id);
        return { ...view, secret };
      },
    );
  };
