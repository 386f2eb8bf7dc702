import type { Statement } from 'better-sqlite3';
import type { ApiKeyStore } from '../../core/store.js';
import { API_KEY_COLUMNS, toApiKey, type ApiKeyRow } from '../api-key-rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * API keys on SQLite. Lookups by hash use the primary key, by id its unique index, and lists
 * api_keys_by_environment. Every write runs in the one writer, so checks and writes cannot interleave.
 */
export function sqliteApiKeyMethods(prepared: (sql: string) => Statement, writer: SqliteWriter): ApiKeyStore {
  const byHash = (hash: string) =>
    prepared(`SELECT ${API_KEY_COLUMNS}, revoked_at FROM api_keys WHERE hash = ?`).get(hash) as
      (ApiKeyRow & { revoked_at: number | null }) | undefined;
  return {
    addApiKey(input) {
      return writer.run(() => {
        const existing = byHash(input.hash);
        if (existing) {
          return { status: existing.revoked_at === null ? 'exists' : 'revoked', key: toApiKey(existing) } as const;
        }
        prepared(`
          INSERT INTO api_keys (hash, id, environment_id, name, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)`).run(
          input.hash,
          input.id,
          input.environmentId,
          input.name,
          input.prefix,
          input.createdAt,
        );
        return { status: 'added', key: toApiKey(byHash(input.hash)!) } as const;
      });
    },

    async findApiKeyByHash(hash) {
      const row = prepared('SELECT id, environment_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL').get(
        hash,
      ) as { id: string; environment_id: string } | undefined;
      return row ? { id: row.id, environmentId: row.environment_id } : undefined;
    },

    async listApiKeys(env) {
      const rows = prepared(`
        SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE environment_id = ? AND revoked_at IS NULL
        ORDER BY created_at, id`).all(env) as ApiKeyRow[];
      return rows.map(toApiKey);
    },

    revokeApiKey(env, id, now) {
      return writer.run(() => {
        const live = prepared('SELECT id FROM api_keys WHERE environment_id = ? AND revoked_at IS NULL').all(env) as {
          id: string;
        }[];
        if (!live.some((key) => key.id === id)) return 'not_found' as const;
        if (live.length === 1) return 'last_key' as const;
        prepared('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(now, id);
        return 'revoked' as const;
      });
    },

    async recordApiKeyUse(uses) {
      if (uses.length === 0) return;
      const touch = prepared('UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?');
      await writer.run(() => {
        for (const use of uses) touch.run(use.at, use.id);
      });
    },
  };
}
