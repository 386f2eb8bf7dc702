import type pg from 'pg';
import type { IntegrationStore } from '../../core/store.js';
import {
  INTEGRATION_INSERT_COLUMNS,
  integrationValues,
  toIntegration,
  withoutPushDevices,
  type IntegrationRow,
} from '../rows.js';

/** Integrations and push-device upkeep on PostgreSQL. All lookups are primary keys. */
export function postgresIntegrationMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
): IntegrationStore {
  return {
    async putIntegration(integration) {
      // xmax = 0 only on a row this statement inserted: tells a create from a replace in one trip.
      const { rows } = await pool.query<IntegrationRow & { created: boolean }>(
        `INSERT INTO integrations (${INTEGRATION_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (environment_id, id) DO UPDATE SET channel = excluded.channel, provider = excluded.provider,
           config = excluded.config, secrets = excluded.secrets, priority = excluded.priority,
           enabled = excluded.enabled, rate_limit = excluded.rate_limit, updated_at = excluded.updated_at
         RETURNING *, (xmax = 0) AS created`,
        integrationValues(integration),
      );
      return { integration: toIntegration(rows[0]!), created: rows[0]!.created };
    },

    async getIntegration(env, id) {
      const { rows } = await pool.query<IntegrationRow>(
        'SELECT * FROM integrations WHERE environment_id = $1 AND id = $2',
        [env, id],
      );
      return rows[0] ? toIntegration(rows[0]) : undefined;
    },

    async listIntegrations(env) {
      const { rows } = await pool.query<IntegrationRow>(
        'SELECT * FROM integrations WHERE environment_id = $1 ORDER BY channel, priority, id',
        [env],
      );
      return rows.map(toIntegration);
    },

    async deleteIntegration(env, id) {
      const { rowCount } = await pool.query('DELETE FROM integrations WHERE environment_id = $1 AND id = $2', [
        env,
        id,
      ]);
      return (rowCount ?? 0) > 0;
    },

    async recordCircuit(env, id, circuit) {
      await pool.query('UPDATE integrations SET circuit = $1 WHERE environment_id = $2 AND id = $3', [
        JSON.stringify(circuit),
        env,
        id,
      ]);
    },

    async removePushDevices(env, subscriberId, kind, gone) {
      await transaction(async (client) => {
        const { rows } = await client.query<{ channels: string | null }>(
          'SELECT channels FROM subscribers WHERE environment_id = $1 AND subscriber_id = $2 FOR UPDATE',
          [env, subscriberId],
        );
        const next = rows[0] ? withoutPushDevices(rows[0].channels, kind, gone) : undefined;
        if (next === undefined) return;
        await client.query('UPDATE subscribers SET channels = $1 WHERE environment_id = $2 AND subscriber_id = $3', [
          next,
          env,
          subscriberId,
        ]);
      });
    },
  };
}
