import type pg from 'pg';
import { hourOf, type RollupCount, type RollupTally } from '../../core/message-stats.js';
import type { MessageStatsStore } from '../../core/store.js';

/**
 * Upserts rollup groups, locked in key order (as the completion statement locks them), so two
 * transactions adding to the same hours wait for each other instead of deadlocking.
 */
const ADD = `
  INSERT INTO message_rollup AS r (environment_id, hour, channel, status, count)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (environment_id, hour, channel, status) DO UPDATE SET count = r.count + excluded.count`;

/** Adds a tally to the rollup in the caller's transaction: one statement for all its groups. */
export async function addToRollup(client: pg.PoolClient, tally: RollupTally): Promise<void> {
  if (tally.size === 0) return;
  const groups = tally.counts();
  if (groups.length === 0) return;
  await client.query({
    name: 'herald_add_to_rollup',
    text: ADD,
    values: [
      groups.map((g) => g.environmentId),
      groups.map((g) => g.hour),
      groups.map((g) => g.channel),
      groups.map((g) => g.status),
      groups.map((g) => g.count),
    ],
  });
}

/** The rollup read by the overview and pruned by retention, on PostgreSQL. */
export function postgresMessageStatsMethods(pool: pg.Pool): MessageStatsStore {
  return {
    async messageRollup(environmentId, since, until) {
      // message_rollup_pkey: one environment, a range of hours.
      const { rows } = await pool.query<RollupCount>(
        `SELECT environment_id AS "environmentId", hour, channel, status, count FROM message_rollup
         WHERE environment_id = $1 AND hour >= $2 AND hour < $3 AND count <> 0 ORDER BY hour, channel, status`,
        [environmentId, hourOf(since), until],
      );
      return rows;
    },
    async pruneMessageRollup(before) {
      const result = await pool.query('DELETE FROM message_rollup WHERE hour < $1', [hourOf(before)]);
      return result.rowCount ?? 0;
    },
  };
}
