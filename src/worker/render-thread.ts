import { parentPort, workerData } from 'node:worker_threads';
import { compileSteps, renderFailure, renderStep, type CompiledStep } from '../core/templates.js';
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
const { renderLimitMs, progress: shared } = workerData as RenderThreadSetup;
const progress = new Int32Array(shared);
/** This thread's CPU ms, where Linux tells (else the limits are wall-clock). */
const cpu = ownThreadCpu();

/** Versions this thread was given; each is compiled on its first render here. */
const versions = new Map<string, { steps: WorkflowStep[]; compiled?: CompiledStep[]; error?: string }>();

function compiled(versionId: string): CompiledStep[] | string {
  const version = versions.get(versionId);
  if (!version) return 'the workflow version was not given to the render thread';
  if (!version.compiled && version.error === undefined) {
    try {
      version.compiled = compileSteps(version.steps);
    } catch (error) {
      version.error = `the workflow's templates do not compile: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return version.compiled ?? version.error!;
}

/**
 * This thread's CPU ms when the current batch started (modulo CPU_MS_MODULO): read once per batch
 * (a read costs 3–25 µs, as much as a render), so a render's CPU count includes the few earlier
 * renders of its batch — well under a millisecond each.
 */
let batchCpu = 0;

function render(item: RenderItem, index: number, sentAt: number): ThreadResult {
  // Compiling does not count towards the render's limit: the same parse already ran when the
  // workflow was saved (bounded by parseLimit there), and a 500 KB template takes a while.
  const steps = compiled(item.versionId);
  if (typeof steps === 'string') return { status: 'failed', reason: steps };
  const step = steps[item.stepIndex];
  if (!step) return { status: 'failed', reason: 'the workflow step no longer exists' };
  // The start first, then the index: the pool reads the index first, so it never pairs this
  // render with an older start and ends it early.
  Atomics.store(progress, PROGRESS_CPU, batchCpu);
  Atomics.store(progress, PROGRESS_STARTED, Date.now() - sentAt);
  Atomics.store(progress, PROGRESS_INDEX, index);
  try {
    for (;;) {
      try {
        return { status: 'rendered', rendered: renderStep(step, item.context, { renderLimitMs }) };
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
  for (const versionId of batch.forget) versions.delete(versionId);
  for (const [versionId, steps] of batch.versions) versions.set(versionId, { steps });
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
}

warmUp();
Atomics.store(progress, PROGRESS_INDEX, -1);
port.postMessage({ ready: true, tid: ownThreadId() ?? null } satisfies RenderThreadMessage);
