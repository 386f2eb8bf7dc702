import type { MessageChannel, MessageStatus } from './types.js';

/**
 * The message rollup: how many messages reached each final status, per environment, UTC hour of
 * the outcome, channel and status. Stores keep it in the transaction that records the outcome
 * (one upsert per group of a batch), so the dashboard's charts never scan the delivery log.
 */

/** The statuses the rollup counts: outcomes that do not change any more. */
export const ROLLUP_STATUSES = ['sent', 'failed', 'skipped', 'canceled'] as const;
export type RollupStatus = (typeof ROLLUP_STATUSES)[number];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** One row of the rollup. `hour` is the epoch ms the UTC hour starts at. */
export interface RollupCount {
  environmentId: string;
  hour: number;
  channel: MessageChannel;
  status: RollupStatus;
  count: number;
}

export function hourOf(at: number): number {
  return at - (((at % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

/**
 * The status a message counts under: an in-app message seen, read or archived was sent; statuses
 * on the way (pending, retrying, …) and the run's throttled or digested count under none.
 */
export function rollupStatus(status: MessageStatus | string): RollupStatus | undefined {
  switch (status) {
    case 'sent':
    case 'seen':
    case 'read':
    case 'archived':
      return 'sent';
    case 'failed':
    case 'skipped':
    case 'canceled':
      return status;
    default:
      return undefined;
  }
}

/**
 * Sums a batch's changes to the rollup by group, so that a store writes one upsert per group, not
 * one per message. A message that leaves a counted status (delivered again after a lost lease, or
 * canceled while its send was in flight) is taken off the group it was counted in.
 */
export class RollupTally {
  private readonly groups = new Map<string, RollupCount>();

  /** A message of `channel` reached `status` at `at`; statuses the rollup does not count are ignored. */
  add(environmentId: string, channel: MessageChannel, status: MessageStatus | string, at: number, delta = 1): void {
    const counted = rollupStatus(status);
    if (counted === undefined) return;
    const hour = hourOf(at);
    const key = `${environmentId}\u0000${hour}\u0000${channel}\u0000${counted}`;
    const group = this.groups.get(key);
    if (group) group.count += delta;
    else this.groups.set(key, { environmentId, hour, channel, status: counted, count: delta });
  }

  /** The groups with a change, in key order (PostgreSQL locks them in this order: no deadlocks). */
  counts(): RollupCount[] {
    return [...this.groups.values()]
      .filter((g) => g.count !== 0)
      .sort(
        (a, b) =>
          compare(a.environmentId, b.environmentId) ||
          a.hour - b.hour ||
          compare(a.channel, b.channel) ||
          compare(a.status, b.status),
      );
  }

  get size(): number {
    return this.groups.size;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type StatsBucket = 'hour' | 'day';

/** One point of a series: the bucket's start (epoch ms, UTC) and its count. */
export interface StatsPoint {
  at: number;
  count: number;
}

/** The counts of one channel and status over time, one point per bucket with messages. */
export interface StatsSeries {
  channel: MessageChannel;
  status: RollupStatus;
  total: number;
  points: StatsPoint[];
}

/**
 * Rollup rows as series per channel and status: by hour as stored, or by UTC day (the sum of its
 * hours). Series and points come in order; buckets without messages are left out.
 */
export function toSeries(rows: readonly RollupCount[], bucket: StatsBucket): StatsSeries[] {
  const size = bucket === 'day' ? DAY_MS : HOUR_MS;
  const series = new Map<string, { series: StatsSeries; points: Map<number, number> }>();
  for (const row of rows) {
    if (row.count === 0) continue;
    const key = `${row.channel}\u0000${row.status}`;
    let entry = series.get(key);
    if (!entry) {
      entry = { series: { channel: row.channel, status: row.status, total: 0, points: [] }, points: new Map() };
      series.set(key, entry);
    }
    const at = row.hour - (((row.hour % size) + size) % size);
    entry.points.set(at, (entry.points.get(at) ?? 0) + row.count);
    entry.series.total += row.count;
  }
  return [...series.values()]
    .map(({ series: s, points }) => ({
      ...s,
      points: [...points].sort((a, b) => a[0] - b[0]).map(([at, count]) => ({ at, count })),
    }))
    .sort((a, b) => compare(a.channel, b.channel) || compare(a.status, b.status));
}
