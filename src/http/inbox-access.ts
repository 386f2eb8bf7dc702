import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { HeraldError } from '../core/errors.js';
import type { InboxSettings } from '../core/inbox.js';
import {
  generateInboxSecret,
  inboxTokenEnvironment,
  isValidSubscriberHash,
  verifyInboxToken,
} from '../core/inbox-credentials.js';
import type { Store } from '../core/store.js';

export interface InboxAccessDeps {
  store: Store;
  clock: Clock;
  /** Where subscriber hashes are checked: the environment browsers talk to. */
  defaultEnvironmentId: string;
  /** Origins allowed where an environment sets none (HERALD_INBOX_ORIGINS). */
  defaultOrigins: readonly string[];
}

/** A browser's credentials, from headers (or, for the stream, query parameters). */
export interface SubscriberCredentials {
  subscriberId?: string;
  subscriberHash?: string;
  token?: string;
}

export interface InboxAccess {
  /** The environment's settings (created on first use), from a short cache. */
  settings(environmentId: string): Promise<InboxSettings>;
  /** The origins allowed for an environment, defaults applied. */
  allowedOrigins(settings: InboxSettings): readonly string[];
  /** Forget cached settings after a change made here. */
  forget(environmentId: string): void;
  /** Checks credentials in constant time; 401 INBOX_UNAUTHORIZED when wrong, missing or expired. */
  authenticate(credentials: SubscriberCredentials): Promise<{ environmentId: string; subscriberId: string }>;
  /**
   * CORS for the browser-facing routes: answers the request's origin when allowed (or when it is
   * Herald's own), refuses a disallowed origin with 403, and lets requests without one through.
   */
  applyCors(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/** Settings change rarely; other processes see a change within this long. */
const SETTINGS_TTL_MS = 2_000;

/**
 * Header values cannot carry characters beyond Latin-1, so the subscriber id header is
 * percent-encoded (encodeURIComponent); a value that does not decode is taken as it is.
 */
function decodeHeader(value: string | undefined): string | undefined {
  if (value === undefined || !value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The credentials of a browser-facing request: headers, or (`fromQuery`) the stream's query. */
export function credentialsOf(request: FastifyRequest, fromQuery: boolean): SubscriberCredentials {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header('authorization') ?? '')?.[1];
  const fromHeaders = {
    subscriberId: decodeHeader(header('x-herald-subscriber-id')),
    subscriberHash: header('x-herald-subscriber-hash'),
    token: bearer,
  };
  if (!fromQuery || fromHeaders.token || fromHeaders.subscriberId) return fromHeaders;
  // Read before the query is validated (credentials are checked first): take only single strings.
  const query = request.query as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    subscriberId: text(query.subscriberId),
    subscriberHash: text(query.subscriberHash),
    token: text(query.token),
  };
}

export function createInboxAccess(deps: InboxAccessDeps): InboxAccess {
  const { store, clock } = deps;
  const cache = new Map<string, { settings: Promise<InboxSettings | undefined>; until: number }>();

  /**
   * Settings from the cache or the store. `create` only for environments a key holder or the
   * configuration named: an environment read from an unverified token is looked up, never created.
   */
  const cached = (environmentId: string, create: boolean): Promise<InboxSettings | undefined> => {
    const now = clock.now();
    const hit = cache.get(environmentId);
    if (hit && hit.until > now) return hit.settings;
    const loading = create
      ? store.getInboxSettings(environmentId, { secret: generateInboxSecret(), now })
      : store.findInboxSettings(environmentId);
    if (cache.size > 1_000) cache.clear();
    cache.set(environmentId, { settings: loading, until: now + SETTINGS_TTL_MS });
    loading.catch(() => cache.delete(environmentId));
    return loading;
  };
  const settings = async (environmentId: string) => (await cached(environmentId, true))!;
  /** The settings a token names, if that environment has any. */
  const claimed = (token: string) => {
    const environmentId = inboxTokenEnvironment(token);
    return environmentId === undefined ? undefined : cached(environmentId, false);
  };
  const allowedOrigins = (current: InboxSettings) => current.allowedOrigins ?? deps.defaultOrigins;

  return {
    settings,
    allowedOrigins,
    forget(environmentId) {
      cache.delete(environmentId);
    },

    async authenticate(credentials) {
      const { subscriberId, subscriberHash, token } = credentials;
      if (token !== undefined) {
        const named = await claimed(token);
        if (!named) throw new HeraldError('INBOX_UNAUTHORIZED', 'The inbox token is not valid');
        const verified = verifyInboxToken(named.secret, token, clock.now());
        if (verified === 'expired') throw new HeraldError('INBOX_UNAUTHORIZED', 'The inbox token has expired');
        if (!verified) throw new HeraldError('INBOX_UNAUTHORIZED', 'The inbox token is not valid');
        return { environmentId: verified.environmentId, subscriberId: verified.subscriberId };
      }
      if (subscriberId === undefined || subscriberHash === undefined) {
        throw new HeraldError(
          'INBOX_UNAUTHORIZED',
          'Send X-Herald-Subscriber-Id and X-Herald-Subscriber-Hash, or Authorization: Bearer <inbox token>',
        );
      }
      const environmentId = deps.defaultEnvironmentId;
      if (!isValidSubscriberHash((await settings(environmentId)).secret, subscriberId, subscriberHash)) {
        throw new HeraldError('INBOX_UNAUTHORIZED', 'The subscriber hash does not match the subscriber id');
      }
      return { environmentId, subscriberId };
    },

    async applyCors(request, reply) {
      const origin = request.headers.origin;
      if (origin === undefined) return;
      reply.header('vary', 'Origin');
      const token = credentialsOf(request, true).token;
      const named = token === undefined ? undefined : await claimed(token);
      const allowed = allowedOrigins(named ?? (await settings(deps.defaultEnvironmentId)));
      const own = `${request.protocol}://${request.headers.host ?? ''}`;
      if (origin !== own && !allowed.includes('*') && !allowed.includes(origin)) {
        throw new HeraldError('ORIGIN_NOT_ALLOWED', `Pages on ${origin} may not call the inbox API`);
      }
      reply.header('access-control-allow-origin', origin);
      if (request.method === 'OPTIONS') {
        reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
        reply.header(
          'access-control-allow-headers',
          'authorization, x-herald-subscriber-id, x-herald-subscriber-hash, last-event-id, content-type',
        );
        reply.header('access-control-max-age', '600');
      }
    },
  };
}
