import type pg from 'pg';
import type { StoredIdempotency, TriggerPlan, TriggerStore } from '../../core/store.js';
import { rowQueries } from './connection.js';
import type { PostgresGroupCommit } from './group-commit.js';

/**
 * Accepted triggers and idempotency records on PostgreSQL. Commits go through `triggers`, the
 * group commit the assembly (postgres-store.ts) drains on close; the SQL is in commit-trigger.ts.
 */
export function postgresTriggerMethods(pool: pg.Pool, triggers: PostgresGroupCommit<TriggerPlan>): TriggerStore {
  const { query, named } = rowQueries(pool);
  return {
    async findIdempotency(env, key, since) {
      const [row] = await query<{ body_hash: string; response: string }>(
        `SELECT body_hash, response FROM idempotency_keys
         WHERE environment_id = $1 AND key = $2 AND created_at >= $3`,
        [env, key, since],
      );
      return row ? ({ bodyHash: row.body_hash, responseJson: row.response } satisfies StoredIdempotency) : undefined;
    },

    commitTrigger(plan) {
      return triggers.run(plan);
    },

    async getTriggerData(triggerIds) {
      const rows = await named<{ id: string; data: string }>(
        'herald_trigger_data',
        'SELECT id, data FROM triggers WHERE id = ANY($1::text[])',
        [triggerIds],
      );
      return new Map(rows.map((row) => [row.id, JSON.parse(row.data) as Record<string, unknown>]));
    },

    async pruneIdempotency(before) {
      // idempotency_keys_by_created_at
      const result = await pool.query('DELETE FROM idempotency_keys WHERE created_at < $1', [before]);
      return result.rowCount ?? 0;
    },
  };
}
