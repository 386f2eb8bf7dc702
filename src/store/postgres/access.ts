import type pg from 'pg';
import type { AccessStore, UserChange } from '../../core/store.js';
import {
  SESSION_WITH_USER,
  toSessionWithUser,
  toStoredUser,
  toUser,
  USER_COLUMNS,
  type SessionWithUserRow,
  type UserRow,
} from '../access-rows.js';

/**
 * Dashboard users, sessions and failed logins on PostgreSQL. Changes that check an invariant
 * across users (the first user, the last enabled owner, a free email) lock the users table against
 * other such changes for their transaction (SHARE ROW EXCLUSIVE conflicts with itself, not with
 * reads), so two processes cannot both pass the check. Sessions are read by their primary key, a
 * user's by sessions_by_user; failures by login_failures_by_email and login_failures_by_address.
 */
export function postgresAccessMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
): AccessStore {
  type FullRow = UserRow & { password_hash: string };
  const lockUsers = (client: pg.PoolClient) => client.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
  const byId = async (client: pg.ClientBase | pg.Pool, id: string) =>
    (await client.query<FullRow>(`SELECT ${USER_COLUMNS}, password_hash FROM users WHERE id = $1`, [id])).rows[0];
  const emailTaken = async (client: pg.ClientBase, email: string) =>
    (await client.query('SELECT 1 FROM users WHERE email = $1', [email])).rowCount! > 0;
  const otherOwners = async (client: pg.ClientBase, id: string) =>
    Number(
      (
        await client.query<{ n: string }>(
          "SELECT COUNT(*) AS n FROM users WHERE role = 'owner' AND disabled_at IS NULL AND id <> $1",
          [id],
        )
      ).rows[0]!.n,
    );

  return {
    async countUsers() {
      return Number((await pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM users')).rows[0]!.n);
    },

    createUser(input, options) {
      return transaction(async (client) => {
        await lockUsers(client);
        if (options.firstOnly && (await client.query('SELECT 1 FROM users LIMIT 1')).rowCount! > 0) {
          return { status: 'users_exist' } as const;
        }
        if (await emailTaken(client, input.email)) return { status: 'email_taken' } as const;
        const { rows } = await client.query<UserRow>(
          `INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
           RETURNING ${USER_COLUMNS}`,
          [input.id, input.email, input.role, input.passwordHash, input.now],
        );
        return { status: 'created', user: toUser(rows[0]!) } as const;
      });
    },

    async getUser(id) {
      const row = await byId(pool, id);
      return row ? toUser(row) : undefined;
    },

    async findUserByEmail(email) {
      const { rows } = await pool.query<FullRow>(`SELECT ${USER_COLUMNS}, password_hash FROM users WHERE email = $1`, [
        email,
      ]);
      return rows[0] ? toStoredUser(rows[0]) : undefined;
    },

    async listUsers() {
      return (await pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, id`)).rows.map(toUser);
    },

    updateUser(id, change: UserChange, now) {
      return transaction(async (client) => {
        await lockUsers(client);
        const row = await byId(client, id);
        if (!row) return { status: 'not_found' } as const;
        const user = toStoredUser(row);
        if (change.email !== undefined && change.email !== user.email && (await emailTaken(client, change.email))) {
          return { status: 'email_taken' } as const;
        }
        const role = change.role ?? user.role;
        const disabledAt =
          change.disabled === undefined ? user.disabledAt : change.disabled ? (user.disabledAt ?? now) : null;
        const wasOwner = user.role === 'owner' && user.disabledAt === null;
        if (wasOwner && (role !== 'owner' || disabledAt !== null) && (await otherOwners(client, id)) === 0) {
          return { status: 'last_owner' } as const;
        }
        const { rows } = await client.query<UserRow>(
          `UPDATE users SET email = $2, role = $3, password_hash = $4, disabled_at = $5, updated_at = $6 WHERE id = $1
           RETURNING ${USER_COLUMNS}`,
          [id, change.email ?? user.email, role, change.passwordHash ?? user.passwordHash, disabledAt, now],
        );
        if (change.passwordHash !== undefined || disabledAt !== null) {
          await client.query('DELETE FROM sessions WHERE user_id = $1', [id]);
        }
        return { status: 'updated', user: toUser(rows[0]!) } as const;
      });
    },

    deleteUser(id) {
      return transaction(async (client) => {
        await lockUsers(client);
        const row = await byId(client, id);
        if (!row) return 'not_found' as const;
        const user = toUser(row);
        if (user.role === 'owner' && user.disabledAt === null && (await otherOwners(client, id)) === 0) {
          return 'last_owner' as const;
        }
        await client.query('DELETE FROM users WHERE id = $1', [id]); // sessions: ON DELETE CASCADE
        return 'deleted' as const;
      });
    },

    async createSession(session) {
      await pool.query(
        `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, csrf_token)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [session.id, session.userId, session.createdAt, session.lastSeenAt, session.expiresAt, session.csrfToken],
      );
    },

    async findSession(id) {
      const { rows } = await pool.query<SessionWithUserRow>({
        name: 'herald_find_session',
        text: `SELECT ${SESSION_WITH_USER} WHERE s.id = $1 AND u.disabled_at IS NULL`,
        values: [id],
      });
      return rows[0] ? toSessionWithUser(rows[0]) : undefined;
    },

    async touchSession(id, at) {
      await pool.query('UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id = $1', [id, at]);
    },

    async deleteSession(id) {
      await pool.query('DELETE FROM sessions WHERE id = $1', [id]);
    },

    async deleteUserSessions(userId) {
      return (await pool.query('DELETE FROM sessions WHERE user_id = $1', [userId])).rowCount ?? 0;
    },

    async pruneSessions(now, idleBefore) {
      return (
        (await pool.query('DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2', [now, idleBefore]))
          .rowCount ?? 0
      );
    },

    async recordLoginFailure(failure) {
      await pool.query('INSERT INTO login_failures (email, address, at) VALUES ($1, $2, $3)', [
        failure.email,
        failure.address,
        failure.at,
      ]);
    },

    async countLoginFailures({ email, address, since }) {
      const { rows } = await pool.query<{ kind: string; count: string; oldest: string | null }>(
        `SELECT 'email' AS kind, COUNT(*) AS count, MIN(at) AS oldest FROM login_failures WHERE email = $1 AND at > $3
         UNION ALL
         SELECT 'address', COUNT(*), MIN(at) FROM login_failures WHERE address = $2 AND at > $3`,
        [email, address, since],
      );
      const of = (kind: string) => {
        const row = rows.find((r) => r.kind === kind)!;
        return { count: Number(row.count), oldestAt: row.oldest === null ? null : Number(row.oldest) };
      };
      return { email: of('email'), address: of('address') };
    },

    async clearLoginFailures(email) {
      await pool.query('DELETE FROM login_failures WHERE email = $1', [email]);
    },

    async pruneLoginFailures(before) {
      return (await pool.query('DELETE FROM login_failures WHERE at <= $1', [before])).rowCount ?? 0;
    },
  };
}
