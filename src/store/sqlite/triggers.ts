import type { Database, Statement } from 'better-sqlite3';
import type { StoredIdempotency, TriggerStore } from '../../core/store.js';
import { prepareCommitTrigger } from './commit-trigger.js';
import type { SqliteWriter } from './sqlite-writer.js';

/** Accepted triggers and idempotency records on SQLite; the commit itself is in commit-trigger.ts. */
export function sqliteTriggerMethods(
  db: Database,
  prepared: (sql: string) => Statement,
  writer: SqliteWriter,
  idempotencyWindowMs: number,
): TriggerStore {
  const commitTrigger = prepareCommitTrigger(db, idempotencyWindowMs);
  return {
    async findIdempotency(env, key, since) {
      const row = prepared(`
        SELECT body_hash, response FROM idempotency_keys
        WHERE environment_id = ? AND key = ? AND created_at >= ?`).get(env, key, since) as
        { body_hash: string; response: string } | undefined;
      return row ? ({ bodyHash: row.body_hash, responseJson: row.response } satisfies StoredIdempotency) : undefined;
    },

    commitTrigger(plan) {
      return writer.run(() => commitTrigger(plan));
    },

    async getTriggerData(triggerIds) {
      const rows = prepared('SELECT id, data FROM triggers WHERE id IN (SELECT value FROM json_each(?))').all(
        JSON.stringify(triggerIds),
      ) as { id: string; data: string }[];
      return new Map(rows.map((row) => [row.id, JSON.parse(row.data) as Record<string, unknown>]));
    },

    pruneIdempotency(before) {
      return writer.run(() => prepared('DELETE FROM idempotency_keys WHERE created_at < ?').run(before).changes);
    },
  };
}
