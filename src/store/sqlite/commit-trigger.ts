import type { Database, Statement } from 'better-sqlite3';
import { HeraldError } from '../../core/errors.js';
import type { TriggerPlan } from '../../core/store.js';
import { unknownTopics } from '../../core/topics.js';
import { unknownSubscribers } from '../../core/trigger-workflow.js';
import { subscriberParams } from '../rows.js';
import { prepareWriteRuns } from './write-runs.js';

/**
 * Writes one accepted trigger, and its fan-out when `to` named topics. Runs inside the writer's
 * batch transaction, in its own savepoint, so a refused trigger (unknown subscribers or topics, a
 * taken Idempotency-Key) leaves nothing behind. Uses the primary keys of subscribers, topics,
 * idempotency_keys and log_sequence; inserts append to time-ordered ids.
 */
export function prepareCommitTrigger(db: Database, idempotencyWindowMs: number) {
  // One statement for all the bare ids of the trigger (up to 1,000), each a subscribers_pkey probe.
  const unknown = db
    .prepare(
      `SELECT value FROM json_each(?)
       WHERE NOT EXISTS (SELECT 1 FROM subscribers WHERE environment_id = ? AND subscriber_id = json_each.value)`,
    )
    .pluck();
  const claimKey: Statement = db.prepare(`
    INSERT INTO idempotency_keys (environment_id, key, body_hash, response, created_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (environment_id, key) DO UPDATE
      SET body_hash = excluded.body_hash, response = excluded.response, created_at = excluded.created_at
      WHERE idempotency_keys.created_at < ?`);
  // Inline upserts merge: a field the trigger leaves out keeps its stored value.
  const mergeSubscriber = db.prepare(`
    INSERT INTO subscribers (environment_id, subscriber_id, email, phone, name, locale, timezone, data, created_at, updated_at)
    VALUES (@env, @id, @email, @phone, @name, @locale, @timezone, @data, @now, @now)
    ON CONFLICT (environment_id, subscriber_id) DO UPDATE SET
      email = CASE WHEN @hasEmail THEN excluded.email ELSE subscribers.email END,
      phone = CASE WHEN @hasPhone THEN excluded.phone ELSE subscribers.phone END,
      name = CASE WHEN @hasName THEN excluded.name ELSE subscribers.name END,
      locale = CASE WHEN @hasLocale THEN excluded.locale ELSE subscribers.locale END,
      timezone = CASE WHEN @hasTimezone THEN excluded.timezone ELSE subscribers.timezone END,
      data = CASE WHEN @hasData THEN excluded.data ELSE subscribers.data END,
      updated_at = excluded.updated_at`);
  const insertTrigger = db.prepare(`
    INSERT INTO triggers (id, environment_id, workflow_key, workflow_version_id, data, send_at, cancellation_key,
                          actor_id, test, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const writeRuns = prepareWriteRuns(db);
  // topics_pkey probes, one statement for the trigger's topics.
  const unknownTopicKeys = db
    .prepare(
      `SELECT value FROM json_each(?)
       WHERE NOT EXISTS (SELECT 1 FROM topics WHERE environment_id = ? AND key = json_each.value)`,
    )
    .pluck();
  const insertFanout = db.prepare(`
    INSERT INTO fanouts (trigger_id, environment_id, topics, cursor, recipients, state, created_at, updated_at)
    VALUES (?, ?, ?, '', ?, 'running', ?, ?)`);
  // The fan-out's first page is due now, behind what is already due.
  const insertFanoutTimer = db.prepare(`
    INSERT INTO run_timers (id, kind, environment_id, due_at) VALUES (?, 'fanout', ?, ?)`);

  return (plan: TriggerPlan): void => {
    const { environmentId: env, createdAt: now } = plan;
    const references = plan.recipients.filter((recipient) => !recipient.fields);
    if (references.length > 0) {
      const missing = unknown.all(JSON.stringify(references.map((r) => r.subscriberId)), env) as string[];
      if (missing.length > 0) throw unknownSubscribers(missing);
    }
    if (plan.fanout) {
      const missing = unknownTopicKeys.all(JSON.stringify(plan.fanout.topics), env) as string[];
      if (missing.length > 0) throw unknownTopics(missing);
    }
    if (plan.idempotency) {
      const { key, bodyHash, responseJson } = plan.idempotency;
      const result = claimKey.run(env, key, bodyHash, responseJson, now, now - idempotencyWindowMs);
      if (result.changes === 0) {
        throw new HeraldError('IDEMPOTENCY_KEY_IN_FLIGHT', `Idempotency-Key ${JSON.stringify(key)} was just used`);
      }
    }
    const upserts = plan.actor?.fields ? [...plan.recipients, plan.actor] : plan.recipients;
    for (const recipient of upserts) {
      const fields = recipient.fields;
      if (!fields) continue; // a reference: it exists (checked above), and nothing changes it
      mergeSubscriber.run({
        ...subscriberParams(env, recipient.subscriberId, fields, now),
        hasEmail: fields.email !== undefined ? 1 : 0,
        hasPhone: fields.phone !== undefined ? 1 : 0,
        hasName: fields.name !== undefined ? 1 : 0,
        hasLocale: fields.locale !== undefined ? 1 : 0,
        hasTimezone: fields.timezone !== undefined ? 1 : 0,
        hasData: fields.data !== undefined ? 1 : 0,
      });
    }
    insertTrigger.run(
      plan.triggerId,
      env,
      plan.workflowKey,
      plan.workflowVersionId,
      plan.dataJson,
      plan.sendAt,
      plan.cancellationKey,
      plan.actor?.subscriberId ?? null,
      plan.test ? 1 : 0,
      now,
    );
    writeRuns({ ...plan, environmentId: env, now });
    if (plan.fanout) {
      insertFanout.run(plan.triggerId, env, JSON.stringify(plan.fanout.topics), plan.runs.length, now, now);
      insertFanoutTimer.run(plan.triggerId, env, now);
    }
  };
}
