import type { AuditEvent } from './audit.js';
import type { AuditFilter, LoginFailures, StoredSession, StoredUser, User, UserChange } from './store-records.js';
import type { Page } from './types.js';

// The ports of the dashboard's access layer (users, sessions, failed logins, the audit log), kept
// apart from store.ts for size; Store extends them like its other ports.

/**
 * Dashboard users, their sessions and failed logins: instance-wide, not per environment. Changes
 * that could leave no enabled owner are checked and made in one transaction (users taking turns),
 * so two at once cannot both pass the check.
 */
export interface AccessStore {
  countUsers(): Promise<number>;
  /**
   * Adds a user; `email_taken` when another has the email. `firstOnly` (first-run setup): only
   * while there is no user at all, else `users_exist`: of two setups at once, one wins.
   */
  createUser(
    input: { id: string; email: string; role: User['role']; passwordHash: string; now: number },
    options: { firstOnly: boolean },
  ): Promise<{ status: 'created'; user: User } | { status: 'email_taken' } | { status: 'users_exist' }>;
  getUser(id: string): Promise<User | undefined>;
  /** The user with this (normalized) email, with the password hash, disabled or not. */
  findUserByEmail(email: string): Promise<StoredUser | undefined>;
  /** Every user, oldest first. */
  listUsers(): Promise<User[]>;
  /**
   * Changes a user. Refused (`last_owner`) when it would leave no enabled owner. A new password
   * hash, or disabling, deletes the user's sessions in the same transaction.
   */
  updateUser(
    id: string,
    change: UserChange,
    now: number,
  ): Promise<
    { status: 'updated'; user: User } | { status: 'not_found' } | { status: 'last_owner' } | { status: 'email_taken' }
  >;
  /** Deletes a user and their sessions; never the last enabled owner. */
  deleteUser(id: string): Promise<'deleted' | 'not_found' | 'last_owner'>;

  createSession(session: StoredSession): Promise<void>;
  /** The session with its user; undefined when there is none, or its user is disabled. */
  findSession(id: string): Promise<{ session: StoredSession; user: User } | undefined>;
  /** Moves the session's last use forward (never back). */
  touchSession(id: string, at: number): Promise<void>;
  deleteSession(id: string): Promise<void>;
  /** Ends every session of the user; returns how many. */
  deleteUserSessions(userId: string): Promise<number>;
  /** Deletes sessions past their absolute expiry or idle since `idleBefore`; returns how many. */
  pruneSessions(now: number, idleBefore: number): Promise<number>;

  recordLoginFailure(failure: { email: string; address: string; at: number }): Promise<void>;
  /** The failures since `since` for the email and for the address (each counted on its own). */
  countLoginFailures(query: { email: string; address: string; since: number }): Promise<LoginFailures>;
  /** Forgets the email's failures (a successful login). */
  clearLoginFailures(email: string): Promise<void>;
  /** Deletes failures recorded before `before`; returns how many. */
  pruneLoginFailures(before: number): Promise<number>;
}

/** The audit log (core/audit.ts). */
export interface AuditStore {
  addAuditEvents(events: readonly AuditEvent[]): Promise<void>;
  /** The environment's events and the instance-wide ones (environmentId null), newest first; the cursor is the last id. */
  listAuditEvents(environmentId: string, filter: AuditFilter): Promise<Page<AuditEvent>>;
  /** Deletes up to `limit` events recorded before `before`; returns how many. */
  pruneAuditEvents(before: number, limit: number): Promise<number>;
}
