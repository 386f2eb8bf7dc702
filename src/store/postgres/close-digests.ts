import type pg from 'pg';
import { DIGEST_EVENTS_KEPT, digestOf, foldedReason } from '../../core/run-engine.js';
import { RunWrites, scopeOrder, type Changed } from './run-writes.js';

/** The digests whose timers the closing workers still hold; the timers are deleted (run_timers_pkey). */
const HELD_DIGESTS = `
  WITH held AS (
    DELETE FROM run_timers tm USING unnest($1::text[], $2::text[], $3::text[]) AS u(timer_id, worker_id, digest_id)
    WHERE tm.id = u.timer_id AND tm.locked_by = u.worker_id
    RETURNING u.digest_id
  )
  SELECT d.id, d.environment_id, d.scope FROM digests d WHERE d.id IN (SELECT digest_id FROM held)`;

/**
 * Closes digests, locked in the given order (by environment and scope, as openers lock them): a
 * run joining one either committed before (and is a member now) or finds it gone and opens another.
 */
const CLOSE_DIGESTS = `
  DELETE FROM digests WHERE id IN (
    SELECT d.id FROM digests d JOIN unnest($1::text[]) WITH ORDINALITY AS u(id, n) ON u.id = d.id
    ORDER BY u.n
    FOR UPDATE OF d
  )
  RETURNING id, environment_id, step_index`;

/** runs_by_digest: the members still waiting, locked in run id order (a canceled one is left out). */
const DIGEST_MEMBERS = `
  SELECT id, digest_id, trigger_id, subscriber_id, updated_at FROM runs
  WHERE digest_id = ANY($1::text[]) AND state = 'digesting'
  ORDER BY id
  FOR UPDATE`;

/**
 * Closes digests (Store.closeDigests) in the caller's transaction: for each whose timer its worker
 * still holds, the timer and the digest are deleted; the first member by (updated_at, id) carries
 * the digest on past the step, the others end `digested`, their pending messages too.
 */
export async function applyClosings(
  client: pg.PoolClient,
  closings: readonly { timerId: string; digestId: string; workerId: string }[],
  now: number,
): Promise<{ statuses: Changed[]; dueNow: boolean }> {
  if (closings.length === 0) return { statuses: [], dueNow: false };
  const { rows: held } = await client.query<{ id: string; environment_id: string; scope: string }>({
    name: 'herald_held_digests',
    text: HELD_DIGESTS,
    values: [closings.map((c) => c.timerId), closings.map((c) => c.workerId), closings.map((c) => c.digestId)],
  });
  if (held.length === 0) return { statuses: [], dueNow: false };
  held.sort((a, b) => scopeOrder({ env: a.environment_id, scope: a.scope }, { env: b.environment_id, scope: b.scope }));
  const { rows: closed } = await client.query<{ id: string; environment_id: string; step_index: number }>({
    name: 'herald_close_digests',
    text: CLOSE_DIGESTS,
    values: [held.map((d) => d.id)],
  });
  if (closed.length === 0) return { statuses: [], dueNow: false };
  const { rows: memberRows } = await client.query<{
    id: string;
    digest_id: string;
    trigger_id: string;
    subscriber_id: string;
    updated_at: number;
  }>({ name: 'herald_digest_members', text: DIGEST_MEMBERS, values: [closed.map((d) => d.id)] });
  const membersOf = new Map<string, typeof memberRows>();
  for (const row of memberRows) {
    const list = membersOf.get(row.digest_id) ?? [];
    list.push(row);
    membersOf.set(row.digest_id, list);
  }
  // In the order they joined.
  const joinOrder = (a: (typeof memberRows)[number], b: (typeof memberRows)[number]) =>
    a.updated_at - b.updated_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  for (const list of membersOf.values()) list.sort(joinOrder);
  const keptTriggers = [
    ...new Set([...membersOf.values()].flatMap((list) => list.slice(0, DIGEST_EVENTS_KEPT).map((m) => m.trigger_id))),
  ];
  const data = new Map<string, Record<string, unknown>>();
  if (keptTriggers.length > 0) {
    const { rows } = await client.query<{ id: string; data: string }>({
      name: 'herald_digest_trigger_data',
      text: 'SELECT id, data FROM triggers WHERE id = ANY($1::text[])',
      values: [keptTriggers],
    });
    for (const row of rows) data.set(row.id, JSON.parse(row.data) as Record<string, unknown>);
  }

  const writes = new RunWrites();
  for (const digest of closed) {
    const members = membersOf.get(digest.id) ?? [];
    const carrier = members[0];
    if (!carrier) continue; // no member left: it closes with nothing
    const kept = members.slice(0, DIGEST_EVENTS_KEPT).map((m) => data.get(m.trigger_id) ?? {});
    writes.move(carrier.id, 'active', digest.step_index + 1, {
      digest: JSON.stringify(digestOf(kept, members.length)),
    });
    writes.timersSet.push({ id: carrier.id, kind: 'run', env: digest.environment_id, due: now });
    const reason = foldedReason({ runId: carrier.id, triggerId: carrier.trigger_id });
    for (const member of members.slice(1)) {
      writes.move(member.id, 'digested', digest.step_index, { reason });
      writes.ended.push({
        triggerId: member.trigger_id,
        subscriberId: member.subscriber_id,
        status: 'digested',
        reason,
      });
    }
  }
  return { statuses: await writes.apply(client, now), dueNow: writes.dueNow(now) };
}
