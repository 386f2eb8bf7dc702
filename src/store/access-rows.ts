import type { AuditActor, AuditEvent } from '../core/audit.js';
import type { AuditFilter, StoredSession, StoredUser, User } from '../core/store.js';
import type { Role } from '../core/users.js';

// What both dialects share for users, sessions and the audit log: row shapes and their mapping.

export const USER_COLUMNS = 'id, email, role, created_at, updated_at, disabled_at';

export interface UserRow {
  id: string;
  email: string;
  role: string;
  created_at: number | string;
  updated_at: number | string;
  disabled_at: number | string | null;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role as Role,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
  };
}

export function toStoredUser(row: UserRow & { password_hash: string }): StoredUser {
  return { ...toUser(row), passwordHash: row.password_hash };
}

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number | string;
  last_seen_at: number | string;
  expires_at: number | string;
  csrf_token: string;
}

export function toSession(row: SessionRow): StoredSession {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    csrfToken: row.csrf_token,
  };
}

/** A session row joined with its user's columns (prefixed `u_`). */
export const SESSION_WITH_USER = `
  s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.csrf_token,
  u.email AS u_email, u.role AS u_role, u.created_at AS u_created_at, u.updated_at AS u_updated_at,
  u.disabled_at AS u_disabled_at
  FROM sessions s JOIN users u ON u.id = s.user_id`;

export type SessionWithUserRow = SessionRow & {
  u_email: string;
  u_role: string;
  u_created_at: number | string;
  u_updated_at: number | string;
  u_disabled_at: number | string | null;
};

export function toSessionWithUser(row: SessionWithUserRow): { session: StoredSession; user: User } {
  return {
    session: toSession(row),
    user: toUser({
      id: row.user_id,
      email: row.u_email,
      role: row.u_role,
      created_at: row.u_created_at,
      updated_at: row.u_updated_at,
      disabled_at: row.u_disabled_at,
    }),
  };
}

export interface AuditRow {
  id: string;
  environment_id: string | null;
  at: number | string;
  actor_type: string;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target: string;
  status: number;
}

export function toAuditEvent(row: AuditRow): AuditEvent {
  let actor: AuditActor;
  if (row.actor_type === 'user') actor = { type: 'user', id: row.actor_id ?? '', email: row.actor_email ?? '' };
  else if (row.actor_type === 'api_key') actor = { type: 'api_key', id: row.actor_id ?? '' };
  else actor = { type: 'cli' };
  return {
    id: row.id,
    environmentId: row.environment_id,
    at: Number(row.at),
    actor,
    action: row.action,
    target: JSON.parse(row.target) as Record<string, string>,
    status: Number(row.status),
  };
}

/** An event's column values, in the order AUDIT_INSERT_COLUMNS names them. */
export const AUDIT_INSERT_COLUMNS = 'id, environment_id, at, actor_type, actor_id, actor_email, action, target, status';
export function auditValues(event: AuditEvent): (string | number | null)[] {
  const { actor } = event;
  return [
    event.id,
    event.environmentId,
    event.at,
    actor.type,
    actor.type === 'cli' ? null : actor.id,
    actor.type === 'user' ? actor.email : null,
    event.action,
    JSON.stringify(event.target),
    event.status,
  ];
}

/**
 * The WHERE clause of an audit list, with `?`-style placeholders named by `param(n)` (each dialect
 * spells them its way) and the values in order. An actor filter that holds `@` is an email.
 */
export function auditWhere(
  environmentId: string,
  filter: AuditFilter,
  param: (index: number) => string,
): { where: string; values: (string | number)[] } {
  const values: (string | number)[] = [environmentId, filter.cursor ?? '\uffff'];
  const parts = [`(environment_id = ${param(1)} OR environment_id IS NULL)`, `id < ${param(2)}`];
  if (filter.actor !== undefined) {
    values.push(filter.actor.includes('@') ? filter.actor.toLowerCase() : filter.actor);
    parts.push(`${filter.actor.includes('@') ? 'actor_email' : 'actor_id'} = ${param(values.length)}`);
  }
  if (filter.action !== undefined) {
    values.push(filter.action);
    parts.push(`action = ${param(values.length)}`);
  }
  return { where: parts.join(' AND '), values };
}
