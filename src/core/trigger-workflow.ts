import { createHash } from 'node:crypto';
import type { Clock } from './clock.js';
import { HeraldError } from './errors.js';
import { newId } from './ids.js';
import { MAX_DELAY_MS, startOfRuns } from './run-engine.js';
import type { PlannedMessage, RecipientUpsert, TriggerPlan, TriggerStore, WorkflowStore } from './store.js';
import type { PlannedRun } from './runs.js';
import { isSendingStep, type SubscriberFields } from './types.js';

export type RecipientInput = string | ({ subscriberId: string } & SubscriberFields);

export interface TriggerInput {
  environmentId: string;
  workflowKey: string;
  to: RecipientInput | RecipientInput[];
  data?: Record<string, unknown>;
  /** When the runs start (epoch ms); now when absent or past. */
  sendAt?: number;
  /** Names the trigger's runs for POST /v1/triggers/cancel. */
  cancellationKey?: string;
  idempotencyKey?: string;
}

export interface TriggerResult {
  triggerId: string;
  messageIds: string[];
}

export interface TriggerOutcome {
  result: TriggerResult;
  /** True when an earlier request with the same Idempotency-Key already produced this result. */
  replayed: boolean;
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
 * new, addressless subscriber whose messages are silently skipped.
 */
export function unknownSubscribers(subscriberIds: readonly string[]): HeraldError {
  const named = subscriberIds.slice(0, NAMED_IN_DETAIL).map((id) => JSON.stringify(id));
  const more = subscriberIds.length > NAMED_IN_DETAIL ? ` and ${subscriberIds.length - NAMED_IN_DETAIL} more` : '';
  return new HeraldError(
    'UNKNOWN_SUBSCRIBERS',
    `No subscriber ${named.join(', ')}${more}; nothing was sent. Create them with PUT /v1/subscribers/{subscriberId}, ` +
      'or name them as objects ({"subscriberId": …, "email": …}) to create them with the trigger.',
    subscriberIds.map((id) => ({ path: '/to', message: `no subscriber ${JSON.stringify(id)}` })),
  );
}

/** One entry per subscriber, in first-seen order; fields given twice for one subscriber merge. */
function normaliseRecipients(to: TriggerInput['to']): RecipientUpsert[] {
  const list = Array.isArray(to) ? to : [to];
  const byId = new Map<string, RecipientUpsert>();
  for (const recipient of list) {
    const subscriberId = typeof recipient === 'string' ? recipient : recipient.subscriberId;
    const entry = byId.get(subscriberId) ?? { subscriberId };
    if (typeof recipient !== 'string') {
      const fields: SubscriberFields = { ...entry.fields };
      for (const field of FIELDS) if (recipient[field] !== undefined) fields[field] = recipient[field] as never;
      entry.fields = fields;
    }
    byId.set(subscriberId, entry);
  }
  return [...byId.values()];
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
          data: input.data ?? {},
          sendAt: input.sendAt,
          cancellationKey: input.cancellationKey,
        }),
    )
    .digest('base64url');
}

async function plan(deps: TriggerDeps, input: TriggerInput, bodyHash: string | undefined): Promise<TriggerResult> {
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
  const recipients = normaliseRecipients(input.to);
  const triggerId = newId('trg', now);
  const { start, sendsAtOnce } = startOfRuns(workflow.steps, now, sendAt);
  const messages: PlannedMessage[] = [];
  const runs: PlannedRun[] = [];
  for (const recipient of recipients) {
    runs.push({ id: newId('run', now), subscriberId: recipient.subscriberId });
    workflow.steps.forEach((step, stepIndex) => {
      if (!isSendingStep(step)) return;
      messages.push({
        id: newId('msg', now),
        subscriberId: recipient.subscriberId,
        stepIndex,
        channel: step.type,
        status: stepIndex < sendsAtOnce ? 'queued' : 'pending',
      });
    });
  }
  const result: TriggerResult = { triggerId, messageIds: messages.map((m) => m.id) };
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
    createdAt: now,
  };
  if (input.idempotencyKey !== undefined && bodyHash !== undefined) {
    triggerPlan.idempotency = { key: input.idempotencyKey, bodyHash, responseJson: JSON.stringify(result) };
  }
  await deps.store.commitTrigger(triggerPlan);
  deps.onCommitted?.({ runsDue: start.dueAt !== null && start.dueAt <= now });
  return result;
}

/**
 * Accepts a trigger: the trigger, its messages and their jobs are committed together or not at
 * all, and only then does this resolve. With an Idempotency-Key, a repeat of the same body within
 * the window returns the first result and sends nothing new; a different body is refused.
 */
export async function triggerWorkflow(deps: TriggerDeps, input: TriggerInput): Promise<TriggerOutcome> {
  const key = input.idempotencyKey;
  if (key === undefined) return { result: await plan(deps, input, undefined), replayed: false };

  const bodyHash = hashBody(input);
  const slot = `${input.environmentId}\u0000${key}`;
  const reused = () =>
    new HeraldError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${JSON.stringify(key)} was used with a different body`);

  const pending = deps.inFlight.get(slot);
  if (pending) {
    if (pending.bodyHash !== bodyHash) throw reused();
    return { result: await pending.done, replayed: true };
  }
  const stored = await deps.store.findIdempotency(
    input.environmentId,
    key,
    deps.clock.now() - deps.idempotencyWindowMs,
  );
  if (stored) {
    if (stored.bodyHash !== bodyHash) throw reused();
    return { result: JSON.parse(stored.responseJson) as TriggerResult, replayed: true };
  }
  // Re-check: another request may have registered while we read the store.
  const raced = deps.inFlight.get(slot);
  if (raced) {
    if (raced.bodyHash !== bodyHash) throw reused();
    return { result: await raced.done, replayed: true };
  }
  let replayedFromStore = false;
  const done = plan(deps, input, bodyHash).catch(async (error: unknown) => {
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
    return JSON.parse(theirs.responseJson) as TriggerResult;
  });
  deps.inFlight.set(slot, { bodyHash, done });
  try {
    const result = await done;
    return { result, replayed: replayedFromStore };
  } finally {
    deps.inFlight.delete(slot);
  }
}
