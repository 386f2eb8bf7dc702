import { newId } from './ids.js';
import { HeraldError } from './errors.js';
import { hashPassword, passwordProblem } from './passwords.js';
import type { AccessStore, User } from './store.js';

/**
 * Dashboard users: people who sign in to /dashboard. Instance-wide (not per environment), each
 * with one role:
 * - owner: everything, and the only role that manages users (/v1/users);
 * - admin: everything else the API offers;
 * - viewer: reads only (GET and HEAD), without secrets or message content (http/redaction.ts).
 * An instance always keeps at least one enabled owner.
 */
export const ROLES = ['owner', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request or a change: a signed-in person, an API key, or `herald` on the server's command line. */
export type Actor =
  | { type: 'user'; id: string; email: string; role: Role }
  | { type: 'api_key'; id: string }
  | { type: 'cli' };

/** Emails are compared without case or surrounding space: `Ann@Example.com ` is ann@example.com. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Roughly an email: something@something, printable, at most 254 characters. */
export function emailProblem(email: string): string | undefined {
  if (email.length > 254 || !/^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/.test(email)) {
    return 'an email address such as ann@example.com';
  }
  return undefined;
}

function check(problem: string | undefined, path: string): void {
  if (problem !== undefined) throw new HeraldError('VALIDATION_FAILED', `${path}: ${problem}`, [{ path, message: problem }]);
}

/** What each role may call on /v1, by method and route pattern; why not when it may not. */
export function refusal(actor: Actor, method: string, route: string): string | undefined {
  const manageUsers = route === '/v1/users' || route.startsWith('/v1/users/');
  if (actor.type === 'api_key') {
    return manageUsers
      ? 'Dashboard users are managed by owners signed in to the dashboard, or with `herald users` on the server; API keys belong to one environment'
      : undefined;
  }
  if (actor.type === 'cli') return undefined;
  if (actor.role === 'owner') return undefined;
  if (manageUsers) return `Only owners manage users; you are signed in as ${actor.role}`;
  if (actor.role === 'admin') return undefined;
  if (method === 'GET' || method === 'HEAD') return undefined;
  return `Viewers may only read (GET); ${method} ${route} changes something`;
}

/** The outcome a store reports for a change that would leave no enabled owner. */
export function lastOwnerError(): HeraldError {
  return new HeraldError(
    'LAST_OWNER',
    'This is the last enabled owner: make another user an owner first, then change or remove this one',
  );
}

/** Creates a user with a password; 409 EMAIL_TAKEN when the email is taken, SETUP_DONE when `firstOnly` and a user exists. */
export async function createUser(
  store: Pick<AccessStore, 'createUser'>,
  input: { email: string; role: Role; password: string; now: number; firstOnly?: boolean },
): Promise<User> {
  const email = normalizeEmail(input.email);
  check(emailProblem(email), '/email');
  check(passwordProblem(input.password), '/password');
  const outcome = await store.createUser(
    { id: newId('usr', input.now), email, role: input.role, passwordHash: await hashPassword(input.password), now: input.now },
    { firstOnly: input.firstOnly === true },
  );
  if (outcome.status === 'email_taken') {
    throw new HeraldError('EMAIL_TAKEN', `A user with the email ${JSON.stringify(email)} exists already`);
  }
  if (outcome.status === 'users_exist') {
    throw new HeraldError('SETUP_DONE', 'Herald has users already: sign in, and ask an owner to add you');
  }
  return outcome.user;
}

/** Sets a new password and ends every session of the user. */
export async function resetPassword(
  store: Pick<AccessStore, 'updateUser'>,
  input: { id: string; password: string; now: number },
): Promise<User> {
  check(passwordProblem(input.password), '/password');
  const outcome = await store.updateUser(input.id, { passwordHash: await hashPassword(input.password) }, input.now);
  if (outcome.status === 'not_found') throw new HeraldError('USER_NOT_FOUND', `No user ${JSON.stringify(input.id)}`);
  if (outcome.status !== 'updated') throw lastOwnerError(); // a new password changes no role
  return outcome.user;
}
