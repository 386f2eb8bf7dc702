import { newId } from './ids.js';
import { HeraldError } from './errors.js';
import { hashPassword, passwordProblem } from './passwords.js';
import type { Role } from './roles.js';
import type { AccessStore, User } from './store.js';

export { ROLES, refusal, type Actor, type Role } from './roles.js';

// Dashboard users (docs/dashboard.md): adding one, setting a password. What each role may do is
// in roles.ts; signing in, in login.ts.

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
  if (problem !== undefined)
    throw new HeraldError('VALIDATION_FAILED', `${path}: ${problem}`, [{ path, message: problem }]);
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
    {
      id: newId('usr', input.now),
      email,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      now: input.now,
    },
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
