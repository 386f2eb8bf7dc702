import type pg from 'pg';
import { HeraldError } from '../../core/errors.js';
import type { RecipientUpsert, TriggerPlan } from '../../core/store.js';
import type { SubscriberFields } from '../../core/types.js';

const FIELDS = ['email', 'phone', 'name', 'locale', 'timezone'] as const;

/**
 * Writes one accepted trigger. Runs inside the group commit's batch transaction, in its own
 * savepoint (group-commit.ts). Uses the primary keys of idempotency_keys and subscribers; messages
 * and jobs go in as one multi-row INSERT each (unnest), appending to time-ordered ids.
 */
export async function commitTrigger(client: pg.PoolClient, plan: TriggerPlan, idempotencyWindowMs: number) {
  const { environmentId: env, createdAt: now } = plan;
  if (plan.idempotency) {
    const { key, bodyHash, responseJson } = plan.idempotency;
    // A live record of the key (another request's, maybe in a batch not yet committed: the insert
    // waits for it) leaves the row as it is: no row changed means the key is taken.
    const result = await client.query(
      `INSERT INTO idempotency_keys (environment_id, key, body_hash, response, created_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (environment_id, key) DO UPDATE
         SET body_hash = excluded.body_hash, response = excluded.response, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < $6`,
      [env, key, bodyHash, responseJson, now, now - idempotencyWindowMs],
    );
    if (result.rowCount === 0) {
      throw new HeraldError('IDEMPOTENCY_KEY_IN_FLIGHT', `Idempotency-Key ${JSON.stringify(key)} was just used`);
    }
  }
  await upsertRecipients(client, env, plan.recipients, now);
  const messages = plan.messages;
  // A delivery job shares its message's id: one pending job per message at most.
  await client.query(
    `WITH t AS (
       INSERT INTO triggers (id, environment_id, workflow_key, workflow_version_id, data, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
     ), m AS (
       INSERT INTO messages (id, environment_id, trigger_id, workflow_key, workflow_version_id, subscriber_id,
                             channel, step_index, status, created_at, updated_at)
       SELECT u.id, $2, $1, $3, $4, u.subscriber_id, u.channel, u.step_index, 'queued', $6, $6
       FROM unnest($7::text[], $8::text[], $9::text[], $10::int[]) AS u(id, subscriber_id, channel, step_index)
       RETURNING id
     )
     INSERT INTO jobs (id, message_id, available_at, created_at) SELECT id, id, $6, $6 FROM m`,
    [
      plan.triggerId,
      env,
      plan.workflowKey,
      plan.workflowVersionId,
      plan.dataJson,
      now,
      messages.map((m) => m.id),
      messages.map((m) => m.subscriberId),
      messages.map((m) => m.channel),
      messages.map((m) => m.stepIndex),
    ],
  );
}

/**
 * Every recipient gets a subscriber row; recipients with fields merge them: a field the trigger
 * leaves out keeps its stored value. Two statements for the whole list, sorted by id so that
 * concurrent batches mostly lock rows in the same order.
 */
async function upsertRecipients(client: pg.PoolClient, env: string, recipients: RecipientUpsert[], now: number) {
  if (recipients.length === 0) return;
  // Core already merges repeated recipients; merging again here keeps one row per id in each
  // statement (ON CONFLICT DO UPDATE refuses to touch a row twice), with later fields winning.
  const byId = new Map<string, SubscriberFields | undefined>();
  for (const r of recipients) {
    const earlier = byId.get(r.subscriberId);
    byId.set(r.subscriberId, r.fields || earlier ? { ...earlier, ...r.fields } : undefined);
  }
  const ids = [...byId.keys()].sort();
  await client.query(
    `INSERT INTO subscribers (environment_id, subscriber_id, created_at, updated_at)
     SELECT $1, id, $3, $3 FROM unnest($2::text[]) AS id
     ON CONFLICT (environment_id, subscriber_id) DO NOTHING`,
    [env, ids, now],
  );
  const merged = ids.flatMap((id) => {
    const fields = byId.get(id);
    return fields ? [{ id, fields }] : [];
  });
  if (merged.length === 0) return;
  const column = (pick: (fields: SubscriberFields) => unknown) => merged.map(({ fields }) => pick(fields));
  const given = (pick: (fields: SubscriberFields) => unknown) => merged.map(({ fields }) => pick(fields) !== undefined);
  await client.query(
    `UPDATE subscribers s SET
       email = CASE WHEN u.has_email THEN u.email ELSE s.email END,
       phone = CASE WHEN u.has_phone THEN u.phone ELSE s.phone END,
       name = CASE WHEN u.has_name THEN u.name ELSE s.name END,
       locale = CASE WHEN u.has_locale THEN u.locale ELSE s.locale END,
       timezone = CASE WHEN u.has_timezone THEN u.timezone ELSE s.timezone END,
       data = CASE WHEN u.has_data THEN u.data ELSE s.data END,
       updated_at = $2
     FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                 $10::bool[], $11::bool[], $12::bool[], $13::bool[], $14::bool[], $15::bool[])
       AS u(id, email, phone, name, locale, timezone, data,
            has_email, has_phone, has_name, has_locale, has_timezone, has_data)
     WHERE s.environment_id = $1 AND s.subscriber_id = u.id`,
    [
      env,
      now,
      merged.map(({ id }) => id),
      ...FIELDS.map((field) => column((fields) => fields[field] ?? null)),
      column((fields) => (fields.data == null ? null : JSON.stringify(fields.data))),
      ...FIELDS.map((field) => given((fields) => fields[field])),
      given((fields) => fields.data),
    ],
  );
}
