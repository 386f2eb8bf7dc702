import type pg from 'pg';
import type { RunState, RunWorkResult } from '../../core/runs.js';
import { RollupTally } from '../../core/message-stats.js';
import type { MessageChannel, MessageStatus } from '../../core/types.js';
import { addToRollup } from './message-stats.js';

/**
 * Run engine decisions applied on PostgreSQL (advanceRuns in advance-runs.ts, closeDigests in
 * close-digests.ts), each call in one transaction that other processes' workers may run at the
 * same time as theirs. What a call decides is written at its end by one statement (RunWrites).
 *
 * Locks are taken in one order everywhere, so concurrent calls wait for each other instead of
 * deadlocking: runs by id (an advance locks each with its timer; cancelRuns locks them, then their
 * timers), then messages, then throttle scopes (advisory locks, by hash), then digests (by
 * environment and scope, compared as JavaScript strings). A closing locks its digest before the
 * member runs, which is safe because a run being advanced is never a member (a member is
 * `digesting` and has no timer, and an advance locks only runs with one).
 */

/** A run an advance may move: its timer held by the advancing worker, its row locked. */
export interface LockedRun {
  id: string;
  environment_id: string;
  trigger_id: string;
  subscriber_id: string;
  state: RunState;
  step_index: number;
  locked_by: string | null;
}

export type Changed = RunWorkResult['statuses'][number];

/**
 * Everything a call decided, in one statement: runs moved (a digest id or digest given replaces
 * the stored one), timers deleted or set (a set timer is due anew and unheld), and the pending
 * messages of runs that ended, ended with them (messages_by_run). Returns the messages ended.
 */
const APPLY = `
  WITH moved AS (
    UPDATE runs SET state = u.state, step_index = u.step_index, reason = u.reason, updated_at = $1,
      digest_id = COALESCE(u.digest_id, runs.digest_id), digest = COALESCE(u.digest, runs.digest)
    FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
      AS u(id, state, step_index, reason, digest_id, digest)
    WHERE runs.id = u.id
  ), dropped AS (
    DELETE FROM run_timers WHERE id = ANY($8::text[])
  ), timed AS (
    INSERT INTO run_timers (id, kind, environment_id, due_at)
    SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::bigint[])
    ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, locked_by = NULL, claims = 0
  )
  UPDATE messages SET status = u.status, reason = u.reason, updated_at = $1
  FROM unnest($13::text[], $14::text[], $15::text[], $16::text[]) AS u(trigger_id, subscriber_id, status, reason)
  WHERE messages.trigger_id = u.trigger_id AND messages.subscriber_id = u.subscriber_id
    AND messages.status = 'pending'
  RETURNING messages.environment_id, messages.channel, messages.status`;

interface Move {
  id: string;
  state: RunState;
  stepIndex: number;
  reason: string | null;
  digestId: string | null;
  digest: string | null;
}

/** What a call writes at its end (APPLY). Each run appears at most once. */
export class RunWrites {
  readonly moves: Move[] = [];
  readonly timersDropped: string[] = [];
  readonly timersSet: { id: string; kind: 'run' | 'digest'; env: string; due: number }[] = [];
  readonly ended: { triggerId: string; subscriberId: string; status: MessageStatus; reason: string }[] = [];
  /** Messages the call ended (skipped, failed, …): added to the rollup by apply, in the same transaction. */
  readonly tally = new RollupTally();

  move(
    id: string,
    state: RunState,
    stepIndex: number,
    extra: Partial<Pick<Move, 'reason' | 'digestId' | 'digest'>> = {},
  ) {
    this.moves.push({
      id,
      state,
      stepIndex,
      reason: extra.reason ?? null,
      digestId: extra.digestId ?? null,
      digest: extra.digest ?? null,
    });
  }

  /** The run ends where it is, its pending messages with it. */
  endRun(run: LockedRun, state: RunState, status: MessageStatus, reason: string) {
    this.move(run.id, state, run.step_index, { reason });
    this.ended.push({ triggerId: run.trigger_id, subscriberId: run.subscriber_id, status, reason });
    this.timersDropped.push(run.id);
  }

  async apply(client: pg.PoolClient, now: number): Promise<Changed[]> {
    if (this.moves.length === 0 && this.timersDropped.length === 0 && this.timersSet.length === 0) {
      await addToRollup(client, this.tally);
      return [];
    }
    const { moves, timersSet: timers, ended } = this;
    const { rows } = await client.query<{ environment_id: string; channel: MessageChannel; status: MessageStatus }>({
      name: 'herald_apply_run_writes',
      text: APPLY,
      values: [
        now,
        moves.map((m) => m.id),
        moves.map((m) => m.state),
        moves.map((m) => m.stepIndex),
        moves.map((m) => m.reason),
        moves.map((m) => m.digestId),
        moves.map((m) => m.digest),
        this.timersDropped,
        timers.map((t) => t.id),
        timers.map((t) => t.kind),
        timers.map((t) => t.env),
        timers.map((t) => t.due),
        ended.map((e) => e.triggerId),
        ended.map((e) => e.subscriberId),
        ended.map((e) => e.status),
        ended.map((e) => e.reason),
      ],
    });
    for (const row of rows) this.tally.add(row.environment_id, row.channel, row.status, now);
    await addToRollup(client, this.tally);
    return rows.map((row) => ({ channel: row.channel, status: row.status }));
  }

  /** Whether anything became due now: workers of every process should look. */
  dueNow(now: number): boolean {
    return this.timersSet.some((t) => t.due <= now);
  }
}

/** Digests and their closings are locked in this order (JavaScript string order, the same everywhere). */
export function scopeOrder(a: { env: string; scope: string }, b: { env: string; scope: string }): number {
  if (a.env !== b.env) return a.env < b.env ? -1 : 1;
  return a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0;
}
