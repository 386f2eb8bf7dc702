import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { hashPassword } from '../../core/passwords.js';
import { createUser, emailProblem, lastOwnerError, normalizeEmail } from '../../core/users.js';
import { User, UserBody, UserChangeBody, UserParams } from '../access-schemas.js';
import type { AppDeps } from '../deps.js';

/** Dashboard users (instance-wide): owners only (core/users.ts refusal). */
export const userRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['users'];
    const notFound = (id: string) => new HeraldError('USER_NOT_FOUND', `No user ${JSON.stringify(id)}`);

    app.get(
      '/users',
      {
        schema: {
          tags,
          operationId: 'listUsers',
          summary: 'The dashboard users, oldest first (owners only)',
          response: { 200: Type.Object({ items: Type.Array(User) }) },
        },
      },
      async () => ({ items: await deps.store.listUsers() }),
    );

    app.post(
      '/users',
      {
        schema: {
          tags,
          operationId: 'createUser',
          summary: 'Add a dashboard user with a role and a password (owners only)',
          body: UserBody,
          response: { 201: User },
        },
      },
      async (request, reply) => {
        const user = await createUser(deps.store, { ...request.body, now: deps.clock.now() });
        return reply.code(201).send(user);
      },
    );

    app.patch(
      '/users/:id',
      {
        schema: {
          tags,
          operationId: 'updateUser',
          summary:
            "Change a user's email, role or password, or disable them; a new password or disabling ends their sessions. Never leaves no enabled owner (409)",
          params: UserParams,
          body: UserChangeBody,
          response: { 200: User },
        },
      },
      async (request) => {
        const { email, role, password, disabled } = request.body;
        const normalized = email === undefined ? undefined : normalizeEmail(email);
        const invalid = normalized === undefined ? undefined : emailProblem(normalized);
        if (invalid)
          throw new HeraldError('VALIDATION_FAILED', `/email: ${invalid}`, [{ path: '/email', message: invalid }]);
        const outcome = await deps.store.updateUser(
          request.params.id,
          {
            ...(normalized !== undefined && { email: normalized }),
            ...(role !== undefined && { role }),
            ...(disabled !== undefined && { disabled }),
            ...(password !== undefined && { passwordHash: await hashPassword(password) }),
          },
          deps.clock.now(),
        );
        if (outcome.status === 'not_found') throw notFound(request.params.id);
        if (outcome.status === 'last_owner') throw lastOwnerError();
        if (outcome.status === 'email_taken') {
          throw new HeraldError('EMAIL_TAKEN', `A user with the email ${JSON.stringify(normalized)} exists already`);
        }
        return outcome.user;
      },
    );

    app.delete(
      '/users/:id',
      {
        schema: {
          tags,
          operationId: 'deleteUser',
          summary: 'Remove a user and end their sessions; never the last enabled owner (409)',
          params: UserParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const outcome = await deps.store.deleteUser(request.params.id);
        if (outcome === 'not_found') throw notFound(request.params.id);
        if (outcome === 'last_owner') throw lastOwnerError();
        return reply.code(204).send(null);
      },
    );
  };
