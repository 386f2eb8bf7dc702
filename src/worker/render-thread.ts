import { parentPort, workerData } from 'node:worker_threads';
import { compileLayout, type CompiledLayout } from '../core/email-layout.js';
import { loadCssInliner } from '../core/inline-css.js';
import { createLiquidEngine, type LiquidEngine } from '../core/liquid-sandbox.js';
import { layoutKeyOf, type TemplateAssets } from '../core/template-assets.js';
import { compileSteps, renderFailure, renderStep, type CompiledStep } from '../core/templates.js';
import { renderLocale } from '../core/translations.js';
import type { WorkflowStep } from '../core/types.js';
import { CPU_MS_MODULO, cpuMsBetween, ownThreadCpu, ownThreadId } from './thread-cpu.js';
import {
  PROGRESS_CPU,
  PROGRESS_INDEX,
  PROGRESS_STARTED,
  type RenderBatch,
  type RenderItem,
  type RenderThreadMessage,
  type RenderThreadSetup,
  type ThreadResult,
} from './render-protocol.js';

/**
 * A render thread: compiles workflow versions once and renders batches of steps. It may be ended
 * at any moment by the pool (a render ran past the hard limit); it holds nothing that matters
 * beyond its compiled templates.
 */
const port = parentPort!;
const { renderLimitMs, progress: shared, defaultLocale, defaultTimeZone } = workerData as RenderThreadSetup;
const progress = new Int32Array(shared);
/** This thread's CPU ms, where Linux tells (else the limits are wall-clock). */
const cpu = ownThreadCpu();

/** Versions this thread was given; each is compiled on its first render here. */
const versions = new Map<string, { steps: WorkflowStep[]; compiled?: CompiledStep[] | string }>();

/**
 * Environments' template assets this thread was given, one per revision: the Liquid engine whose
 * `{% render %}` reads their partials, and what was compiled with it (steps per version, layouts),
 * each on first use.
 */
const assetsById = new Map<
  string,
  {
    assets: TemplateAssets;
    engine?: LiquidEngine;
    steps: Map<string, CompiledStep[] | string>;
    layouts: Map<string, CompiledLayout | string>;
  }
>();

const reason = (what: string, error: unknown) => `${what}: ${error instanceof Error ? error.message : String(error)}`;

function compiled(versionId: string, assetsId: string | undefined): CompiledStep[] | string {
  const version = versions.get(versionId);
  if (!version) return 'the workflow version was not given to the render thread';
  const compile = (engine?: LiquidEngine) => {
    try {
      return compileSteps(version.steps, engine);
    } catch (error) {
      return reason("the workflow's templates do not compile", error);
    }
  };
  if (assetsId === undefined) return (version.compiled ??= compile());
  const given = assetsById.get(assetsId);
  if (!given) return 'the template assets were not given to the render thread';
  given.engine ??= createLiquidEngine(given.assets.partials);
  let steps = given.steps.get(versionId);
  if (steps === undefined) given.steps.set(versionId, (steps = compile(given.engine)));
  return steps;
}

/** The layout an email step renders in with the assets given as `assetsId`; null for none. */
function layoutFor(versionId: string, stepIndex: number, assetsId: string | undefined): CompiledLayout | null | string {
  const step = versions.get(versionId)?.steps[stepIndex];
  const given = assetsId === undefined ? undefined : assetsById.get(assetsId);
  if (step?.type !== 'email' || !given) return null;
  const key = layoutKeyOf(step, given.assets.defaultLayout);
  if (key === null) return null;
  let layout = given.layouts.get(key);
  if (layout === undefined) {
    try {
      layout = compileLayout((given.engine ??= createLiquidEngine(given.assets.partials)), given.assets, key);
    } catch (error) {
      layout = reason('the email cannot render in its layout', error);
    }
    given.layouts.set(key, layout);
  }
  return layout;
}

/**
 * This thread's CPU ms when the current batch started (modulo CPU_MS_MODULO): read once per batch
 * (a read costs 3–25 µs, as much as a render), so a render's CPU count includes the few earlier
 * renders of its batch — well under a millisecond each.
 */
let batchCpu = 0;
let cssInlinerLoaded = false;

function render(item: RenderItem, index: number, sentAt: number): ThreadResult {
  // Compiling does not count towards the render's limit: the same parse already ran when the
  // workflow was saved (bounded by parseLimit there), and a 500 KB template takes a while.
  const steps = compiled(item.versionId, item.assetsId);
  if (typeof steps === 'string') return { status: 'failed', reason: steps };
  const step = steps[item.stepIndex];
  if (!step) return { status: 'failed', reason: 'the workflow step no longer exists' };
  const layout = layoutFor(item.versionId, item.stepIndex, item.assetsId);
  if (typeof layout === 'string') return { status: 'failed', reason: layout };
  // The start first, then the index: the pool reads the index first, so it never pairs this
  // render with an older start and ends it early.
  Atomics.store(progress, PROGRESS_CPU, batchCpu);
  Atomics.store(progress, PROGRESS_STARTED, Date.now() - sentAt);
  Atomics.store(progress, PROGRESS_INDEX, index);
  const { subscriber } = item.context;
  const translations = item.assetsId === undefined ? undefined : assetsById.get(item.assetsId)?.assets.translations;
  try {
    for (;;) {
      const locale = renderLocale({
        locale: typeof subscriber.locale === 'string' ? subscriber.locale : null,
        timeZone: typeof subscriber.timezone === 'string' ? subscriber.timezone : null,
        defaultLocale,
        defaultTimeZone,
        translations: translations ?? {},
      });
      try {
        const rendered = renderStep(step, item.context, { renderLimitMs, locale }, layout);
        return locale.warnings.length > 0
          ? { status: 'rendered', rendered, warnings: locale.warnings }
          : { status: 'rendered', rendered };
      } catch (error) {
        const failure = renderFailure(error, renderLimitMs);
        // Liquid's limit is wall-clock. If this thread spent most of that time waiting for a CPU
        // rather than rendering, the template did not run away: render it again. A runaway uses
        // up its CPU time over the tries and fails; the pool's limit counts from the first try.
        const starved =
          failure.status === 'overran' &&
          /time limit/.test(failure.reason) &&
          cpu !== undefined &&
          cpuMsBetween(batchCpu, cpu()) < renderLimitMs / 2;
        if (!starved) return failure;
      }
    }
  } finally {
    Atomics.store(progress, PROGRESS_INDEX, -1);
  }
}

port.on('message', (batch: RenderBatch) => {
  for (const versionId of batch.forget) {
    versions.delete(versionId);
    for (const given of assetsById.values()) given.steps.delete(versionId);
  }
  for (const [versionId, steps] of batch.versions) versions.set(versionId, { steps });
  for (const assetsId of batch.forgetAssets) assetsById.delete(assetsId);
  for (const [assetsId, assets] of batch.assets) {
    assetsById.set(assetsId, { assets, steps: new Map(), layouts: new Map() });
  }
  // Loading the CSS inliner takes a few hundred ms of CPU: done before the first batch with an
  // email starts (and before its CPU time is read), it counts towards no render's limits.
  if (
    !cssInlinerLoaded &&
    batch.items.some((item) => versions.get(item.versionId)?.steps[item.stepIndex]?.type === 'email')
  ) {
    loadCssInliner();
    cssInlinerLoaded = true;
  }
  batchCpu = Math.floor(cpu?.() ?? 0) % CPU_MS_MODULO;
  const results: ThreadResult[] = [];
  for (let i = 0; i < batch.items.length; i++) {
    const result = render(batch.items[i]!, i, batch.sentAt);
    results.push(result);
    // Stop here: the rest may run away as well, and the pool routes a suspect step differently.
    if (result.status === 'overran') break;
  }
  port.postMessage({ id: batch.id, results } satisfies RenderThreadMessage);
});

/**
 * A fresh thread's first parse and render cost some 100 ms of compiling liquidjs itself (measured
 * on a busy 2-core machine): spent here, before the thread takes work, they count towards no
 * render's limit, and a replacement thread does not lose its first render to them.
 */
function warmUp(): void {
  const steps = compileSteps([
    { type: 'email', subject: 'Hi {{ subscriber.name }}', html: '<p>{{ data.x | upcase }}</p>', text: '{{ data.x }}' },
    { type: 'sms', text: '{% for i in data.list %}{{ i }}{% endfor %}' },
    { type: 'push', title: 'T', body: '{{ data.x | default: "-" }}', data: { k: '{{ data.x }}' } },
    { type: 'chat', text: '{% if data.x %}yes{% endif %}', blocks: [{ text: '{{ data.x }}' }] },
    { type: 'webhook', body: { x: '{{ data.x }}', n: '{{ data.n }}' } },
    { type: 'in_app', body: '{{ data.x }}', actionUrl: '/a/{{ data.n }}', data: { n: '{{ data.n }}' } },
  ]);
  const context = {
    subscriber: { name: 'A' },
    data: { x: 'a', n: 1, list: [1, 2] },
    workflow: { key: 'k', name: 'n' },
  };
  for (let round = 0; round < 3; round++) for (const step of steps) renderStep(step, context);
  // A layout and partials, with arguments and nested, through an engine of their own.
  const assets = {
    revision: '0',
    layouts: { l: { html: "<main>{{ content }}</main>{% render 'f' %}", text: '{{ content }}', variables: {} } },
    defaultLayout: 'l',
    partials: { f: "<i>{{ subscriber.name }}</i>{% render 'b', x: 2 %}", b: '{{ x | plus: 1 }}' },
    translations: {},
  };
  const engine = createLiquidEngine(assets.partials);
  const [email] = compileSteps([{ type: 'email', subject: 'S', html: "<p>{% render 'b', x: data.n %}</p>" }], engine);
  const layout = compileLayout(engine, assets, 'l');
  for (let round = 0; round < 3; round++) renderStep(email!, context, {}, layout);
}

warmUp();
Atomics.store(progress, PROGRESS_INDEX, -1);
port.postMessage({ ready: true, tid: ownThreadId() ?? null } satisfies RenderThreadMessage);
