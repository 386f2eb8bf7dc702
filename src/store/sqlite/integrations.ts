import type { Statement } from 'better-sqlite3';
import type { IntegrationStore } from '../../core/store.js';
import {
  INTEGRATION_INSERT_COLUMNS,
  integrationValues,
  toIntegration,
  withoutPushDevices,
  type IntegrationRow,
} from '../rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/** Integrations and push-device upkeep on SQLite. All lookups are primary keys. */
export function sqliteIntegrationMethods(prepared: (sql: string) => Statement, writer: SqliteWriter): IntegrationStore {
  const get = (env: string, id: string) => {
    const row = prepared('SELECT * FROM integrations WHERE environment_id = ? AND id = ?').get(env, id) as
      IntegrationRow | undefined;
    return row ? toIntegration(row) : undefined;
  };
  return {
    putIntegration(integration) {
      return writer.run(() => {
        const existing = get(integration.environmentId, integration.id);
        const values = integrationValues({ ...integration, createdAt: existing?.createdAt ?? integration.createdAt });
        values[7] = values[7] ? 1 : 0; // enabled: SQLite has no booleans
        prepared(`
          INSERT INTO integrations (${INTEGRATION_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (environment_id, id) DO UPDATE SET channel = excluded.channel, provider = excluded.provider,
            config = excluded.config, secrets = excluded.secrets, priority = excluded.priority,
            enabled = excluded.enabled, rate_limit = excluded.rate_limit, updated_at = excluded.updated_at`).run(
          ...values,
        );
        return { integration: get(integration.environmentId, integration.id)!, created: existing === undefined };
      });
    },

    async getIntegration(env, id) {
      return get(env, id);
    },

    async listIntegrations(env) {
      const rows = prepared('SELECT * FROM integrations WHERE environment_id = ? ORDER BY channel, priority, id').all(
        env,
      ) as IntegrationRow[];
      return rows.map(toIntegration);
    },

    deleteIntegration(env, id) {
      return writer.run(
        () => prepared('DELETE FROM integrations WHERE environment_id = ? AND id = ?').run(env, id).changes > 0,
      );
    },

    async recordCircuit(env, id, circuit) {
      await writer.run(() =>
        prepared('UPDATE integrations SET circuit = ? WHERE environment_id = ? AND id = ?').run(
          JSON.stringify(circuit),
          env,
          id,
        ),
      );
    },

    async removePushDevices(env, subscriberId, kind, gone) {
      await writer.run(() => {
        const row = prepared('SELECT channels FROM subscribers WHERE environment_id = ? AND subscriber_id = ?').get(
          env,
          subscriberId,
        ) as { channels: string | null } | undefined;
        const next = row ? withoutPushDevices(row.channels, kind, gone) : undefined;
        if (next === undefined) return;
        prepared('UPDATE subscribers SET channels = ? WHERE environment_id = ? AND subscriber_id = ?').run(
          next,
          env,
          subscriberId,
        );
      });
    },
  };
}
