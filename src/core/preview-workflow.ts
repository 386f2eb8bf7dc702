import type { Template } from 'liquidjs';
import type { Clock } from './clock.js';
import type { RenderStep } from './deliver-job.js';
import { canonicalTimeZone, formatLocal, timeZoneOr } from './local-time.js';
import { preferenceRefusal } from './preferences.js';
import { previewAddress, type ChannelRouting } from './preview-address.js';
import { stepRef } from './run-engine.js';
import { nextScheduled, parseSchedule, quietHoursEnd, sendWindowOpensAt } from './send-times.js';
import type { WorkflowVersion } from './store.js';
import { usesTemplateAssets, type TemplateAssets } from './template-assets.js';
import { unsetVariables } from './template-variables.js';
import {
  compileRunParts,
  renderRunPart,
  type CompiledRunPart,
  type CompiledStep,
  type RenderContext,
  type RenderedStep,
  type RenderOutcome,
} from './templates.js';
import { digestStandIn } from './test-send.js';
import {
  isSendingStep,
  type ControlStep,
  type MessageChannel,
  type SendingStep,
  type Subscriber,
  type WorkflowStep,
} from './types.js';

/**
 * A workflow preview (POST /v1/workflows/{key}/preview, POST /v1/workflows/preview): what each step
 * would do for one subscriber and this data, now, without a side effect (nothing is written, nothing
 * sent). The rules are the send path's: conditions as the run engine evaluates them, preferences
 * as a send checks them (the same skip reasons), addresses as the dispatcher finds them, templates
 * rendered where a runaway cannot hold the caller, under the same render limit. What a preview
 * assumes, since nothing runs:
 * - earlier steps that would run are `sent` for conditions reading `steps.<ref>.status` (and
 *   `skipped` or `failed` as they would end otherwise);
 * - delays, digests and throttles are described, not waited for or counted; steps after a digest
 *   see a digest of this one event (`{count: 1, events: [data]}`);
 * - quiet hours and send windows are reported as warnings, as a send made now would meet them.
 */

/** One step's preview. */
export interface StepPreview {
  ref: string;
  type: WorkflowStep['type'];
  /** Sending steps: the channel. */
  channel?: MessageChannel;
  /** Sending steps: where it would go, as the delivery log shows the recipient; null when nowhere. */
  address?: string | null;
  /** Sending steps: the provider that would be tried first. */
  via?: string;
  wouldRun: boolean;
  /** Why it would not run: the reason its message would record. */
  reason?: string;
  /** Delays, digests and throttles: what they would do. */
  does?: string;
  /** Sending steps: what it renders to (the fields of its type). */
  rendered?: Record<string, unknown>;
  /** The step's template or condition failed or ran past the render limit. */
  error?: string;
  warnings: string[];
}

export interface WorkflowPreview {
  workflow: { key: string; name: string; version: number | null };
  subscriberId: string;
  locale: string | null;
  steps: StepPreview[];
  warnings: string[];
}

export interface PreviewDeps {
  /** Renders off the caller's thread within the render limit (a render pool). */
  render: RenderStep;
  routing: ChannelRouting;
  isDeliverableAddress(address: string): boolean;
  clock: Clock;
  /** The time zone of subscribers without a valid one (--default-timezone). */
  defaultTimeZone: string;
}

export interface PreviewInput {
  environmentId: string;
  /** A saved version, or a draft (its versionId names its content, for the render threads' cache). */
  workflow: WorkflowVersion & { version: number | null };
  /** The workflow's compiled templates (compileSteps), for the warnings on unset variables. */
  compiled: readonly CompiledStep[];
  subscriber: Subscriber;
  data: Record<string, unknown>;
  /** Overrides the subscriber's locale in the templates (`subscriber.locale`). */
  locale?: string;
  /** The environment's layouts, partials and translations, as a send would render with them now. */
  assets: TemplateAssets;
}

const STEPS_READ = /\bsteps\s*\./;

type NotRun = (reason: string, as?: 'skipped' | 'failed') => void;

export async function previewWorkflow(deps: PreviewDeps, input: PreviewInput): Promise<WorkflowPreview> {
  const { workflow, data } = input;
  const steps = workflow.steps;
  const subscriber: Subscriber = input.locale ? { ...input.subscriber, locale: input.locale } : input.subscriber;
  const now = deps.clock.now();
  const zone = timeZoneOr(subscriber.timezone, deps.defaultTimeZone);
  const parts = compileRunParts(steps);
  const base = { subscriber: subscriber as unknown as Record<string, unknown>, data };
  const contextAt = (index: number): RenderContext => {
    const digest = digestStandIn(steps, index, data);
    return { ...base, workflow: { key: workflow.key, name: workflow.name }, ...(digest && { digest }) };
  };
  // Every sending step is rendered, whether or not it would run: the pool takes them together.
  const outcomes = await Promise.all(
    steps.map((step, stepIndex) =>
      isSendingStep(step)
        ? deps.render({
            workflow,
            stepIndex,
            context: contextAt(stepIndex),
            ...(usesTemplateAssets(step, input.assets) && {
              assets: { id: `${input.environmentId}#${input.assets.revision}`, assets: input.assets },
            }),
            refusal: () => undefined,
          })
        : undefined,
    ),
  );
  const warnings: string[] = [];
  if (steps.some((step) => step.if !== undefined && STEPS_READ.test(step.if))) {
    warnings.push('conditions reading steps.<ref>.status assume that the earlier steps that would run were sent');
  }
  const statuses: Record<string, { status: string }> = {};
  /** Why the run would end early (a condition or control template failed): later steps do not run. */
  let ended: string | undefined;
  const previews: StepPreview[] = [];

  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!;
    const ref = stepRef(step, index);
    const preview: StepPreview = { ref, type: step.type, wouldRun: true, warnings: [] };
    /** How its message would end, for the conditions of later steps: the first reason not to run decides. */
    let status: 'sent' | 'skipped' | 'failed' = 'sent';
    const notRun: NotRun = (reason, as = 'skipped') => {
      if (!preview.wouldRun) return;
      preview.wouldRun = false;
      preview.reason = reason;
      status = as;
    };
    const scope = () => ({ ...contextAt(index), steps: statuses });
    if (ended) notRun(ended);
    const condition = parts[index]?.condition;
    if (!ended && condition) {
      try {
        if (renderRunPart(condition, scope()) !== '1') notRun(`condition not met: ${step.if!.slice(0, 300)}`);
      } catch (error) {
        preview.error = `the condition failed: ${messageOf(error)}`;
        ended = `the run would end failed at step ${ref}: ${preview.error}`;
        notRun(ended);
        warnings.push(ended);
      }
    }
    if (isSendingStep(step)) {
      await previewSend(deps, input, subscriber, index, outcomes[index]!, preview, notRun, now, zone);
      statuses[ref] = { status };
    } else if (!ended) {
      const control = describeControl(step, parts[index]!, scope, now, zone);
      if ('error' in control) {
        preview.error = control.error;
        ended = `the run would end failed at step ${ref}: ${control.error}`;
        notRun(ended);
        warnings.push(ended);
      } else if (preview.wouldRun) preview.does = control.does;
    }
    previews.push(preview);
  }
  return {
    workflow: { key: workflow.key, name: workflow.name, version: workflow.version },
    subscriberId: subscriber.subscriberId,
    locale: subscriber.locale,
    steps: previews,
    warnings,
  };
}

/** A sending step: its render, consent, address and what would hold it now. */
async function previewSend(
  deps: PreviewDeps,
  input: PreviewInput,
  subscriber: Subscriber,
  index: number,
  outcome: RenderOutcome,
  preview: StepPreview,
  notRun: NotRun,
  now: number,
  zone: string,
): Promise<void> {
  const step = input.workflow.steps[index] as SendingStep;
  const channel = step.type;
  preview.channel = channel;
  const refusal = preferenceRefusal(input.workflow, subscriber.preferences, channel);
  if (refusal) notRun(refusal);
  let rendered: RenderedStep | null = null;
  if (outcome.status === 'rendered') {
    rendered = outcome.rendered;
    const { type: _type, ...fields } = rendered;
    preview.rendered = fields;
    if (outcome.warnings) preview.warnings.push(...outcome.warnings);
    if (rendered.type === 'in_app' && !rendered.body) notRun('the in-app body rendered empty', 'failed');
  } else {
    preview.error = outcome.reason;
    notRun(`template render failed: ${outcome.reason}`.slice(0, 1000), 'failed');
  }
  const compiled = input.compiled[index];
  if (compiled) {
    const digest = digestStandIn(input.workflow.steps, index, input.data);
    const scope = { subscriber, data: input.data, workflow: { key: input.workflow.key, name: input.workflow.name } };
    preview.warnings.push(...unsetVariables(compiled, digest ? { ...scope, digest } : scope));
  }
  const where = await previewAddress(
    deps.routing,
    input.environmentId,
    channel,
    subscriber,
    rendered,
    deps.isDeliverableAddress,
  );
  preview.address = where.address;
  if (where.via) preview.via = where.via;
  if (where.refused) notRun(where.refused.reason, where.refused.status);
  if (!preview.wouldRun) return;
  if (step.window !== undefined) {
    const opensAt = sendWindowOpensAt(step.window, zone, now);
    if (opensAt > now) {
      preview.warnings.push(
        `outside its send window now: a run reaching it now waits until ${formatLocal(opensAt, zone)}`,
      );
    }
  }
  const quietHours = subscriber.preferences?.quietHours;
  const quietUntil = quietHoursEnd(
    {
      quietHours,
      timezone: subscriber.timezone,
      fallbackTimeZone: zone,
      critical: input.workflow.critical === true,
      channel,
    },
    now,
  );
  if (quietUntil !== undefined) {
    preview.warnings.push(
      `in quiet hours now (${quietHours!.start}–${quietHours!.end} ${canonicalTimeZone(zone)}): a send now is deferred until ${formatLocal(quietUntil, zone)}`,
    );
  }
}

/** What a delay, digest or throttle would do, or the error of its control template. */
function describeControl(
  step: ControlStep,
  part: CompiledRunPart,
  scope: () => Record<string, unknown>,
  now: number,
  zone: string,
): { does: string } | { error: string } {
  const render = (templates: Template[], what: string): string | { error: string } => {
    try {
      return renderRunPart(templates, scope());
    } catch (error) {
      return { error: `the ${what} failed: ${messageOf(error)}` };
    }
  };
  let keyed = '';
  if (part.key) {
    const key = render(part.key, 'key');
    if (typeof key !== 'string') return key;
    keyed = `, key ${JSON.stringify(key.slice(0, 100))}`;
  }
  switch (step.type) {
    case 'delay': {
      if (step.for !== undefined) return { does: `waits ${step.for}` };
      const text = render(part.until!, 'until');
      if (typeof text !== 'string') return text;
      const until = Date.parse(text);
      if (!Number.isFinite(until)) {
        return { error: `until gave ${JSON.stringify(text.slice(0, 100))}, which is not an ISO 8601 time` };
      }
      return {
        does: until > now ? `waits until ${new Date(until).toISOString()}` : `does not wait (${text} is past)`,
      };
    }
    case 'digest': {
      const mode = step.mode === 'first-now' ? '; the first event goes on at once' : '';
      const schedule = step.schedule === undefined ? undefined : parseSchedule(step.schedule);
      if (schedule) {
        const closes = formatLocal(nextScheduled(now, schedule, zone), zone);
        return { does: `digest until ${step.schedule} (next: ${closes})${keyed}${mode}` };
      }
      return { does: `digest window ${step.window}${keyed}${mode}` };
    }
    case 'throttle': {
      const runs = `${step.limit} run${step.limit === 1 ? '' : 's'}`;
      return { does: `lets ${runs} per ${step.window} through for this recipient${keyed}; not counted in a preview` };
    }
  }
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
