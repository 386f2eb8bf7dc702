import { HeraldError } from './errors.js';
import { dummyPasswordHash, verifyPassword } from './passwords.js';
import {
  LOGIN_WINDOW_MS,
  loginRetryAfterSeconds,
  newSession,
  SESSION_ABSOLUTE_MS,
  SESSION_TOUCH_MS,
  sessionIdOf,
  sessionIsLive,
} from './sessions.js';
import type { AccessStore, StoredSession, User } from './store.js';
import { normalizeEmail } from './users.js';

type Deps = { store: AccessStore };

/** The one answer to a wrong email, a wrong password and a disabled account alike. */
const LOGIN_FAILED_DETAIL = 'The email or the password is wrong';

/** A refusal of a login that was tried too often; `retryAfterSeconds` goes in Retry-After. */
export class LoginThrottled extends HeraldError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'LOGIN_THROTTLED',
      `Too many failed logins for this account or from this address: try again in ${retryAfterSeconds} s`,
    );
  }
}

/**
 * Signs a person in: a new session (never one the browser brought: rotation) for the right email
 * and password. A wrong email costs as long as a wrong password (a dummy hash is checked) and
 * answers the same; so does a disabled account. Failures are counted per email and per client
 * address in the store, so throttling holds across processes; a throttled attempt is refused
 * before the password is checked, the same whether the account exists or not.
 */
export async function logIn(
  deps: Deps,
  input: { email: string; password: string; address: string; now: number },
): Promise<{ token: string; session: StoredSession; user: User }> {
  const email = normalizeEmail(input.email);
  const failures = await deps.store.countLoginFailures({
    email,
    address: input.address,
    since: input.now - LOGIN_WINDOW_MS,
  });
  const wait = loginRetryAfterSeconds(failures, input.now);
  if (wait > 0) throw new LoginThrottled(wait);

  const user = await deps.store.findUserByEmail(email);
  const matches = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !matches || user.disabledAt !== null) {
    await deps.store.recordLoginFailure({ email, address: input.address, at: input.now });
    throw new HeraldError('LOGIN_FAILED', LOGIN_FAILED_DETAIL);
  }
  await deps.store.clearLoginFailures(email);
  const { passwordHash: _hash, ...plain } = user;
  return { ...(await startSession(deps, plain, input.now)), user: plain };
}

/** A new session for a user who has just proven who they are (login, first-run setup). */
export async function startSession(
  deps: Deps,
  user: User,
  now: number,
): Promise<{ token: string; session: StoredSession }> {
  const { token, id, csrfToken } = newSession();
  const session: StoredSession = {
    id,
    userId: user.id,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + SESSION_ABSOLUTE_MS,
    csrfToken,
  };
  await deps.store.createSession(session);
  return { token, session };
}

/**
 * The session a cookie's token opens, with its user, or undefined: unknown, past its idle or
 * absolute expiry (then deleted), or its user disabled. Its last use is written at most once a
 * minute.
 */
export async function resumeSession(
  deps: Deps,
  token: string,
  now: number,
): Promise<{ session: StoredSession; user: User } | undefined> {
  const found = await deps.store.findSession(sessionIdOf(token));
  if (!found) return undefined;
  if (!sessionIsLive(found.session, now)) {
    await deps.store.deleteSession(found.session.id);
    return undefined;
  }
  if (now - found.session.lastSeenAt >= SESSION_TOUCH_MS) {
    await deps.store.touchSession(found.session.id, now);
    found.session.lastSeenAt = now;
  }
  return found;
}
