import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { HeraldError } from '../core/errors.js';
import type { InboxSettings } from '../core/inbox.js';
import {
  generateInboxSecret,
  inboxTokenEnvironment,
  isPossibleSubscriberId,
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

/** Who a browser-facing request is, and what vouched for it. */
export interface InboxSubscriber {
  environmentId: string;
  subscriberId: string;
  /** The inbox secret the credentials were checked with: a stream ends once it is no longer current. */
  secret: string;
  /** A token's expiry (epoch ms), when a token was given: its stream ends then. */
  expiresAt?: number;
}

export interface InboxAccess {
  /** The environment's settings (created on first use), from a short cache. */
  settings(environmentId: string): Promise<InboxSettings>;
  /** The environment's current inbox secret, if it has settings (never creates them). */
  currentSecret(environmentId: string): Promise<string | undefined>;
  /** The origins allowed for an environment, defaults applied. */
  allowedOrigins(settings: InboxSettings): readonly string[];
  /**
   * The environment's settings changed (here, or in another process: the store says so; undefined:
   * any may have): forgets the cached settings, then resolves once every `onChanged` listener has
   * run, so a rotation has ended the streams it revokes by the time its request is answered.
   */
  changed(environmentId: string | undefined): Promise<void>;
  /** Called on every change, after the cache is forgotten. */
  onChanged(listener: (environmentId: string | undefined) => Promise<void>): void;
  /** Checks credentials in constant time; 401 INBOX_UNAUTHORIZED when wrong, missing or expired. */
  authenticate(credentials: SubscriberCredentials): Promise<InboxSubscriber>;
  /**
   * CORS for the browser-facing routes: answers the request's origin when allowed (or when it is
   * Herald's own), refuses a disallowed origin with 403, and lets requests without one through.
   */
  applyCors(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/**
 * Settings change rarely; a process that misses a change's notification (PostgreSQL: its listener
 * was reconnecting) sees it within this long.
 */
const SETTINGS_TTL_MS = 2_000;

/** How to get subscriber credentials, for the 401s that say what was wrong. */
const CREDENTIALS_HELP =
  'send X-Herald-Subscriber-Id with X-Herald-Subscriber-Hash (hex HMAC-SHA256 of the id with the inbox secret from GET /v1/inbox/settings), ' +
  'or Authorization: Bearer <inbox token> from POST /v1/subscribers/{id}/inbox-token';

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
  const listeners: ((environmentId: string | undefined) => Promise<void>)[] = [];
  const changed = async (environmentId: string | undefined) => {
    if (environmentId === undefined) cache.clear();
    else cache.delete(environmentId);
    await Promise.all(listeners.map((listener) => listener(environmentId)));
  };
  store.onInboxSettingsChanged?.((environmentId) => void changed(environmentId));

  const refuse = (detail: string) => new HeraldError('INBOX_UNAUTHORIZED', detail);
  const checkedId = (subscriberId: string, source: string) => {
    if (!isPossibleSubscriberId(subscriberId)) {
      throw refuse(`${source} is not a subscriber id: 1 to 255 characters, no control characters`);
    }
    return subscriberId;
  };

  return {
    settings,
    allowedOrigins,
    changed,
    onChanged(listener) {
      listeners.push(listener);
    },
    async currentSecret(environmentId) {
      return (await cached(environmentId, false))?.secret;
    },

    async authenticate(credentials) {
      const { subscriberId, subscriberHash, token } = credentials;
      if (token !== undefined) {
        if (token.startsWith('hk_')) {
          throw refuse(`Inbox routes do not take an API key (it must never reach a browser): ${CREDENTIALS_HELP}`);
        }
        if (inboxTokenEnvironment(token) === undefined) {
          throw refuse(`The bearer value is not an inbox token (they begin with hit_): ${CREDENTIALS_HELP}`);
        }
        const named = await claimed(token);
        if (!named) throw refuse('The inbox token is not valid');
        const verified = verifyInboxToken(named.secret, token, clock.now());
        if (verified === 'expired') throw refuse('The inbox token has expired: ask your server for a new one');
        if (!verified) throw refuse('The inbox token is not valid');
        return {
          environmentId: verified.environmentId,
          subscriberId: checkedId(verified.subscriberId, "The inbox token's subscriber id"),
          secret: named.secret,
          expiresAt: verified.expiresAt,
        };
      }
      if (subscriberId === undefined || subscriberHash === undefined) {
        throw refuse(`Missing subscriber credentials: ${CREDENTIALS_HELP}`);
      }
      checkedId(subscriberId, 'The subscriber id');
      const environmentId = deps.defaultEnvironmentId;
      const { secret } = await settings(environmentId);
      if (!isValidSubscriberHash(secret, subscriberId, subscriberHash)) {
        throw refuse('The subscriber hash does not match the subscriber id');
      }
      return { environmentId, subscriberId, secret };
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
        throw new HeraldError(
          'ORIGIN_NOT_ALLOWED',
          `Pages on ${origin} may not call the inbox API: add the origin to allowedOrigins with PUT /v1/inbox/settings ` +
            '(or, for environments that set none, to HERALD_INBOX_ORIGINS / --inbox-origins)',
        );
      }
      reply.header('access-control-allow-origin', origin);
      if (request.method === 'OPTIONS') {
        reply.header('access-control-allow-methods', 'GET, POST, PUT, OPTIONS');
        reply.header(
          'access-control-allow-headers',
          'authorization, x-herald-subscriber-id, x-herald-subscriber-hash, last-event-id, content-type',
        );
        reply.header('access-control-max-age', '600');
      }
    },
  };
}
