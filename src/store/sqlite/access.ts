import type { Statement } from 'better-sqlite3';
import type { AccessStore, StoredUser, User, UserChange } from '../../core/store.js';
import {
  SESSION_WITH_USER,
  toSessionWithUser,
  toStoredUser,
  toUser,
  USER_COLUMNS,
  type SessionWithUserRow,
  type UserRow,
} from '../access-rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * Dashboard users, sessions and failed logins on SQLite. Every write runs in the one writer, so the
 * last-owner and first-user checks cannot interleave with another change. Sessions are read by
 * their primary key, a user's by sessions_by_user; failures by login_failures_by_email and
 * login_failures_by_address.
 */
export function sqliteAccessMethods(prepared: (sql: string) => Statement, writer: SqliteWriter): AccessStore {
  const byId = (id: string) =>
    prepared(`SELECT ${USER_COLUMNS}, password_hash FROM users WHERE id = ?`).get(id) as
      (UserRow & { password_hash: string }) | undefined;
  const byEmail = (email: string) =>
    prepared(`SELECT ${USER_COLUMNS}, password_hash FROM users WHERE email = ?`).get(email) as
      (UserRow & { password_hash: string }) | undefined;
  /** Enabled owners other than `id`. */
  const otherOwners = (id: string) =>
    (
      prepared("SELECT COUNT(*) AS n FROM users WHERE role = 'owner' AND disabled_at IS NULL AND id <> ?").get(id) as {
        n: number;
      }
    ).n;
  const isEnabledOwner = (user: StoredUser | User) => user.role === 'owner' && user.disabledAt === null;

  return {
    async countUsers() {
      return (prepared('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
    },

    createUser(input, options) {
      return writer.run(() => {
        if (options.firstOnly && (prepared('SELECT 1 FROM users LIMIT 1').get() as unknown) !== undefined) {
          return { status: 'users_exist' } as const;
        }
        if (byEmail(input.email)) return { status: 'email_taken' } as const;
        prepared(`
          INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`).run(
          input.id,
          input.email,
          input.role,
          input.passwordHash,
          input.now,
          input.now,
        );
        return { status: 'created', user: toUser(byId(input.id)!) } as const;
      });
    },

    async getUser(id) {
      const row = byId(id);
      return row ? toUser(row) : undefined;
    },

    async findUserByEmail(email) {
      const row = byEmail(email);
      return row ? toStoredUser(row) : undefined;
    },

    async listUsers() {
      return (prepared(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, id`).all() as UserRow[]).map(toUser);
    },

    updateUser(id, change: UserChange, now) {
      return writer.run(() => {
        const row = byId(id);
        if (!row) return { status: 'not_found' } as const;
        const user = toStoredUser(row);
        if (change.email !== undefined && change.email !== user.email && byEmail(change.email)) {
          return { status: 'email_taken' } as const;
        }
        const role = change.role ?? user.role;
        const disabledAt =
          change.disabled === undefined ? user.disabledAt : change.disabled ? (user.disabledAt ?? now) : null;
        if (isEnabledOwner(user) && (role !== 'owner' || disabledAt !== null) && otherOwners(id) === 0) {
          return { status: 'last_owner' } as const;
        }
        prepared(`
          UPDATE users SET email = ?, role = ?, password_hash = ?, disabled_at = ?, updated_at = ? WHERE id = ?`).run(
          change.email ?? user.email,
          role,
          change.passwordHash ?? user.passwordHash,
          disabledAt,
          now,
          id,
        );
        if (change.passwordHash !== undefined || disabledAt !== null) {
          prepared('DELETE FROM sessions WHERE user_id = ?').run(id);
        }
        return { status: 'updated', user: toUser(byId(id)!) } as const;
      });
    },

    deleteUser(id) {
      return writer.run(() => {
        const row = byId(id);
        if (!row) return 'not_found' as const;
        if (isEnabledOwner(toUser(row)) && otherOwners(id) === 0) return 'last_owner' as const;
        prepared('DELETE FROM sessions WHERE user_id = ?').run(id);
        prepared('DELETE FROM users WHERE id = ?').run(id);
        return 'deleted' as const;
      });
    },

    async createSession(session) {
      await writer.run(() =>
        prepared(`
          INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, csrf_token)
          VALUES (?, ?, ?, ?, ?, ?)`).run(
          session.id,
          session.userId,
          session.createdAt,
          session.lastSeenAt,
          session.expiresAt,
          session.csrfToken,
        ),
      );
    },

    async findSession(id) {
      const row = prepared(`SELECT ${SESSION_WITH_USER} WHERE s.id = ? AND u.disabled_at IS NULL`).get(id) as
        SessionWithUserRow | undefined;
      return row ? toSessionWithUser(row) : undefined;
    },

    async touchSession(id, at) {
      await writer.run(() =>
        prepared('UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?').run(at, id),
      );
    },

    async deleteSession(id) {
      await writer.run(() => prepared('DELETE FROM sessions WHERE id = ?').run(id));
    },

    deleteUserSessions(userId) {
      return writer.run(() => prepared('DELETE FROM sessions WHERE user_id = ?').run(userId).changes);
    },

    pruneSessions(now, idleBefore) {
      return writer.run(
        () => prepared('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?').run(now, idleBefore).changes,
      );
    },

    async recordLoginFailure(failure) {
      await writer.run(() =>
        prepared('INSERT INTO login_failures (email, address, at) VALUES (?, ?, ?)').run(
          failure.email,
          failure.address,
          failure.at,
        ),
      );
    },

    async countLoginFailures({ email, address, since }) {
      const count = (column: 'email' | 'address', value: string) => {
        const row = prepared(
          `SELECT COUNT(*) AS count, MIN(at) AS oldest FROM login_failures WHERE ${column} = ? AND at > ?`,
        ).get(value, since) as { count: number; oldest: number | null };
        return { count: row.count, oldestAt: row.oldest };
      };
      return { email: count('email', email), address: count('address', address) };
    },

    async clearLoginFailures(email) {
      await writer.run(() => prepared('DELETE FROM login_failures WHERE email = ?').run(email));
    },

    pruneLoginFailures(before) {
      return writer.run(() => prepared('DELETE FROM login_failures WHERE at <= ?').run(before).changes);
    },
  };
}
