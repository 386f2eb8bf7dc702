import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { LoginThrottled, logIn, startSession } from '../../core/login.js';
import { createUser, type Actor } from '../../core/users.js';
import type { StoredSession, User } from '../../core/store.js';
import { Credentials, DashboardState, SessionView, SetupBody } from '../access-schemas.js';
import type { AuditRecorder } from '../audit-log.js';
import type { AppDeps } from '../deps.js';
import type { SessionCookies } from '../session-auth.js';

/**
 * The dashboard's own routes around the session: first-run setup, login, logout, who is signed
 * in. They set and clear the `herald_session` cookie; everything else the dashboard does, it does
 * through /v1 with that cookie (http/app.ts). None is open to other origins: login and setup
 * check Origin (there is no session yet), logout the CSRF token too.
 */
export const dashboardSessionRoutes =
  (deps: AppDeps & { sessions: SessionCookies; audit: AuditRecorder }): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['dashboard'];
    const config = { auth: 'none' } as const;
    const { sessions, store, clock } = deps;
    const view = (session: StoredSession, user: User) => ({
      user: { id: user.id, email: user.email, role: user.role },
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
    });
    const actorOf = (user: User): Actor => ({ type: 'user', id: user.id, email: user.email, role: user.role });
    const audit = (user: User, action: string, status: number) =>
      deps.audit.record({ environmentId: null, actor: actorOf(user), action, status });

    app.get(
      '/dashboard/api/state',
      {
        config,
        schema: {
          tags,
          operationId: 'getDashboardState',
          summary: 'Whether first-run setup is pending (no user yet) and whether this browser is signed in',
          response: { 200: DashboardState },
        },
      },
      async (request) => ({
        setupRequired: (await store.countUsers()) === 0,
        signedIn: (await sessions.resume(request)) !== undefined,
      }),
    );

    app.post(
      '/dashboard/api/setup',
      {
        config,
        schema: {
          tags,
          operationId: 'setUp',
          summary: 'Create the first user, an owner, and sign them in; only while Herald has no user (else 409)',
          body: SetupBody,
          response: { 201: SessionView },
        },
      },
      async (request, reply) => {
        sessions.checkOrigin(request);
        const now = clock.now();
        const user = await createUser(store, { ...request.body, role: 'owner', now, firstOnly: true });
        const { token, session } = await startSession(deps, user, now);
        sessions.set(reply, token);
        audit(user, 'POST /dashboard/api/setup', 201);
        return reply.code(201).send(view(session, user));
      },
    );

    app.post(
      '/dashboard/api/login',
      {
        config,
        schema: {
          tags,
          operationId: 'logIn',
          summary: 'Sign in with email and password: sets the herald_session cookie (a new session every time)',
          body: Credentials,
          response: { 200: SessionView },
        },
      },
      async (request, reply) => {
        sessions.checkOrigin(request);
        let signedIn;
        try {
          signedIn = await logIn(deps, { ...request.body, address: request.ip, now: clock.now() });
        } catch (error) {
          if (error instanceof LoginThrottled) reply.header('Retry-After', String(error.retryAfterSeconds));
          throw error;
        }
        // The session the browser came with, if any, ends: one login, one new session.
        const previous = await sessions.resume(request);
        if (previous) await store.deleteSession(previous.session.id);
        sessions.set(reply, signedIn.token);
        audit(signedIn.user, 'POST /dashboard/api/login', 200);
        return view(signedIn.session, signedIn.user);
      },
    );

    app.post(
      '/dashboard/api/logout',
      {
        config,
        schema: {
          tags,
          operationId: 'logOut',
          summary: 'End this session (and clear the cookie)',
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const signedIn = await sessions.resume(request);
        if (signedIn) {
          sessions.checkCsrf(request, signedIn.session);
          await store.deleteSession(signedIn.session.id);
          audit(signedIn.user, 'POST /dashboard/api/logout', 204);
        }
        sessions.clear(reply);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/dashboard/api/logout-everywhere',
      {
        config,
        schema: {
          tags,
          operationId: 'logOutEverywhere',
          summary: 'End every session of the signed-in user, in every browser',
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const signedIn = await sessions.resume(request);
        if (!signedIn) throw new HeraldError('NOT_SIGNED_IN', 'No session: sign in first');
        sessions.checkCsrf(request, signedIn.session);
        await store.deleteUserSessions(signedIn.user.id);
        audit(signedIn.user, 'POST /dashboard/api/logout-everywhere', 204);
        sessions.clear(reply);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/dashboard/api/session',
      {
        config,
        schema: {
          tags,
          operationId: 'getSession',
          summary: 'Who is signed in, and the CSRF token their requests carry; 401 when no one',
          response: { 200: SessionView },
        },
      },
      async (request, reply) => {
        const signedIn = await sessions.resume(request);
        if (!signedIn) {
          if (sessions.tokenOf(request) !== undefined) sessions.clear(reply);
          throw new HeraldError('NOT_SIGNED_IN', 'No session, or it has ended: sign in (POST /dashboard/api/login)');
        }
        return view(signedIn.session, signedIn.user);
      },
    );
  };
