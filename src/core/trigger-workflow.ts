import { createHash } from 'node:crypto';
import type { Clock } from './clock.js';
import { HeraldError } from './errors.js';
import { newId } from './ids.js';
import { planRuns, MAX_DELAY_MS, startOfRuns } from './run-engine.js';
import type { RecipientUpsert, TriggerPlan, TriggerStore, WorkflowStore } from './store.js';
import { MAX_TOPICS_PER_TRIGGER } from './topics.js';
import type { SubscriberFields } from './types.js';

export type RecipientInput = string | ({ subscriberId: string } & SubscriberFields);

/** Every member of a topic (core/fan-out.ts). */
export interface TopicTarget {
  topic: string;
}

export type AudienceInput = RecipientInput | TopicTarget;

export interface TriggerInput {
  environmentId: string;
  workflowKey: string;
  to: AudienceInput | AudienceInput[];
  /** Who the trigger is about ("Ann commented"): left out of the audience, however named. */
  actor?: RecipientInput;
  data?: Record<string, unknown>;
  /** When the runs start (epoch ms); now when absent or past. */
  sendAt?: number;
  /** Names the trigger's runs for POST /v1/triggers/cancel. */
  cancellationKey?: string;
  idempotencyKey?: string;
}

export interface TriggerResult {
  triggerId: string;
  /** The messages committed with the trigger; absent when `to` names a topic (its runs start after the answer). */
  messageIds?: string[];
}

export interface TriggerOutcome {
  result: TriggerResult;
  /** True when an earlier request with the same Idempotency-Key already produced this result. */
  replayed: boolean;
  /** Messages this call committed (0 for a replay). */
  messages: number;
}

export interface TriggerDeps {
  store: TriggerStore & Pick<WorkflowStore, 'getWorkflow'>;
  clock: Clock;
  idempotencyWindowMs: number;
  /** Requests with an Idempotency-Key not yet committed in this process, by environment and key. */
  inFlight: Map<string, { bodyHash: string; done: Promise<TriggerResult> }>;
  /** Called after a commit, so local workers start at once instead of at their next poll. */
  onCommitted?: (committed: { runsDue: boolean }) => void;
}

const FIELDS = ['email', 'phone', 'name', 'locale', 'timezone', 'data'] as const;

/** How many unknown ids the detail line names; `errors` lists every one. */
const NAMED_IN_DETAIL = 10;

/**
 * The refusal of a trigger whose bare `to` ids name no subscriber (stores throw it from
 * commitTrigger). A bare id is a reference: it never creates anyone, so a typo cannot become a
 * new, addressless subscriber whose messages are silently skipped. Adding ids to a topic is
 * refused alike (`refused: 'topic'`): a member who does not exist could never be reached.
 */
export function unknownSubscribers(
  subscriberIds: readonly string[],
  refused: 'trigger' | 'topic' = 'trigger',
): HeraldError {
  const named = subscriberIds.slice(0, NAMED_IN_DETAIL).map((id) => JSON.stringify(id));
  const more = subscriberIds.length > NAMED_IN_DETAIL ? ` and ${subscriberIds.length - NAMED_IN_DETAIL} more` : '';
  const [path, outcome, alternative] =
    refused === 'trigger'
      ? [
          '/to',
          'nothing was sent',
          ', or name them as objects ({"subscriberId": …, "email": …}) to create them with the trigger.',
        ]
      : ['/subscriberIds', 'nothing was added', ' first.'];
  return new HeraldError(
    'UNKNOWN_SUBSCRIBERS',
    `No subscriber ${named.join(', ')}${more}; ${outcome}. Create them with PUT /v1/subscribers/{subscriberId}${alternative}`,
    subscriberIds.map((id) => ({ path, message: `no subscriber ${JSON.stringify(id)}` })),
  );
}

/** A recipient as the store upserts it: a reference for a bare id, fields to merge for an object. */
export function recipientUpsert(recipient: RecipientInput): RecipientUpsert {
  if (typeof recipient === 'string') return { subscriberId: recipient };
  return { subscriberId: recipient.subscriberId, fields: fieldsOf(recipient, undefined)! };
}

/** The fields a recipient gives, over those given for them earlier in `to` (none for a bare id). */
function fieldsOf(recipient: RecipientInput, merged: SubscriberFields | undefined): SubscriberFields | undefined {
  if (typeof recipient === 'string') return merged;
  const fields: SubscriberFields = { ...merged };
  for (const field of FIELDS) if (recipient[field] !== undefined) fields[field] = recipient[field] as never;
  return fields;
}

/**
 * The audience `to` names: its subscribers, one entry each in first-seen order (fields given twice
 * for one subscriber merge), and its topics, each once. The actor is left out of the recipients;
 * fields given for them in `to` are kept for the actor's own upsert.
 */
function audienceOf(
  to: TriggerInput['to'],
  actorInput: RecipientInput | undefined,
): { recipients: RecipientUpsert[]; topics: string[]; actor: RecipientUpsert | null } {
  const list = Array.isArray(to) ? to : [to];
  const byId = new Map<string, RecipientUpsert>();
  const topics = new Set<string>();
  for (const entry of list) {
    if (typeof entry !== 'string' && 'topic' in entry) {
      topics.add(entry.topic);
      continue;
    }
    const subscriberId = typeof entry === 'string' ? entry : entry.subscriberId;
    const known = byId.get(subscriberId);
    const fields = fieldsOf(entry, known?.fields);
    byId.set(subscriberId, fields ? { subscriberId, fields } : { subscriberId });
  }
  let actor: RecipientUpsert | null = null;
  if (actorInput !== undefined) {
    const actorId = typeof actorInput === 'string' ? actorInput : actorInput.subscriberId;
    const fields = fieldsOf(actorInput, byId.get(actorId)?.fields);
    actor = fields ? { subscriberId: actorId, fields } : { subscriberId: actorId };
    byId.delete(actorId);
  }
  if (topics.size > MAX_TOPICS_PER_TRIGGER) {
    throw new HeraldError('VALIDATION_FAILED', `to names ${topics.size} topics; at most ${MAX_TOPICS_PER_TRIGGER}`, [
      { path: '/to', message: `names ${topics.size} topics; at most ${MAX_TOPICS_PER_TRIGGER}` },
    ]);
  }
  return { recipients: [...byId.values()], topics: [...topics], actor };
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same body. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

function hashBody(input: TriggerInput): string {
  return createHash('sha256')
    .update(
      input.workflowKey +
        '\n' +
        canonicalJson({
          to: input.to,
          actor: input.actor,
          data: input.data ?? {},
          sendAt: input.sendAt,
          cancellationKey: input.cancellationKey,
        }),
    )
    .digest('base64url');
}

async function plan(
  deps: TriggerDeps,
  input: TriggerInput,
  bodyHash: string | undefined,
): Promise<{ result: TriggerResult; messages: number }> {
  const workflow = await deps.store.getWorkflow(input.environmentId, input.workflowKey);
  if (!workflow)
    throw new HeraldError('WORKFLOW_NOT_FOUND', `No workflow with key ${JSON.stringify(input.workflowKey)}`);
  const now = deps.clock.now();
  const sendAt = input.sendAt ?? null;
  if (sendAt !== null && sendAt > now + MAX_DELAY_MS) {
    throw new HeraldError('VALIDATION_FAILED', 'sendAt is more than 400 days away', [
      { path: '/sendAt', message: 'at most 400 days from now' },
    ]);
  }
  const { recipients, topics, actor } = audienceOf(input.to, input.actor);
  const triggerId = newId('trg', now);
  const { start, sendsAtOnce } = startOfRuns(workflow.steps, now, sendAt);
  const { runs, messages } = planRuns(
    workflow.steps,
    recipients.map((recipient) => recipient.subscriberId),
    sendsAtOnce,
    now,
  );
  // A topic's members are reached after the answer: there are no message ids to give yet.
  const result: TriggerResult =
    topics.length > 0 ? { triggerId } : { triggerId, messageIds: messages.map((m) => m.id) };
  const triggerPlan: TriggerPlan = {
    environmentId: input.environmentId,
    triggerId,
    workflowKey: workflow.key,
    workflowVersionId: workflow.versionId,
    dataJson: JSON.stringify(input.data ?? {}),
    recipients,
    messages,
    runs,
    start,
    sendAt,
    cancellationKey: input.cancellationKey ?? null,
    actor,
    fanout: topics.length > 0 ? { topics } : null,
    createdAt: now,
  };
  if (input.idempotencyKey !== undefined && bodyHash !== undefined) {
    triggerPlan.idempotency = { key: input.idempotencyKey, bodyHash, responseJson: JSON.stringify(result) };
  }
  await deps.store.commitTrigger(triggerPlan);
  // A fan-out is due at once: its first page is run work.
  deps.onCommitted?.({ runsDue: topics.length > 0 || (start.dueAt !== null && start.dueAt <= now) });
  return { result, messages: messages.length };
}

/**
 * Accepts a trigger: the trigger, its messages and their jobs are committed together or not at
 * all, and only then does this resolve. With an Idempotency-Key, a repeat of the same body within
 * the window returns the first result and sends nothing new; a different body is refused.
 */
export async function triggerWorkflow(deps: TriggerDeps, input: TriggerInput): Promise<TriggerOutcome> {
  const key = input.idempotencyKey;
  if (key === undefined) return { ...(await plan(deps, input, undefined)), replayed: false };

  const bodyHash = hashBody(input);
  const slot = `${input.environmentId}\u0000${key}`;
  const reused = () =>
    new HeraldError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${JSON.stringify(key)} was used with a different body`);

  const pending = deps.inFlight.get(slot);
  if (pending) {
    if (pending.bodyHash !== bodyHash) throw reused();
    return { result: await pending.done, replayed: true, messages: 0 };
  }
  const stored = await deps.store.findIdempotency(
    input.environmentId,
    key,
    deps.clock.now() - deps.idempotencyWindowMs,
  );
  if (stored) {
    if (stored.bodyHash !== bodyHash) throw reused();
    return { result: JSON.parse(stored.responseJson) as TriggerResult, replayed: true, messages: 0 };
  }
  // Re-check: another request may have registered while we read the store.
  const raced = deps.inFlight.get(slot);
  if (raced) {
    if (raced.bodyHash !== bodyHash) throw reused();
    return { result: await raced.done, replayed: true, messages: 0 };
  }
  let replayedFromStore = false;
  const planned = plan(deps, input, bodyHash).catch(async (error: unknown) => {
    // Another process committed this key between our read and our commit (the unique key on
    // idempotency records refused ours, after waiting for theirs): answer as a replay of theirs.
    if (!(error instanceof HeraldError && error.code === 'IDEMPOTENCY_KEY_IN_FLIGHT')) throw error;
    const theirs = await deps.store.findIdempotency(
      input.environmentId,
      key,
      deps.clock.now() - deps.idempotencyWindowMs,
    );
    if (!theirs) throw error; // still not visible: 409, the caller retries
    if (theirs.bodyHash !== bodyHash) throw reused();
    replayedFromStore = true;
    return { result: JSON.parse(theirs.responseJson) as TriggerResult, messages: 0 };
  });
  const done = planned.then((p) => p.result);
  done.catch(() => undefined); // its failure is this call's to report; other waiters hear it too
  deps.inFlight.set(slot, { bodyHash, done });
  try {
    return { ...(await planned), replayed: replayedFromStore };
  } finally {
    deps.inFlight.delete(slot);
  }
}
