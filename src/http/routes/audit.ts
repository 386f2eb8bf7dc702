import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditEvent, AuditQuery } from '../access-schemas.js';
import type { AppDeps } from '../deps.js';
import { pageOf } from '../schemas.js';

/** The audit log: who changed what (core/audit.ts). Every role may read it. */
export const auditRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/audit',
      {
        schema: {
          tags: ['audit'],
          operationId: 'listAuditEvents',
          summary:
            "Who changed what: the environment's events and the instance-wide ones (logins, users), newest first",
          querystring: AuditQuery,
          response: { 200: pageOf(AuditEvent) },
        },
      },
      async (request) => {
        const { limit = 50, cursor, actor, action } = request.query;
        return deps.store.listAuditEvents(request.environmentId, {
          limit,
          ...(cursor !== undefined && { cursor }),
          ...(actor !== undefined && { actor }),
          ...(action !== undefined && { action }),
        });
      },
    );
  };
