import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../core/errors.js';
import { resumeSession } from '../core/login.js';
import { SESSION_ABSOLUTE_MS, SESSION_COOKIE, sameToken } from '../core/sessions.js';
import type { Clock } from '../core/clock.js';
import type { AccessStore, StoredSession, User } from '../core/store.js';

/** The methods that change nothing: the only ones a cookie may make without the CSRF checks. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionCookies {
  /** The session token the request's cookie carries, if any. */
  tokenOf(request: FastifyRequest): string | undefined;
  /** The signed-in user of the request's cookie; undefined without one, or when it has ended. */
  resume(request: FastifyRequest): Promise<{ session: StoredSession; user: User } | undefined>;
  /** Sets the session cookie (HttpOnly, SameSite=Lax, Path=/, Secure when --public-url is https). */
  set(reply: FastifyReply, token: string): void;
  /** Tells the browser to forget the cookie. */
  clear(reply: FastifyReply): void;
  /**
   * Refuses (403 CSRF_REFUSED) a state-changing request authenticated by the cookie unless it comes
   * from Herald's own origin (Origin, else Referer) and carries the session's X-CSRF-Token.
   */
  checkCsrf(request: FastifyRequest, session: StoredSession): void;
  /** Refuses a request whose Origin (else Referer) is not Herald's own: login and setup have no session yet. */
  checkOrigin(request: FastifyRequest): void;
}

/** `name=value` pairs of a Cookie header. */
function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * Herald's own origin: --public-url's when set (behind a proxy, the one browsers see), else the
 * request's Host with its scheme.
 */
function ownOrigin(request: FastifyRequest, publicOrigin: string | undefined): string {
  return publicOrigin ?? `${request.protocol}://${request.host}`;
}

/** The origin a browser says the request comes from: Origin, else Referer's origin; undefined with neither. */
function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== '') return origin;
  const referer = request.headers.referer;
  if (typeof referer !== 'string' || referer === '') return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return 'an unreadable Referer';
  }
}

export function createSessionCookies(deps: {
  store: AccessStore;
  clock: Clock;
  /** --public-url, if set. */
  publicUrl: string | undefined;
}): SessionCookies {
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;
  const secure = publicOrigin?.startsWith('https:') === true;
  const attributes = `HttpOnly; SameSite=Lax; Path=/${secure ? '; Secure' : ''}`;

  const checkOrigin = (request: FastifyRequest) => {
    const own = ownOrigin(request, publicOrigin);
    const from = requestOrigin(request);
    if (from === undefined) {
      throw new HeraldError(
        'CSRF_REFUSED',
        `Origin check failed: the request has no Origin or Referer header (Herald's origin is ${own})`,
      );
    }
    if (from !== own) {
      throw new HeraldError('CSRF_REFUSED', `Origin check failed: ${from} is not Herald's own origin ${own}`);
    }
  };

  return {
    tokenOf: (request) => readCookie(request.headers.cookie, SESSION_COOKIE) || undefined,

    async resume(request) {
      const token = this.tokenOf(request);
      return token === undefined ? undefined : resumeSession(deps, token, deps.clock.now());
    },

    set(reply, token) {
      reply.header('Set-Cookie', `${SESSION_COOKIE}=${token}; Max-Age=${SESSION_ABSOLUTE_MS / 1000}; ${attributes}`);
    },

    clear(reply) {
      reply.header('Set-Cookie', `${SESSION_COOKIE}=; Max-Age=0; ${attributes}`);
    },

    checkOrigin,

    checkCsrf(request, session) {
      if (SAFE_METHODS.has(request.method)) return;
      checkOrigin(request);
      const token = request.headers['x-csrf-token'];
      if (typeof token !== 'string' || token === '') {
        throw new HeraldError(
          'CSRF_REFUSED',
          'CSRF token check failed: send the X-CSRF-Token header with the csrfToken of GET /dashboard/api/session',
        );
      }
      if (!sameToken(token, session.csrfToken)) {
        throw new HeraldError('CSRF_REFUSED', "CSRF token check failed: X-CSRF-Token is not this session's token");
      }
    },
  };
}
