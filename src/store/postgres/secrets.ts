import type pg from 'pg';
import type { SecretStore } from '../../core/store.js';

/** The sealing key's fingerprint and the inbox secrets as stored, on PostgreSQL. */
export function postgresSecretMethods(pool: pg.Pool): SecretStore {
  return {
    async claimSealingKey(keyId) {
      // Two processes claiming at once: the second insert waits for the first to commit, does
      // nothing, and the read (a statement of its own, a new snapshot) sees the winner.
      await pool.query(
        'INSERT INTO sealing_key (singleton, key_id) VALUES (1, $1) ON CONFLICT (singleton) DO NOTHING',
        [keyId],
      );
      const { rows } = await pool.query<{ key_id: string }>('SELECT key_id FROM sealing_key');
      return rows[0]!.key_id;
    },

    async listInboxSecrets() {
      const { rows } = await pool.query<{ environment_id: string; secret: string }>(
        'SELECT environment_id, secret FROM inbox_settings',
      );
      return rows.map((row) => ({ environmentId: row.environment_id, secret: row.secret }));
    },

    async replaceInboxSecret(env, expected, replacement) {
      const { rowCount } = await pool.query(
        'UPDATE inbox_settings SET secret = $3 WHERE environment_id = $1 AND secret = $2',
        [env, expected, replacement],
      );
      return (rowCount ?? 0) > 0;
    },
  };
}
