import type { Clock } from './clock.js';
import type { Dispatcher, DispatchResult } from './dispatch.js';
import { nextStep, type RetryPolicy } from './retry-policy.js';
import type { ClaimedJob, JobCompletion } from './store.js';
import { renderStep, type CompiledStep, type RenderedInApp, type RenderedStep } from './templates.js';
import type { MessageContent } from './types.js';

/** A compiled workflow version, as the worker caches it. */
export interface PreparedWorkflow {
  key: string;
  name: string;
  steps: CompiledStep[];
}

export interface DeliverDeps {
  dispatcher: Dispatcher;
  clock: Clock;
  retryPolicy: RetryPolicy;
  random: () => number;
  /** A job claimed more often than this without a recorded outcome keeps crashing its worker: give up. */
  maxClaims: number;
  sendTimeoutMs: number;
}

export interface DeliveryContext {
  workflow: PreparedWorkflow | undefined;
  data: Record<string, unknown>;
  workerId: string;
}

function finished(
  job: ClaimedJob,
  workerId: string,
  at: number,
  status: 'failed' | 'skipped',
  reason: string,
): JobCompletion {
  return { jobId: job.jobId, workerId, messageId: job.messageId, at, attempts: [], status, reason };
}

/** What the delivery log keeps of a rendered message: a subject line and the text sent. */
function logged(rendered: RenderedStep): { subject: string | null; content: MessageContent } {
  switch (rendered.type) {
    case 'email':
      return { subject: rendered.subject, content: { html: rendered.html, text: rendered.text } };
    case 'push':
      return { subject: rendered.title, content: { html: null, text: rendered.body } };
    case 'webhook':
      return { subject: null, content: { html: null, text: JSON.stringify(rendered.body) } };
    case 'in_app':
      return { subject: rendered.title, content: { html: null, text: rendered.body } };
    default:
      return { subject: null, content: { html: null, text: rendered.text } };
  }
}

/**
 * Runs one delivery job: renders the step, hands it to the dispatcher (which picks the address
 * and the integrations), and decides what follows. Never throws: every path ends in a completion
 * for the store to record.
 */
export async function deliverJob(deps: DeliverDeps, job: ClaimedJob, context: DeliveryContext): Promise<JobCompletion> {
  const { workerId } = context;
  const startedAt = deps.clock.now();
  if (job.claims > deps.maxClaims) {
    return finished(job, workerId, startedAt, 'failed', `abandoned after ${job.claims - 1} claims without an outcome`);
  }
  const step = context.workflow?.steps[job.stepIndex];
  if (!step) return finished(job, workerId, startedAt, 'failed', 'the workflow step no longer exists');
  const subscriber = job.subscriber;
  if (!subscriber) return finished(job, workerId, startedAt, 'skipped', 'subscriber was deleted');

  let rendered: RenderedStep;
  const render = () =>
    renderStep(step, {
      subscriber: subscriber as unknown as Record<string, unknown>,
      data: context.data,
      workflow: { key: context.workflow!.key, name: context.workflow!.name },
    });
  try {
    try {
      rendered = render();
    } catch (error) {
      // The render time limit is wall-clock: on a starved machine (the process descheduled, a GC
      // pause) a normal template can overrun it. Once more, then it is the template's doing.
      if (!(error instanceof Error && /render limit exceeded/i.test(error.message))) throw error;
      rendered = render();
    }
  } catch (error) {
    const reason = `template render failed: ${error instanceof Error ? error.message : String(error)}`;
    return finished(job, workerId, startedAt, 'failed', reason.slice(0, 1000));
  }

  if (rendered.type === 'in_app') return addedToInbox(job, workerId, rendered, startedAt, deps.clock.now());

  let result: DispatchResult;
  // Not AbortSignal.timeout(): its timer outlives the send by the whole timeout; this one is cleared.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deps.sendTimeoutMs);
  try {
    result = await deps.dispatcher.dispatch(
      {
        environmentId: job.environmentId,
        messageId: job.messageId,
        triggerId: job.triggerId,
        workflowKey: job.workflowKey,
        subscriber,
        data: context.data,
        rendered,
      },
      deadline.signal,
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    result = { outcome: { status: 'retry', reason }, attempts: [], recipient: null };
  } finally {
    clearTimeout(timer);
  }
  const at = deps.clock.now();
  const { outcome } = result;
  if (outcome.status === 'skipped') return finished(job, workerId, at, 'skipped', outcome.reason);
  const next = nextStep(outcome, job.failedAttempts, at, deps.retryPolicy, deps.random());
  const { subject, content } = logged(rendered);
  const base = {
    jobId: job.jobId,
    workerId,
    messageId: job.messageId,
    at,
    attempts: result.attempts.map((attempt) => ({ ...attempt, detail: attempt.detail.slice(0, 2000) })),
    recipient: result.recipient,
    subject,
    content: result.content ?? content,
  };
  if (next.kind === 'retry') {
    return { ...base, status: 'retrying', reason: next.reason, retryAt: next.runAt, deferred: next.deferred };
  }
  return {
    ...base,
    status: next.status,
    reason: next.reason,
    providerMessageId: outcome.status === 'sent' ? (outcome.providerMessageId ?? null) : null,
  };
}

/**
 * An in-app step needs no provider: its item is written with the completion, in the same
 * transaction, so the message is `sent` exactly when the item is in the inbox.
 */
function addedToInbox(
  job: ClaimedJob,
  workerId: string,
  rendered: RenderedInApp,
  startedAt: number,
  at: number,
): JobCompletion {
  if (!rendered.body) return finished(job, workerId, at, 'failed', 'the in-app body rendered empty');
  const { subscriberId } = job.subscriber!;
  return {
    jobId: job.jobId,
    workerId,
    messageId: job.messageId,
    at,
    attempts: [
      {
        outcome: 'sent',
        detail: 'added to the inbox',
        durationMs: at - startedAt,
        integrationId: null,
        provider: 'in_app',
      },
    ],
    status: 'sent',
    reason: null,
    recipient: subscriberId,
    subject: rendered.title,
    content: { html: null, text: rendered.body },
    inboxItem: {
      environmentId: job.environmentId,
      subscriberId,
      item: {
        id: job.messageId,
        workflowKey: job.workflowKey,
        title: rendered.title,
        body: rendered.body,
        actionUrl: rendered.actionUrl,
        avatarUrl: rendered.avatarUrl,
        data: rendered.data,
        createdAt: at,
      },
    },
  };
}
