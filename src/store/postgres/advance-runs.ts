import type pg from 'pg';
import { newId } from '../../core/ids.js';
import type { RunAdvance, RunNext, RunState } from '../../core/runs.js';
import type { MessageChannel } from '../../core/types.js';
import { RunWrites, scopeOrder, type Changed, type LockedRun } from './run-writes.js';

/** States a run is advanced from; `digesting` waits for its digest's close. */
const ADVANCING: readonly RunState[] = ['scheduled', 'active', 'waiting'];

/** The class (first key) of the advisory locks on throttle scopes: "RUNS" in ASCII. */
const THROTTLE_LOCK_CLASS = 0x52554e53;

/** How often a digest decision opens again after the digest it found closed meanwhile. */
const DIGEST_ATTEMPTS = 10;

/** runs_pkey and run_timers_pkey, locked in run id order. */
const LOCK_RUNS = `
  SELECT r.id, r.environment_id, r.trigger_id, r.subscriber_id, r.state, r.step_index, tm.locked_by
  FROM runs r JOIN run_timers tm ON tm.id = r.id
  WHERE r.id = ANY($1::text[])
  ORDER BY r.id
  FOR UPDATE OF r, tm`;

/** messages_pkey; a message the run reached gets its job (one per message: the job's id is its). */
const DISPATCH_AND_SKIP = `
  WITH dispatched AS (
    UPDATE messages SET status = 'queued', updated_at = $1
    WHERE id = ANY($2::text[]) AND status = 'pending'
    RETURNING id
  ), jobs_added AS (
    INSERT INTO jobs (id, message_id, available_at, created_at) SELECT id, id, $1, $1 FROM dispatched
  ), skipped AS (
    UPDATE messages SET status = 'skipped', reason = u.reason, updated_at = $1
    FROM unnest($3::text[], $4::text[]) AS u(id, reason)
    WHERE messages.id = u.id AND messages.status = 'pending'
    RETURNING messages.environment_id, messages.channel
  )
  SELECT environment_id, channel FROM skipped`;

/**
 * Throttle scopes, locked in hash order (equal hashes share a lock, which only makes them wait).
 * The counts are read by later statements: a statement's snapshot is taken when it starts, so a
 * count in this one could miss a hit committed while it waited for the lock.
 */
const LOCK_THROTTLES = `
  SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k) s
  ORDER BY h`;

/**
 * throttle_hits_by_scope: forgets the scope's hits out of the window (each scope keeps at most
 * `limit` rows), counts the window, and records this run's hit when under the limit.
 */
const THROTTLE_HIT = `
  WITH forgotten AS (
    DELETE FROM throttle_hits WHERE environment_id = $1 AND scope = $2 AND at <= $3
  ), hits AS (
    SELECT COUNT(*) AS n FROM throttle_hits WHERE environment_id = $1 AND scope = $2 AND at > $3
  ), hit AS (
    INSERT INTO throttle_hits (environment_id, scope, at) SELECT $1, $2, $4 FROM hits WHERE hits.n < $5
  )
  SELECT n FROM hits`;

/**
 * digests_by_scope. Opening waits for a concurrent opener of the scope (the unique index), and
 * opens only if there is none; the inserted row is locked until commit, so a concurrent closing
 * cannot close it before this run is in it.
 */
const OPEN_DIGEST = `
  INSERT INTO digests (id, environment_id, scope, step_index, mode, opened_at, closes_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (environment_id, scope) DO NOTHING
  RETURNING id`;

/** The open digest, locked: a closing under way is waited for, and then it is gone. */
const JOIN_DIGEST = 'SELECT id FROM digests WHERE environment_id = $1 AND scope = $2 FOR UPDATE';

/**
 * Applies advances (Store.advanceRuns) in the caller's transaction. Each applies only if its
 * worker still holds the run's timer and the run is still at `fromStepIndex` in a state it is
 * advanced from; otherwise it is dropped. Returns the message statuses changed, and whether
 * anything became due now.
 */
export async function applyAdvances(
  client: pg.PoolClient,
  advances: readonly RunAdvance[],
  now: number,
): Promise<{ statuses: Changed[]; dueNow: boolean }> {
  // A second advance of one run in a call never applies: the first drops or re-arms its timer.
  const byRun = new Map<string, RunAdvance>();
  for (const advance of advances) if (!byRun.has(advance.runId)) byRun.set(advance.runId, advance);
  if (byRun.size === 0) return { statuses: [], dueNow: false };
  const { rows: locked } = await client.query<LockedRun>({
    name: 'herald_lock_runs',
    text: LOCK_RUNS,
    values: [[...byRun.keys()]],
  });
  const runs = new Map(locked.map((run) => [run.id, run] as const));
  // In the callers' order, as SQLite's single writer applies them.
  const valid = [...byRun.values()].filter((advance) => {
    const run = runs.get(advance.runId);
    // Another worker took the run over (a lost lease), or it moved or ended meanwhile.
    return (
      run !== undefined &&
      run.locked_by === advance.workerId &&
      run.step_index === advance.fromStepIndex &&
      ADVANCING.includes(run.state)
    );
  });
  if (valid.length === 0) return { statuses: [], dueNow: false };

  const statuses: Changed[] = [];
  const writes = new RunWrites();
  const toDispatch = valid.flatMap((a) => a.dispatched);
  const toSkip = valid.flatMap((a) => a.skipped);
  if (toDispatch.length > 0 || toSkip.length > 0) {
    const { rows } = await client.query<{ environment_id: string; channel: MessageChannel }>({
      name: 'herald_dispatch_and_skip',
      text: DISPATCH_AND_SKIP,
      values: [now, toDispatch, toSkip.map((s) => s.messageId), toSkip.map((s) => s.reason)],
    });
    for (const row of rows) {
      statuses.push({ channel: row.channel, status: 'skipped' });
      writes.tally.add(row.environment_id, row.channel, 'skipped', now);
    }
  }

  const throttles: { run: LockedRun; next: Extract<RunNext, { kind: 'throttle' }> }[] = [];
  const digests: { run: LockedRun; next: Extract<RunNext, { kind: 'digest' }> }[] = [];
  for (const advance of valid) {
    const run = runs.get(advance.runId)!;
    const next = advance.next;
    switch (next.kind) {
      case 'completed':
        writes.move(run.id, 'completed', next.stepIndex);
        writes.timersDropped.push(run.id);
        break;
      case 'sleep':
        writes.move(run.id, 'waiting', next.stepIndex);
        writes.timersSet.push({ id: run.id, kind: 'run', env: run.environment_id, due: next.until });
        break;
      case 'recheck':
        writes.move(run.id, 'active', next.stepIndex);
        writes.timersSet.push({ id: run.id, kind: 'run', env: run.environment_id, due: next.at });
        break;
      case 'failed':
        writes.endRun(run, 'failed', 'failed', next.reason);
        break;
      case 'throttle':
        throttles.push({ run, next });
        break;
      case 'digest':
        digests.push({ run, next });
        break;
    }
  }

  if (throttles.length > 0) {
    const keys = throttles.map(({ run, next }) => JSON.stringify([run.environment_id, next.scope]));
    await client.query({ name: 'herald_lock_throttles', text: LOCK_THROTTLES, values: [THROTTLE_LOCK_CLASS, keys] });
    for (const { run, next } of throttles) await settleThrottle(client, run, next, now, writes);
  }
  // Stable: runs of one scope keep their order (the first opens the digest, the next join it).
  digests.sort((a, b) =>
    scopeOrder({ env: a.run.environment_id, scope: a.next.scope }, { env: b.run.environment_id, scope: b.next.scope }),
  );
  for (const { run, next } of digests) await settleDigest(client, run, next, now, writes);

  statuses.push(...(await writes.apply(client, now)));
  return { statuses, dueNow: toDispatch.length > 0 || writes.dueNow(now) };
}

async function settleThrottle(
  client: pg.PoolClient,
  run: LockedRun,
  next: Extract<RunNext, { kind: 'throttle' }>,
  now: number,
  writes: RunWrites,
): Promise<void> {
  const { rows } = await client.query<{ n: number }>({
    name: 'herald_throttle_hit',
    text: THROTTLE_HIT,
    values: [run.environment_id, next.scope, next.windowStart, now, next.limit],
  });
  if (rows[0]!.n >= next.limit) {
    writes.endRun(run, 'throttled', 'throttled', next.reason);
    return;
  }
  writes.move(run.id, 'active', next.stepIndex + 1);
  writes.timersSet.push({ id: run.id, kind: 'run', env: run.environment_id, due: now });
}

/** Joins the scope's open digest, or opens one; exact whatever other processes do at once. */
async function settleDigest(
  client: pg.PoolClient,
  run: LockedRun,
  next: Extract<RunNext, { kind: 'digest' }>,
  now: number,
  writes: RunWrites,
): Promise<void> {
  const env = run.environment_id;
  for (let attempt = 0; attempt < DIGEST_ATTEMPTS; attempt++) {
    const digestId = newId('dig', now);
    const opened = await client.query({
      name: 'herald_open_digest',
      text: OPEN_DIGEST,
      values: [digestId, env, next.scope, next.stepIndex, next.mode, now, next.closesAt],
    });
    if ((opened.rowCount ?? 0) > 0) {
      writes.timersSet.push({ id: digestId, kind: 'digest', env, due: next.closesAt });
      if (next.mode === 'first-now') {
        // The opening event goes on now, alone; the events after it wait for the window's end.
        writes.move(run.id, 'active', next.stepIndex + 1, { digestId, digest: JSON.stringify(next.opener) });
        writes.timersSet.push({ id: run.id, kind: 'run', env, due: now });
      } else {
        writes.move(run.id, 'digesting', next.stepIndex, { digestId });
        writes.timersDropped.push(run.id);
      }
      return;
    }
    const { rows } = await client.query<{ id: string }>({
      name: 'herald_join_digest',
      text: JOIN_DIGEST,
      values: [env, next.scope],
    });
    if (rows[0]) {
      writes.move(run.id, 'digesting', next.stepIndex, { digestId: rows[0].id });
      writes.timersDropped.push(run.id);
      return;
    }
    // Closed between the two statements: open the next one.
  }
  throw new Error(`digest scope ${next.scope} kept closing while run ${run.id} joined it`);
}
