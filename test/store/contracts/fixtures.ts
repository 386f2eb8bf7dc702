import { newId } from '../../../src/core/ids.js';
import type { ClaimedJob, JobCompletion, RecipientUpsert, Store, TriggerPlan } from '../../../src/core/store.js';

/** A store opened for one test, on its own file or schema; `close` removes it. */
export interface OpenedStore {
  store: Store;
  environmentId: string;
  close(): Promise<void>;
}

/** Opens a fresh store; each contract suite calls it once per test. */
export type OpenStore = () => Promise<OpenedStore>;

export const T0 = 1_800_000_000_000;
export const LEASE = 30_000;

export async function seedWorkflow(store: Store, env: string) {
  return store.putWorkflow(
    env,
    { key: 'w', name: 'W', steps: [{ type: 'email', subject: 's', text: 't' }], versionId: newId('wfv', T0) },
    T0,
  );
}

/** Commits one trigger of workflow `w` with an email to each of `count` subscribers (s0, s1, …). */
export async function seedMessages(store: Store, env: string, count: number, at = T0): Promise<TriggerPlan> {
  const workflow = (await store.getWorkflow(env, 'w')) ?? (await seedWorkflow(store, env));
  const plan: TriggerPlan = {
    environmentId: env,
    triggerId: newId('trg', at),
    workflowKey: 'w',
    workflowVersionId: workflow.versionId,
    dataJson: '{"n":1}',
    recipients: Array.from({ length: count }, (_, i) => ({
      subscriberId: `s${i}`,
      fields: { email: `s${i}@example.com` },
    })),
    messages: Array.from({ length: count }, (_, i) => ({
      id: newId('msg', at),
      subscriberId: `s${i}`,
      stepIndex: 0,
      channel: 'email' as const,
      status: 'queued' as const,
    })),
    // The one step went out with the trigger: the runs are over at once.
    runs: Array.from({ length: count }, (_, i) => ({ id: newId('run', at), subscriberId: `s${i}` })),
    start: { state: 'completed', stepIndex: 1, dueAt: null },
    sendAt: null,
    cancellationKey: null,
    createdAt: at,
  };
  await store.commitTrigger(plan);
  return plan;
}

/** The completion a worker records after the provider accepted the email. */
export function sent(job: ClaimedJob, at: number, detail: string, subject: string, durationMs: number): JobCompletion {
  return {
    jobId: job.jobId,
    workerId: 'w1',
    messageId: job.messageId,
    at,
    attempts: [{ outcome: 'sent', detail, durationMs }],
    status: 'sent',
    reason: null,
    recipient: job.subscriber?.email ?? null,
    subject,
    content: { html: null, text: `body of ${subject}` },
  };
}

/** The version of workflow `log` (one email step), saved on first use. */
export async function workflowVersion(store: Store, env: string): Promise<string> {
  const workflow =
    (await store.getWorkflow(env, 'log')) ??
    (await store.putWorkflow(
      env,
      { key: 'log', name: 'Log', steps: [{ type: 'email', subject: 's', text: 't' }], versionId: newId('wfv', T0) },
      T0,
    ));
  return workflow.versionId;
}

/** A plan with one message per recipient; its ids carry the time `at`. */
export async function logPlan(
  store: Store,
  env: string,
  recipients: RecipientUpsert[],
  at = T0,
  extra: Partial<TriggerPlan> = {},
): Promise<TriggerPlan> {
  return {
    environmentId: env,
    triggerId: newId('trg', at),
    workflowKey: 'log',
    workflowVersionId: await workflowVersion(store, env),
    dataJson: '{}',
    recipients,
    messages: recipients.map((r) => ({
      id: newId('msg', at),
      subscriberId: r.subscriberId,
      stepIndex: 0,
      channel: 'email' as const,
      status: 'queued' as const,
    })),
    runs: recipients.map((r) => ({ id: newId('run', at), subscriberId: r.subscriberId })),
    start: { state: 'completed', stepIndex: 1, dueAt: null },
    sendAt: null,
    cancellationKey: null,
    createdAt: at,
    ...extra,
  };
}

/** Recipients with fields: created by the trigger itself. */
export const inline = (...ids: string[]): RecipientUpsert[] =>
  ids.map((subscriberId) => ({ subscriberId, fields: {} }));
