import type pg from 'pg';
import type { ApiKeyStore } from '../../core/store.js';
import { API_KEY_COLUMNS, toApiKey, type ApiKeyRow } from '../api-key-rows.js';

/**
 * API keys on PostgreSQL. Lookups by hash use the primary key, by id api_keys_by_id, and lists
 * api_keys_by_environment.
 */
export function postgresApiKeyMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
): ApiKeyStore {
  type Row = ApiKeyRow & { revoked_at: number | null };
  return {
    async addApiKey(input) {
      const { rows } = await pool.query<Row>(
        `INSERT INTO api_keys (hash, id, environment_id, name, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (hash) DO NOTHING RETURNING ${API_KEY_COLUMNS}, revoked_at`,
        [input.hash, input.id, input.environmentId, input.name, input.prefix, input.createdAt],
      );
      if (rows[0]) return { status: 'added', key: toApiKey(rows[0]) };
      // Taken: read it in a statement of its own, whose snapshot sees a concurrent insert that won.
      const [existing] = (
        await pool.query<Row>(`SELECT ${API_KEY_COLUMNS}, revoked_at FROM api_keys WHERE hash = $1`, [input.hash])
      ).rows;
      return { status: existing!.revoked_at === null ? 'exists' : 'revoked', key: toApiKey(existing!) };
    },

    async findApiKeyByHash(hash) {
      const { rows } = await pool.query<{ id: string; environment_id: string }>({
        name: 'herald_find_api_key',
        text: 'SELECT id, environment_id FROM api_keys WHERE hash = $1 AND revoked_at IS NULL',
        values: [hash],
      });
      return rows[0] ? { id: rows[0].id, environmentId: rows[0].environment_id } : undefined;
    },

    async listApiKeys(env) {
      const { rows } = await pool.query<ApiKeyRow>(
        `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE environment_id = $1 AND revoked_at IS NULL
         ORDER BY created_at, id`,
        [env],
      );
      return rows.map(toApiKey);
    },

    revokeApiKey(env, id, now) {
      return transaction(async (client) => {
        // Revocations in one environment take turns, so two at once cannot both see another key left.
        await client.query('SELECT id FROM environments WHERE id = $1 FOR UPDATE', [env]);
        const { rows } = await client.query<{ id: string }>(
          'SELECT id FROM api_keys WHERE environment_id = $1 AND revoked_at IS NULL',
          [env],
        );
        if (!rows.some((key) => key.id === id)) return 'not_found' as const;
        if (rows.length === 1) return 'last_key' as const;
        await client.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1', [id, now]);
        return 'revoked' as const;
      });
    },

    async recordApiKeyUse(uses) {
      if (uses.length === 0) return;
      await pool.query(
        `UPDATE api_keys k SET last_used_at = GREATEST(COALESCE(k.last_used_at, 0), u.at)
         FROM unnest($1::text[], $2::bigint[]) AS u(id, at) WHERE k.id = u.id`,
        [uses.map((use) => use.id), uses.map((use) => use.at)],
      );
    },
  };
}
