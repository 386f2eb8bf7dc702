import type pg from 'pg';
import { HeraldError } from '../../core/errors.js';
import type { PlannedMessage, TriggerPlan } from '../../core/store.js';
import { unknownTopics as unknownTopicsError } from '../../core/topics.js';
import { unknownSubscribers } from '../../core/trigger-workflow.js';
import type { SubscriberFields } from '../../core/types.js';
import { sqlLiteral, withLiterals } from './sql-literals.js';

const FIELDS = ['email', 'phone', 'name', 'locale', 'timezone'] as const;

/**
 * Writes a batch of accepted triggers in the caller's transaction and commits it, with a fixed
 * number of statements whatever the batch size: the bare ids' existence (one), idempotency keys,
 * subscribers (two), triggers, runs, run timers and jobs (one), fan-outs (one, and with the topics'
 * existence only when a trigger named topics), then the messages with their log
 * seqs, the NOTIFY and the COMMIT (one round trip), each a multi-row `unnest`. Statements but the
 * last are named, so each connection parses and plans them once. Returns, per plan, the error that kept it out of
 * the batch (a bare id names no subscriber, its Idempotency-Key is taken), or undefined for a
 * written plan; and whether it committed (not when every plan was refused).
 */
export async function commitTriggers(
  client: pg.PoolClient,
  plans: readonly TriggerPlan[],
  options: { idempotencyWindowMs: number; jobsChannel: string },
): Promise<{ refused: (HeraldError | undefined)[]; committed: boolean }> {
  const noSubscriber = await findUnknownReferences(client, plans);
  const noTopic = await findUnknownTopics(client, plans);
  const unknown = plans.map((_plan, i) => noSubscriber[i] ?? noTopic[i]);
  const known = plans.map((plan, i) => (unknown[i] === undefined ? plan : undefined));
  const claimed = await claimIdempotencyKeys(client, known, options.idempotencyWindowMs);
  const refused = plans.map((_plan, i) => unknown[i] ?? claimed[i]);
  const written = plans.filter((_plan, i) => refused[i] === undefined);
  if (written.length === 0) return { refused, committed: false };
  await upsertRecipients(client, written);
  await insertTriggersAndJobs(client, written);
  await insertFanouts(client, written);
  const messages = written.flatMap((plan) => plan.messages.map((message) => messageRow(plan, message)));
  await appendMessagesAndCommit(client, messages, options.jobsChannel);
  return { refused, committed: true };
}

/**
 * Refuses the plans whose bare ids (recipients without fields) name no subscriber: one statement
 * for every bare id of the batch, each a subscribers_pkey probe. The LATERAL … LIMIT 1 keeps it
 * so: written as NOT EXISTS, the planner hashed the whole subscribers table (1,000 ids against
 * 50,000 subscribers: 118 ms, against 3 ms probing). No lock is taken: a subscriber deleted
 * between this read and the commit gets messages that the worker then skips, as it does for any
 * subscriber deleted before their message is sent.
 */
async function findUnknownReferences(
  client: pg.PoolClient,
  plans: readonly TriggerPlan[],
): Promise<(HeraldError | undefined)[]> {
  const refused: (HeraldError | undefined)[] = plans.map(() => undefined);
  const envs: string[] = [];
  const ids: string[] = [];
  for (const plan of plans) {
    for (const recipient of plan.recipients) {
      if (recipient.fields) continue;
      envs.push(plan.environmentId);
      ids.push(recipient.subscriberId);
    }
  }
  if (ids.length === 0) return refused;
  const { rows } = await client.query<{ e: string; id: string }>({
    name: 'herald_unknown_subscribers',
    text: `SELECT u.e, u.id FROM unnest($1::text[], $2::text[]) AS u(e, id)
           LEFT JOIN LATERAL (
             SELECT true AS found FROM subscribers s WHERE s.environment_id = u.e AND s.subscriber_id = u.id LIMIT 1
           ) s ON true
           WHERE s.found IS NULL`,
    values: [envs, ids],
  });
  if (rows.length === 0) return refused;
  const missing = new Set(rows.map((row) => `${row.e}\u0000${row.id}`));
  plans.forEach((plan, i) => {
    const unknown = plan.recipients
      .filter((r) => !r.fields && missing.has(`${plan.environmentId}\u0000${r.subscriberId}`))
      .map((r) => r.subscriberId);
    if (unknown.length > 0) refused[i] = unknownSubscribers(unknown);
  });
  return refused;
}

/** Refuses the plans whose fan-out names a topic that does not exist: one statement, topics_pkey probes. */
async function findUnknownTopics(
  client: pg.PoolClient,
  plans: readonly TriggerPlan[],
): Promise<(HeraldError | undefined)[]> {
  const refused: (HeraldError | undefined)[] = plans.map(() => undefined);
  const fanouts = plans.filter((plan) => plan.fanout);
  if (fanouts.length === 0) return refused;
  const envs = fanouts.flatMap((plan) => plan.fanout!.topics.map(() => plan.environmentId));
  const keys = fanouts.flatMap((plan) => plan.fanout!.topics);
  const { rows } = await client.query<{ e: string; key: string }>(
    `SELECT u.e, u.key FROM unnest($1::text[], $2::text[]) AS u(e, key)
     WHERE NOT EXISTS (SELECT 1 FROM topics t WHERE t.environment_id = u.e AND t.key = u.key)`,
    [envs, keys],
  );
  if (rows.length === 0) return refused;
  const missing = new Set(rows.map((row) => `${row.e}\u0000${row.key}`));
  plans.forEach((plan, i) => {
    const unknown = (plan.fanout?.topics ?? []).filter((key) => missing.has(`${plan.environmentId}\u0000${key}`));
    if (unknown.length > 0) refused[i] = unknownTopicsError(unknown);
  });
  return refused;
}

/**
 * Inserts the plans' idempotency records (plans given as undefined are skipped). A live record of the key — another request's, maybe in
 * a batch not yet committed: the insert waits for it — is left as it is, and its plan refused.
 * Uses the idempotency_keys primary key; rows go in key order so concurrent batches lock alike.
 */
async function claimIdempotencyKeys(
  client: pg.PoolClient,
  plans: readonly (TriggerPlan | undefined)[],
  windowMs: number,
): Promise<(HeraldError | undefined)[]> {
  const refused: (HeraldError | undefined)[] = plans.map(() => undefined);
  const inFlight = (key: string) =>
    new HeraldError('IDEMPOTENCY_KEY_IN_FLIGHT', `Idempotency-Key ${JSON.stringify(key)} was just used`);
  const byKey = new Map<string, number>();
  plans.forEach((plan, i) => {
    if (!plan?.idempotency) return;
    const slot = `${plan.environmentId}\u0000${plan.idempotency.key}`;
    if (byKey.has(slot)) refused[i] = inFlight(plan.idempotency.key);
    else byKey.set(slot, i);
  });
  if (byKey.size === 0) return refused;
  const keyed = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, i]) => plans[i]!);
  const { rows } = await client.query<{ environment_id: string; key: string }>({
    name: 'herald_claim_idempotency_keys',
    text: `INSERT INTO idempotency_keys (environment_id, key, body_hash, response, created_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
           ON CONFLICT (environment_id, key) DO UPDATE
             SET body_hash = excluded.body_hash, response = excluded.response, created_at = excluded.created_at
             WHERE idempotency_keys.created_at < excluded.created_at - $6::bigint
           RETURNING environment_id, key`,
    values: [
      keyed.map((plan) => plan.environmentId),
      keyed.map((plan) => plan.idempotency!.key),
      keyed.map((plan) => plan.idempotency!.bodyHash),
      keyed.map((plan) => plan.idempotency!.responseJson),
      keyed.map((plan) => plan.createdAt),
      windowMs,
    ],
  });
  const claimed = new Set(rows.map((row) => `${row.environment_id}\u0000${row.key}`));
  for (const [slot, i] of byKey) if (!claimed.has(slot)) refused[i] = inFlight(plans[i]!.idempotency!.key);
  return refused;
}

/**
 * Recipients with fields are created, or have the fields merged: a field the trigger leaves out
 * keeps its stored value. (Bare ids name subscribers that exist, and change nothing.) Repeats
 * across the batch merge in order (later fields win), as if the triggers had been written one
 * after another. Sorted by key so that concurrent batches mostly lock rows in the same order.
 */
async function upsertRecipients(client: pg.PoolClient, plans: readonly TriggerPlan[]) {
  const byKey = new Map<string, { env: string; id: string; at: number; fields: SubscriberFields }>();
  for (const plan of plans) {
    for (const recipient of plan.actor ? [...plan.recipients, plan.actor] : plan.recipients) {
      if (!recipient.fields) continue;
      const key = `${plan.environmentId}\u0000${recipient.subscriberId}`;
      const fields = { ...byKey.get(key)?.fields, ...recipient.fields };
      byKey.set(key, { env: plan.environmentId, id: recipient.subscriberId, at: plan.createdAt, fields });
    }
  }
  if (byKey.size === 0) return;
  const rows = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
  // New subscribers are inserted with their fields; the ones that existed (the insert skipped
  // them, after waiting for a concurrent inserter) have theirs merged by the UPDATE below, a
  // statement of its own so that it sees rows other transactions committed meanwhile.
  const field = (row: (typeof rows)[number], pick: (fields: SubscriberFields) => unknown) => pick(row.fields) ?? null;
  const inserted = await client.query<{ environment_id: string; subscriber_id: string }>({
    name: 'herald_insert_subscribers',
    text: `INSERT INTO subscribers (environment_id, subscriber_id, email, phone, name, locale, timezone, data,
                                    created_at, updated_at)
           SELECT e, id, email, phone, name, locale, timezone, data, at, at
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[])
             AS u(e, id, at, email, phone, name, locale, timezone, data)
           ON CONFLICT (environment_id, subscriber_id) DO NOTHING
           RETURNING environment_id, subscriber_id`,
    values: [
      rows.map((r) => r.env),
      rows.map((r) => r.id),
      rows.map((r) => r.at),
      ...FIELDS.map((name) => rows.map((r) => field(r, (fields) => fields[name]))),
      rows.map((r) => field(r, (fields) => (fields.data == null ? null : JSON.stringify(fields.data)))),
    ],
  });
  const isNew = new Set(inserted.rows.map((row) => `${row.environment_id}\u0000${row.subscriber_id}`));
  const merged = rows.filter((row) => !isNew.has(`${row.env}\u0000${row.id}`));
  if (merged.length === 0) return;
  const column = (pick: (fields: SubscriberFields) => unknown) => merged.map(({ fields }) => pick(fields));
  const given = (pick: (fields: SubscriberFields) => unknown) => merged.map(({ fields }) => pick(fields) !== undefined);
  await client.query({
    name: 'herald_merge_subscribers',
    text: `UPDATE subscribers s SET
             email = CASE WHEN u.has_email THEN u.email ELSE s.email END,
             phone = CASE WHEN u.has_phone THEN u.phone ELSE s.phone END,
             name = CASE WHEN u.has_name THEN u.name ELSE s.name END,
             locale = CASE WHEN u.has_locale THEN u.locale ELSE s.locale END,
             timezone = CASE WHEN u.has_timezone THEN u.timezone ELSE s.timezone END,
             data = CASE WHEN u.has_data THEN u.data ELSE s.data END,
             updated_at = u.at
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::bool[], $11::bool[], $12::bool[], $13::bool[], $14::bool[],
                       $15::bool[])
             AS u(e, id, at, email, phone, name, locale, timezone, data,
                  has_email, has_phone, has_name, has_locale, has_timezone, has_data)
           WHERE s.environment_id = u.e AND s.subscriber_id = u.id`,
    values: [
      merged.map((r) => r.env),
      merged.map((r) => r.id),
      merged.map((r) => r.at),
      ...FIELDS.map((field) => column((fields) => fields[field] ?? null)),
      column((fields) => (fields.data == null ? null : JSON.stringify(fields.data))),
      ...FIELDS.map((field) => given((fields) => fields[field])),
      given((fields) => fields.data),
    ],
  });
}

/**
 * The triggers, their runs (each with a timer unless it is already completed), and one job per
 * message sent at once (a job shares its message's id: one pending job per message at most; the
 * messages follow in the last statement), in one statement appending to time-ordered ids.
 */
async function insertTriggersAndJobs(client: pg.PoolClient, plans: readonly TriggerPlan[]) {
  const runs = plans.flatMap((plan) => plan.runs.map((run) => ({ plan, run })));
  const timed = runs.filter(({ plan }) => plan.start.dueAt !== null);
  const queued = plans.flatMap((plan) =>
    plan.messages.filter((message) => message.status === 'queued').map((message) => ({ plan, message })),
  );
  await client.query({
    name: 'herald_insert_triggers',
    text: `WITH t AS (
             INSERT INTO triggers (id, environment_id, workflow_key, workflow_version_id, data, send_at,
                                   cancellation_key, created_at, actor_id, test)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                                  $7::text[], $8::bigint[], $21::text[], $22::bool[])
           ), r AS (
             INSERT INTO runs (id, environment_id, trigger_id, subscriber_id, state, step_index, created_at, updated_at)
             SELECT id, e, trigger_id, subscriber_id, state, step_index, at, at
             FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::bigint[])
               AS u(id, e, trigger_id, subscriber_id, state, step_index, at)
           ), tm AS (
             INSERT INTO run_timers (id, kind, environment_id, due_at)
             SELECT id, 'run', e, due FROM unnest($16::text[], $17::text[], $18::bigint[]) AS u(id, e, due)
           )
           INSERT INTO jobs (id, message_id, available_at, created_at)
           SELECT id, id, at, at FROM unnest($19::text[], $20::bigint[]) AS u(id, at)`,
    values: [
      plans.map((plan) => plan.triggerId),
      plans.map((plan) => plan.environmentId),
      plans.map((plan) => plan.workflowKey),
      plans.map((plan) => plan.workflowVersionId),
      plans.map((plan) => plan.dataJson),
      plans.map((plan) => plan.sendAt),
      plans.map((plan) => plan.cancellationKey),
      plans.map((plan) => plan.createdAt),
      runs.map(({ run }) => run.id),
      runs.map(({ plan }) => plan.environmentId),
      runs.map(({ plan }) => plan.triggerId),
      runs.map(({ run }) => run.subscriberId),
      runs.map(({ plan }) => plan.start.state),
      runs.map(({ plan }) => plan.start.stepIndex),
      runs.map(({ plan }) => plan.createdAt),
      timed.map(({ run }) => run.id),
      timed.map(({ plan }) => plan.environmentId),
      timed.map(({ plan }) => plan.start.dueAt),
      queued.map(({ message }) => message.id),
      queued.map(({ plan }) => plan.createdAt),
      plans.map((plan) => plan.actor?.subscriberId ?? null),
      plans.map((plan) => plan.test === true),
    ],
  });
}

/** The plans' fan-outs, each with its timer due now (its first page): only triggers whose `to` named topics. */
async function insertFanouts(client: pg.PoolClient, plans: readonly TriggerPlan[]) {
  const fanouts = plans.filter((plan) => plan.fanout);
  if (fanouts.length === 0) return;
  await client.query(
    `WITH f AS (
       INSERT INTO fanouts (trigger_id, environment_id, topics, cursor, recipients, state, created_at, updated_at)
       SELECT id, e, topics, '', recipients, 'running', at, at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[]) AS u(id, e, topics, recipients, at)
     )
     INSERT INTO run_timers (id, kind, environment_id, due_at)
     SELECT id, 'fanout', e, at FROM unnest($1::text[], $2::text[], $5::bigint[]) AS u(id, e, at)`,
    [
      fanouts.map((plan) => plan.triggerId),
      fanouts.map((plan) => plan.environmentId),
      fanouts.map((plan) => JSON.stringify(plan.fanout!.topics)),
      fanouts.map((plan) => plan.runs.length),
      fanouts.map((plan) => plan.createdAt),
    ],
  );
}

/**
 * Appends a batch's messages to the log: numbered from log_sequence (its primary key), in the
 * order of the batch. A statement prepared once per connection with SQL PREPARE (the simple query
 * protocol cannot use a protocol-level one), so that it is not planned again for every batch.
 */
const APPEND_MESSAGES = {
  name: 'herald_append_messages',
  parameters: 'text[], text[], text[], text[], text[], text[], text[], int[], text[], bigint[], bigint, text[]',
  text: `WITH s AS (
           UPDATE log_sequence SET value = value + $11 WHERE name = 'messages' RETURNING value - $11 AS base
         )
         INSERT INTO messages (id, environment_id, trigger_id, workflow_key, workflow_version_id, subscriber_id,
                               channel, step_index, status, created_at, updated_at, seq, test)
         SELECT u.id, u.e, u.trigger_id, u.workflow_key, u.version_id, u.subscriber_id, u.channel, u.step_index,
                u.status, u.at, u.at, s.base + u.n, u.id = ANY($12)
         FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) WITH ORDINALITY
           AS u(id, e, trigger_id, workflow_key, version_id, subscriber_id, channel, step_index, status, at, n)
         CROSS JOIN s`,
};

/** Connections that have APPEND_MESSAGES prepared (a connection that failed is closed, not reused). */
const appendPrepared = new WeakSet<pg.PoolClient>();

/** One message row as APPEND_MESSAGES takes it. */
export interface MessageRowToAppend {
  id: string;
  environmentId: string;
  triggerId: string;
  workflowKey: string;
  workflowVersionId: string;
  subscriberId: string;
  channel: string;
  stepIndex: number;
  status: string;
  createdAt: number;
  /** A test send's message (core/test-send.ts). */
  test?: boolean;
}

function messageRow(plan: TriggerPlan, message: PlannedMessage): MessageRowToAppend {
  return {
    id: message.id,
    environmentId: plan.environmentId,
    triggerId: plan.triggerId,
    workflowKey: plan.workflowKey,
    workflowVersionId: plan.workflowVersionId,
    subscriberId: message.subscriberId,
    channel: message.channel,
    stepIndex: message.stepIndex,
    status: message.status,
    createdAt: plan.createdAt,
    ...(plan.test && { test: true }),
  };
}

/**
 * The messages, the NOTIFY and the COMMIT, in one round trip: so sent by the simple query
 * protocol, with the values as literals (sql-literals.ts). Used by trigger batches and fan-out
 * pages (fan-out.ts) alike.
 *
 * The counter's row lock is what makes seqs commit-ordered: held from this statement until the
 * commit, it lets a concurrent batch, of this process or another, take its seqs only once this
 * one is visible. Sent as separate commands, the stretch under the lock would include two round
 * trips to this process, and under load that wait (for an event loop busy with requests) cut
 * ingest to a third (bench/README.md). In one round trip it holds only this insert and the
 * commit, which the NOTIFY serialises anyway (PostgreSQL queues notifications in commit order
 * under one lock).
 */
export async function appendMessagesAndCommit(
  client: pg.PoolClient,
  messages: readonly MessageRowToAppend[],
  jobsChannel: string,
): Promise<void> {
  const notifyAndCommit = `SELECT pg_notify(${sqlLiteral(jobsChannel)}, ''); COMMIT`;
  if (messages.length === 0) {
    await client.query(notifyAndCommit);
    return;
  }
  const values = [
    messages.map((m) => m.id),
    messages.map((m) => m.environmentId),
    messages.map((m) => m.triggerId),
    messages.map((m) => m.workflowKey),
    messages.map((m) => m.workflowVersionId),
    messages.map((m) => m.subscriberId),
    messages.map((m) => m.channel),
    messages.map((m) => m.stepIndex),
    messages.map((m) => m.status),
    messages.map((m) => m.createdAt),
    messages.length,
    // Test sends are rare: their ids, not a flag per message, so a batch without one adds '{}'.
    messages.filter((m) => m.test).map((m) => m.id),
  ];
  const prepare = appendPrepared.has(client)
    ? ''
    : `PREPARE ${APPEND_MESSAGES.name} (${APPEND_MESSAGES.parameters}) AS ${APPEND_MESSAGES.text}; `;
  const execute = withLiterals(
    `EXECUTE ${APPEND_MESSAGES.name} (${values.map((_v, i) => `$${i + 1}`).join(', ')})`,
    values,
  );
  // The NOTIFY is delivered at commit, to workers in every process: one per batch.
  await client.query(`${prepare}${execute}; ${notifyAndCommit}`);
  appendPrepared.add(client);
}
