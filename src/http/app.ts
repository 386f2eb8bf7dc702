import Fastify, { LogController, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { HeraldError } from '../core/errors.js';
import { refusal, type Actor } from '../core/users.js';
import { auditRequests, createAuditRecorder } from './audit-log.js';
import { dashboardHeaders } from './dashboard-files.js';
import { redactForViewers } from './redaction.js';
import { createSessionCookies } from './session-auth.js';
import { auditRoutes } from './routes/audit.js';
import { dashboardFrameRoutes } from './routes/dashboard-frame.js';
import { dashboardSessionRoutes } from './routes/dashboard-session.js';
import { dashboardStaticRoutes } from './routes/dashboard-static.js';
import { userRoutes } from './routes/users.js';
import { integrationRoutes } from './routes/integrations.js';
import { createApiKeyAuthenticator } from './auth.js';
import { answerClientError, closeIfBodyUnread, guardConnections } from './connection-guard.js';
import type { App, AppDeps } from './deps.js';
import { validatorSchemas } from './components.js';
import { createInboxAccess, credentialsOf, type InboxSubscriber } from './inbox-access.js';
import { createInboxStreams } from './inbox-stream.js';
import { inboxRoutes } from './routes/inbox.js';
import { inboxScriptRoutes } from './routes/inbox-script.js';
import { inboxSettingsRoutes } from './routes/inbox-settings.js';
import { parseJsonBody } from './json-body.js';
import { registerOpenApi } from './openapi.js';
import { problem, sendProblem, toProblem } from './problem.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { benchRoutes } from './routes/bench.js';
import { devMailRoutes } from './routes/dev-mail.js';
import { healthRoutes } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { preferenceRoutes } from './routes/preferences.js';
import { statsRoutes } from './routes/stats.js';
import { subscriberRoutes } from './routes/subscribers.js';
import { topicRoutes } from './routes/topics.js';
import { triggerRoutes } from './routes/triggers.js';
import { unsubscribeRoutes } from './routes/unsubscribe.js';
import { workflowPreviewRoutes } from './routes/workflow-preview.js';
import { layoutRoutes } from './routes/layouts.js';
import { partialRoutes } from './routes/partials.js';
import { translationRoutes } from './routes/translations.js';
import { workflowRoutes } from './routes/workflows.js';
import { workflowVersionRoutes } from './routes/workflow-versions.js';

export type { App, AppDeps } from './deps.js';

declare module 'fastify' {
  interface FastifyRequest {
    environmentId: string;
    /** Set on routes with subscriber credentials (the browser-facing inbox). */
    subscriberId: string;
    /** On those routes: who, and what vouched for it (the stream lives as long as that does). */
    inboxSubscriber: InboxSubscriber | null;
    /** On /v1 routes: who is calling (an API key, or a dashboard user by the session cookie). */
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /**
     * Default: an API key, or the dashboard's session cookie, on /v1 routes. `subscriber`: inbox
     * credentials; `none`: open (CORS preflight, the dashboard's files and session routes).
     */
    auth?: 'none' | 'subscriber';
    /** Browser-facing: answer CORS for the allowed origins. */
    cors?: boolean;
    /** The stream: EventSource cannot send headers, so credentials may be query parameters. */
    credentialsInQuery?: boolean;
    /** The body may be left out (the route applies its defaults), also as an empty JSON body. */
    optionalBody?: boolean;
  }
}

/** A request body larger than this is refused with 413 before it is read to the end. */
export const BODY_LIMIT = 1024 * 1024;

function createAjv(coerceTypes: boolean, isDeliverableAddress: (address: string) => boolean) {
  // Bodies are validated as sent (no coercion, no silent removal); query strings are text and
  // are coerced to the declared types. `verbose` keeps the failing schema on each error, which
  // the error messages read (allowed values, known fields); `discriminator` checks a step
  // against the one shape its `type` names.
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    allErrors: true,
    strict: false,
    verbose: true,
    discriminator: true,
  });
  addFormats.default(ajv);
  ajv.addFormat('email', { type: 'string', validate: isDeliverableAddress });
  for (const schema of validatorSchemas()) ajv.addSchema(schema);
  return ajv;
}

/**
 * Clients that send `Content-Type: application/json` on every call send it with no body too (a
 * DELETE, an action): an empty body is no body where the route takes none or marks its body
 * optional. Where the route needs a body, an empty one is a 400.
 */
function emptyBody(request: FastifyRequest): undefined {
  if (request.routeOptions.schema?.body === undefined || request.routeOptions.config.optionalBody) return undefined;
  throw new HeraldError('INVALID_JSON', 'The body is empty; send a JSON object');
}

/**
 * Builds the HTTP API. The request lifecycle: auth and roles (onRequest) → JSON parse → validation
 * → handler → viewer redaction (preSerialization) → dashboard security headers (onSend) → audit
 * (onResponse, written after the answer).
 */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    // Per-request logs would cost more than the request itself on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    // Closing is answered by our own hook below, as problem+json.
    return503OnClosing: false,
    requestIdHeader: 'x-request-id',
    // Subscriber ids may be 255 characters, i.e. up to 510 UTF-16 units, and an unsubscribe token
    // carries one in base64 (up to ~1,600 characters); the schemas check the real limits.
    routerOptions: { maxParamLength: 2048 },
    // Malformed percent-encoding and over-long path segments are refused by the router, before any
    // hook: without this they would answer plain JSON instead of problem+json.
    frameworkErrors: (error, request, reply) => sendProblem(reply, toProblem(error, request)),
    // Requests that do not even parse as HTTP, or do not arrive in time, never reach a route:
    // answer them in the same shape.
    clientErrorHandler: (error, socket) => answerClientError(error, socket, deps.connections.requestTimeoutMs),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  const connections = guardConnections(app.server, deps.connections, {
    onShed: (reason) => deps.metrics.connectionShed(reason),
  });
  deps.metrics.countHttpConnections(() => connections.open());
  app.addHook('onSend', closeIfBodyUnread);

  const bodyAjv = createAjv(false, deps.isDeliverableAddress);
  const queryAjv = createAjv(true, deps.isDeliverableAddress);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodyAjv.compile(schema) : queryAjv.compile(schema),
  );

  app.removeAllContentTypeParsers();
  // Fastify matches the whole header, parameters included (`application/json; charset=utf-8`).
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json(;.*)?$/, { parseAs: 'buffer' }, (request, body, done) => {
    try {
      if ((body as Buffer).length === 0) return done(null, emptyBody(request));
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => sendProblem(reply, toProblem(error, request)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem('ROUTE_NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  await registerOpenApi(app, deps.version);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('Connection', 'close');
    throw new HeraldError('SERVICE_UNAVAILABLE', 'Herald is shutting down; retry on another instance or shortly');
  });

  const authenticator = createApiKeyAuthenticator(deps, deps.auth);
  // After the last request: its key's last use is written too.
  app.addHook('onClose', async () => {
    await authenticator.close();
  });
  const defaultEnvironmentId = await deps.store.defaultEnvironmentId();
  const sessions = createSessionCookies({ store: deps.store, clock: deps.clock, publicUrl: deps.publicUrl });
  const audit = createAuditRecorder(deps);
  // After the last request: its audit events are written too.
  app.addHook('onClose', async () => audit.flush());
  app.addHook('preSerialization', redactForViewers);
  app.addHook('onSend', dashboardHeaders);
  app.addHook('onResponse', auditRequests(audit));
  const inboxAccess = createInboxAccess({
    store: deps.store,
    clock: deps.clock,
    defaultEnvironmentId,
    defaultOrigins: deps.inbox.defaultOrigins,
  });
  app.decorateRequest('environmentId', '');
  app.decorateRequest('subscriberId', '');
  app.decorateRequest('inboxSubscriber', null);
  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    // Before credentials are checked: a browser can read a 401 only with the CORS headers on it.
    if (config.cors) await inboxAccess.applyCors(request, reply);
    if (config.auth === 'none') return;
    if (config.auth === 'subscriber') {
      const subscriber = await inboxAccess.authenticate(credentialsOf(request, config.credentialsInQuery === true));
      request.environmentId = subscriber.environmentId;
      request.subscriberId = subscriber.subscriberId;
      request.inboxSubscriber = subscriber;
      return;
    }
    // The matched route decides, not the raw URL: `/%761/workflows` is routed to /v1/workflows.
    const path = request.routeOptions.url ?? request.url;
    if (!path.startsWith('/v1/') && path !== '/v1') return;
    if (request.headers.authorization === undefined && sessions.tokenOf(request) !== undefined) {
      // The dashboard: the same routes as scripts, as the signed-in user, on the default environment.
      const signedIn = await sessions.resume(request);
      if (!signedIn) throw new HeraldError('NOT_SIGNED_IN', 'Your dashboard session has ended: sign in again');
      sessions.checkCsrf(request, signedIn.session);
      const { id, email, role } = signedIn.user;
      request.environmentId = defaultEnvironmentId;
      request.actor = { type: 'user', id, email, role };
    } else {
      const key = await authenticator.authenticate(request.headers.authorization);
      request.environmentId = key.environmentId;
      request.actor = { type: 'api_key', id: key.keyId };
    }
    const refused = refusal(request.actor, request.method, path);
    if (refused !== undefined) throw new HeraldError('FORBIDDEN', refused);
  });

  await app.register(healthRoutes(deps));
  if (deps.apiRoutes === false) return app;
  await app.register(subscriberRoutes(deps), { prefix: '/v1' });
  await app.register(topicRoutes(deps), { prefix: '/v1' });
  await app.register(workflowRoutes(deps), { prefix: '/v1' });
  await app.register(workflowVersionRoutes(deps), { prefix: '/v1' });
  await app.register(workflowPreviewRoutes(deps), { prefix: '/v1' });
  await app.register(layoutRoutes(deps), { prefix: '/v1' });
  await app.register(partialRoutes(deps), { prefix: '/v1' });
  await app.register(translationRoutes(deps), { prefix: '/v1' });
  await app.register(triggerRoutes(deps), { prefix: '/v1' });
  await app.register(messageRoutes(deps), { prefix: '/v1' });
  await app.register(devMailRoutes(deps), { prefix: '/v1' });
  await app.register(integrationRoutes(deps), { prefix: '/v1' });
  await app.register(statsRoutes(deps), { prefix: '/v1' });
  await app.register(apiKeyRoutes({ ...deps, authenticator }), { prefix: '/v1' });
  const inboxStreams = createInboxStreams({
    store: deps.store,
    logger: deps.logger,
    clock: deps.clock,
    heartbeatMs: deps.inbox.heartbeatMs,
    maxStreams: deps.inbox.maxStreams,
    access: inboxAccess,
  });
  deps.metrics.countInboxStreams(() => inboxStreams.count());
  // Streams never end by themselves: end them, or closing would wait for every browser to leave.
  app.addHook('preClose', async () => inboxStreams.closeAll());
  await app.register(inboxRoutes({ ...deps, inboxAccess, inboxStreams }), { prefix: '/v1' });
  await app.register(inboxSettingsRoutes({ ...deps, inboxAccess }), { prefix: '/v1' });
  await app.register(preferenceRoutes(deps), { prefix: '/v1' });
  await app.register(unsubscribeRoutes(deps), { prefix: '/v1' });
  await app.register(inboxScriptRoutes());
  await app.register(userRoutes(deps), { prefix: '/v1' });
  await app.register(auditRoutes(deps), { prefix: '/v1' });
  await app.register(dashboardSessionRoutes({ ...deps, sessions, audit }));
  await app.register(dashboardFrameRoutes({ ...deps, sessions }));
  await app.register(dashboardStaticRoutes({ dir: deps.dashboardDir }));
  if (deps.benchRoutes) await app.register(benchRoutes(), { prefix: '/v1' });
  return app;
}
