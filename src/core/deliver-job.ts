import type { Clock } from './clock.js';
import { nextStep, type RetryPolicy } from './retry-policy.js';
import type { ClaimedJob, JobCompletion } from './store.js';
import { renderEmail, type CompiledStep } from './templates.js';
import type { DeliveryOutcome, EmailChannel } from './types.js';

/** A compiled workflow version, as the worker caches it. */
export interface PreparedWorkflow {
  key: string;
  name: string;
  steps: CompiledStep[];
}

export interface DeliverDeps {
  channel: EmailChannel;
  clock: Clock;
  retryPolicy: RetryPolicy;
  random: () => number;
  /** Checks an address before spending a send on it. */
  isDeliverableAddress(address: string): boolean;
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
  return { jobId: job.jobId, workerId, messageId: job.messageId, at, attempt: null, status, reason };
}

/**
 * Runs one delivery job: checks the recipient, renders, sends, and decides what follows. Never
 * throws: every path ends in a completion for the store to record.
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
  if (!subscriber.email) return finished(job, workerId, startedAt, 'skipped', 'subscriber has no email address');
  if (!deps.isDeliverableAddress(subscriber.email)) {
    return finished(job, workerId, startedAt, 'failed', `invalid email address: ${subscriber.email}`);
  }

  let rendered;
  const render = () =>
    renderEmail(step, {
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

  let outcome: DeliveryOutcome;
  // Not AbortSignal.timeout(): its timer outlives the send by the whole timeout; this one is cleared.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deps.sendTimeoutMs);
  try {
    outcome = await deps.channel.send(
      {
        messageId: job.messageId,
        environmentId: job.environmentId,
        to: subscriber.email,
        toName: subscriber.name ?? null,
        subject: rendered.subject,
        html: rendered.html ?? undefined,
        text: rendered.text,
      },
      deadline.signal,
    );
  } catch (error) {
    outcome = { status: 'retry', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
  const at = deps.clock.now();
  const durationMs = at - startedAt;
  const next = nextStep(outcome, job.failedAttempts, at, deps.retryPolicy, deps.random());
  const detail =
    outcome.status === 'sent' ? (outcome.detail ?? outcome.providerMessageId ?? 'accepted') : outcome.reason;
  const base = {
    jobId: job.jobId,
    workerId,
    messageId: job.messageId,
    at,
    attempt: { outcome: outcome.status, detail: detail.slice(0, 2000), durationMs },
    recipient: subscriber.email,
    subject: rendered.subject,
    content: { html: rendered.html, text: rendered.text },
  };
  if (next.kind === 'retry') return { ...base, status: 'retrying', reason: next.reason, retryAt: next.runAt };
  return {
    ...base,
    status: next.status,
    reason: next.reason,
    providerMessageId: outcome.status === 'sent' ? (outcome.providerMessageId ?? null) : null,
  };
}
