import type { Database } from 'better-sqlite3';
import { hourOf, type RollupCount, type RollupTally } from '../../core/message-stats.js';
import type { MessageStatsStore } from '../../core/store.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * Adds a batch's tally to the rollup: one upsert per group (message_rollup's primary key), inside
 * the writer's transaction that gave the messages their status.
 */
export function prepareAddToRollup(db: Database): (tally: RollupTally) => void {
  const upsert = db.prepare(`
    INSERT INTO message_rollup (environment_id, hour, channel, status, count) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (environment_id, hour, channel, status) DO UPDATE SET count = count + excluded.count`);
  return (tally) => {
    if (tally.size === 0) return;
    for (const g of tally.counts()) upsert.run(g.environmentId, g.hour, g.channel, g.status, g.count);
  };
}

/** The rollup read by the overview and pruned by retention, on SQLite. */
export function sqliteMessageStatsMethods(db: Database, writer: SqliteWriter): MessageStatsStore {
  // message_rollup's primary key: one environment, a range of hours.
  const read = db.prepare(`
    SELECT environment_id AS environmentId, hour, channel, status, count FROM message_rollup
    WHERE environment_id = ? AND hour >= ? AND hour < ? AND count <> 0 ORDER BY hour, channel, status`);
  const prune = db.prepare('DELETE FROM message_rollup WHERE hour < ?');
  return {
    async messageRollup(environmentId, since, until) {
      return read.all(environmentId, hourOf(since), until) as RollupCount[];
    },
    pruneMessageRollup(before) {
      // Hours that ended before `before`: the hour `before` falls in stays whole.
      return writer.run(() => prune.run(hourOf(before)).changes);
    },
  };
}
