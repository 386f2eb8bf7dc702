import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { DevMail, DevMailQuery, pageOf } from '../schemas.js';

export const devMailRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/dev/mail',
      {
        schema: {
          tags: ['dev mailbox'],
          operationId: 'listDevMail',
          summary: 'Email captured while no SMTP server is configured, newest first',
          querystring: DevMailQuery,
          response: { 200: pageOf(DevMail) },
        },
      },
      async (request) => deps.store.listDevMail(request.environmentId, request.query.limit ?? 50, request.query.cursor),
    );
  };
