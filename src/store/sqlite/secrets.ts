import type { Statement } from 'better-sqlite3';
import type { SecretStore } from '../../core/store.js';
import type { SqliteWriter } from './sqlite-writer.js';

/** The sealing key's fingerprint and the inbox secrets as stored, on SQLite. */
export function sqliteSecretMethods(prepared: (sql: string) => Statement, writer: SqliteWriter): SecretStore {
  return {
    claimSealingKey(keyId) {
      return writer.run(() => {
        prepared('INSERT INTO sealing_key (singleton, key_id) VALUES (1, ?) ON CONFLICT (singleton) DO NOTHING').run(
          keyId,
        );
        return (prepared('SELECT key_id FROM sealing_key').get() as { key_id: string }).key_id;
      });
    },

    async listInboxSecrets() {
      const rows = prepared('SELECT environment_id, secret FROM inbox_settings').all() as {
        environment_id: string;
        secret: string;
      }[];
      return rows.map((row) => ({ environmentId: row.environment_id, secret: row.secret }));
    },

    replaceInboxSecret(env, expected, replacement) {
      return writer.run(
        () =>
          prepared('UPDATE inbox_settings SET secret = ? WHERE environment_id = ? AND secret = ?').run(
            replacement,
            env,
            expected,
          ).changes > 0,
      );
    },
  };
}
