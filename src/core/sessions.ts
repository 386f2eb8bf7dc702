import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Dashboard sessions. The browser holds a random token in the `herald_session` cookie; the
 * database holds only its SHA-256 (the session id), so a leaked table opens no session. Every
 * login makes a new one (no session fixation). Sessions live in the database, so every API
 * process sees a login or a logout at once, PostgreSQL included.
 */
export const SESSION_COOKIE = 'herald_session';

/** A session unused this long ends (idle expiry). */
export const SESSION_IDLE_MS = 30 * 60_000;
/** A session ends this long after login whatever its use (absolute expiry). */
export const SESSION_ABSOLUTE_MS = 12 * 3_600_000;
/** Last use is written at most this often per session: a read per request, a write per minute. */
export const SESSION_TOUCH_MS = 60_000;

/** Failed logins are counted over this window… */
export const LOGIN_WINDOW_MS = 15 * 60_000;
/** …and at this many for one email, further attempts for it are refused until the oldest leaves the window… */
export const LOGIN_FAILURES_PER_EMAIL = 10;
/** …and at this many from one client address, whatever the emails. */
export const LOGIN_FAILURES_PER_ADDRESS = 50;

export interface NewSession {
  /** For the cookie; never stored. */
  token: string;
  /** SHA-256 of the token: the row's key. */
  id: string;
  csrfToken: string;
}

export function newSession(): NewSession {
  const token = randomBytes(32).toString('base64url');
  return { token, id: sessionIdOf(token), csrfToken: randomBytes(32).toString('base64url') };
}

export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether a session is still good at `now`: within both its absolute and idle expiry. */
export function sessionIsLive(session: { expiresAt: number; lastSeenAt: number }, now: number): boolean {
  return now < session.expiresAt && now < session.lastSeenAt + SESSION_IDLE_MS;
}

/** Compares two tokens in constant time. */
export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Seconds until a login may be tried again, or 0 when it may now: the window's failures for the
 * email and for the address against their limits; a count at its limit waits until its oldest
 * failure leaves the window.
 */
export function loginRetryAfterSeconds(
  failures: { email: { count: number; oldestAt: number | null }; address: { count: number; oldestAt: number | null } },
  now: number,
): number {
  const waits: number[] = [];
  if (failures.email.count >= LOGIN_FAILURES_PER_EMAIL && failures.email.oldestAt !== null) {
    waits.push(failures.email.oldestAt + LOGIN_WINDOW_MS - now);
  }
  if (failures.address.count >= LOGIN_FAILURES_PER_ADDRESS && failures.address.oldestAt !== null) {
    waits.push(failures.address.oldestAt + LOGIN_WINDOW_MS - now);
  }
  if (waits.length === 0) return 0;
  return Math.max(1, Math.ceil(Math.max(...waits) / 1000));
}
