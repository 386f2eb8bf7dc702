import type { Clock } from './clock.js';
import { deliveredWithCompletion } from './delivery-policy.js';
import type { Dispatcher, DispatchResult } from './dispatch.js';
import { canonicalTimeZone, formatLocal, timeZoneOr } from './local-time.js';
import { preferenceRefusal } from './preferences.js';
import { nextStep, type RetryPolicy } from './retry-policy.js';
import type { RunawayGuard } from './runaway-guard.js';
import { quietHoursEnd } from './send-times.js';
import type { ClaimedJob, JobCompletion, WorkflowVersion } from './store.js';
import { usesTemplateAssets, type TemplateAssets } from './template-assets.js';
import type { RenderContext, RenderedInApp, RenderedStep, RenderOutcome } from './templates.js';
import { digestStandIn } from './test-send.js';
import { isSendingStep, type MessageChannel, type MessageContent } from './types.js';
import type { UnsubscribeClaims } from './unsubscribe.js';

/** One step of one workflow version to render for one recipient. */
export interface RenderRequest {
  workflow: WorkflowVersion;
  stepIndex: number;
  context: RenderContext;
  /**
   * The environment's layouts and partials as they are now, when the step uses them (an email in
   * a layout, templates that render partials); absent otherwise, and the step renders as in an
   * environment without any. `id` names the environment's revision: renderers keep what they
   * compiled from the assets by it.
   */
  assets?: { id: string; assets: TemplateAssets };
  /**
   * Asked right before the render starts (it may wait in a queue first): a reason not to run it
   * (the outcome is then `refused` with that reason), or undefined.
   */
  refusal(): string | undefined;
}

/**
 * Renders a step where a runaway template cannot hold up anything else, within a hard time
 * limit. Resolves with every outcome of the template; rejects only if rendering is unavailable.
 */
export type RenderStep = (request: RenderRequest) => Promise<RenderOutcome>;

export interface DeliverDeps {
  render: RenderStep;
  runaways: RunawayGuard;
  dispatcher: Dispatcher;
  clock: Clock;
  retryPolicy: RetryPolicy;
  random: () => number;
  /** A job claimed more often than this without a recorded outcome keeps crashing its worker: give up. */
  maxClaims: number;
  sendTimeoutMs: number;
  /** The time zone of subscribers without a valid one, for quiet hours. */
  defaultTimeZone: string;
  /**
   * Makes the one-click unsubscribe link every non-critical email carries (List-Unsubscribe);
   * undefined when Herald has no public URL (--public-url), and emails then carry none.
   */
  unsubscribeUrl?: (claims: UnsubscribeClaims) => string;
}

export interface DeliveryContext {
  workflow: WorkflowVersion | undefined;
  data: Record<string, unknown>;
  workerId: string;
  /**
   * The environment's template assets now (read through a short cache): layouts, partials and
   * translations apply as they are when a message renders, while its workflow version stays the
   * one its trigger saw.
   */
  assets?: TemplateAssets;
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

/** The logged content with what its render warned of (a missing translation, a bad date), if anything. */
function withWarnings(content: MessageContent, warnings: string[] | undefined): MessageContent {
  return warnings && warnings.length > 0 ? { ...content, warnings } : content;
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
 * and the integrations), and decides what follows. Every outcome of the message ends in a
 * completion for the store to record; it throws only if rendering is unavailable (the job is then
 * claimed again once its lease runs out).
 */
export async function deliverJob(deps: DeliverDeps, job: ClaimedJob, context: DeliveryContext): Promise<JobCompletion> {
  const { workerId, workflow } = context;
  const startedAt = deps.clock.now();
  if (job.claims > deps.maxClaims) {
    return finished(job, workerId, startedAt, 'failed', `abandoned after ${job.claims - 1} claims without an outcome`);
  }
  if (!workflow?.steps[job.stepIndex]) {
    return finished(job, workerId, startedAt, 'failed', 'the workflow step no longer exists');
  }
  const subscriber = job.subscriber;
  if (!subscriber) return finished(job, workerId, startedAt, 'skipped', 'subscriber was deleted');
  // Checked here, as the message goes out, not when the trigger planned it: a change made while
  // its run waited (a delay, a digest, a retry) counts. Before rendering: a refused step costs nothing.
  // A test send is made as if the workflow were critical (core/test-send.ts).
  const step = workflow.steps[job.stepIndex]!;
  if (isSendingStep(step) && !job.test) {
    const refusal = preferenceRefusal(workflow, subscriber.preferences, step.type);
    if (refusal !== undefined) return finished(job, workerId, startedAt, 'skipped', refusal);
  }

  const quietHours = subscriber.preferences?.quietHours;
  const quietUntil = quietHoursEnd(
    {
      quietHours,
      timezone: subscriber.timezone,
      fallbackTimeZone: deps.defaultTimeZone,
      critical: workflow.critical === true || job.test,
      channel: workflow.steps[job.stepIndex]!.type as MessageChannel,
    },
    startedAt,
  );
  if (quietUntil !== undefined) {
    // Nothing is sent and nothing failed: the job waits, like a send held for a busy destination,
    // without counting as an attempt or a claim (JobCompletion.deferred).
    const zone = timeZoneOr(subscriber.timezone, deps.defaultTimeZone);
    return {
      jobId: job.jobId,
      workerId,
      messageId: job.messageId,
      at: startedAt,
      attempts: [],
      status: 'retrying',
      reason: `deferred by quiet hours (${quietHours!.start}–${quietHours!.end} ${canonicalTimeZone(zone)}) until ${formatLocal(quietUntil, zone)}`,
      retryAt: quietUntil,
      deferred: true,
    };
  }

  // Made before the render, so templates can link it: the same link List-Unsubscribe carries.
  const unsubscribeUrl =
    step.type === 'email' && !workflow.critical && deps.unsubscribeUrl
      ? deps.unsubscribeUrl({
          environmentId: job.environmentId,
          subscriberId: subscriber.subscriberId,
          workflowKey: workflow.key,
        })
      : null;
  const { assets } = context;
  const key = { triggerId: job.triggerId, versionId: workflow.versionId, stepIndex: job.stepIndex };
  const digest = job.digest ?? (job.test ? digestStandIn(workflow.steps, job.stepIndex, context.data) : undefined);
  const render = await deps.render({
    workflow,
    stepIndex: job.stepIndex,
    context: {
      subscriber: subscriber as unknown as Record<string, unknown>,
      data: context.data,
      workflow: { key: workflow.key, name: workflow.name },
      ...(digest ? { digest } : {}),
      ...(step.type === 'email' ? { unsubscribeUrl } : {}),
    },
    ...(assets &&
      usesTemplateAssets(step, assets) && {
        assets: { id: `${job.environmentId}#${assets.revision}`, assets },
      }),
    refusal: () => deps.runaways.refusal(key),
  });
  if (render.status !== 'refused') deps.runaways.record(key, render.status === 'overran');
  if (render.status !== 'rendered') {
    // A template that fails or runs away does so again: the message fails now, with no retries.
    // The render limit is not retried either: renders run in threads of their own, so a busy
    // event loop no longer eats into it, and it is thousands of times a normal render.
    const reason = `template render failed: ${render.reason}`;
    return finished(job, workerId, deps.clock.now(), 'failed', reason.slice(0, 1000));
  }
  const rendered: RenderedStep = render.rendered;
  const { warnings } = render;

  if (deliveredWithCompletion(rendered)) {
    return addedToInbox(job, workerId, rendered, startedAt, deps.clock.now(), warnings);
  }

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
        ...(unsubscribeUrl !== null && { unsubscribeUrl }),
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
    content: withWarnings(result.content ?? content, warnings),
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
  warnings: string[] | undefined,
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
    content: withWarnings({ html: null, text: rendered.body }, warnings),
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
