import type { RenderRequest } from '../core/deliver-job.js';
import {
  compileSteps,
  renderFailure,
  renderStep,
  rendersInBoundedTime,
  type CompiledStep,
  type RenderOutcome,
} from '../core/templates.js';

/**
 * Past this many characters of template, or of the values a render may read, a step goes to a
 * thread however simple it is: deriving an email's text from 1 MB of HTML holds the event loop
 * for about 60 ms on this machine.
 */
export const IN_PLACE_MAX_CHARS = 64 * 1024;

/** Whether `value` holds fewer than `budget.left` characters of strings, keys and items; stops early. */
function fitsIn(value: unknown, budget: { left: number }): boolean {
  if (typeof value === 'string') budget.left -= value.length;
  else if (Array.isArray(value)) {
    budget.left -= value.length;
    for (const item of value) if (budget.left <= 0 || !fitsIn(item, budget)) return false;
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      budget.left -= key.length + 1;
      if (budget.left <= 0 || !fitsIn(item, budget)) return false;
    }
  } else budget.left -= 8;
  return budget.left > 0;
}

/**
 * Renders, on the caller's thread, the steps that render in bounded time (rendersInBoundedTime:
 * only text and value outputs), and answers undefined for any other step, which goes to a render
 * thread. A hop to a thread costs the event loop more than such a render (structured clone both
 * ways, a wake-up per batch), and they cannot run away; large ones still go (IN_PLACE_MAX_CHARS). Compiled steps are kept per version, for
 * `versions` versions at most.
 */
export function createInPlaceRenderer(
  timeoutMs: number,
  versions: number,
): (request: RenderRequest) => RenderOutcome | undefined {
  /** By version and step index: the compiled step, or null for a step that goes to a thread. */
  const compiledByVersion = new Map<string, (CompiledStep | null)[]>();

  function compiledStep(request: RenderRequest): CompiledStep | null {
    const { versionId, steps } = request.workflow;
    let compiled = compiledByVersion.get(versionId);
    if (!compiled) {
      if (compiledByVersion.size >= versions) compiledByVersion.delete(compiledByVersion.keys().next().value!);
      compiled = [];
      compiledByVersion.set(versionId, compiled);
    }
    let step = compiled[request.stepIndex];
    if (step === undefined) {
      const source = steps[request.stepIndex];
      step = null;
      if (source && rendersInBoundedTime(source) && fitsIn(source, { left: IN_PLACE_MAX_CHARS })) {
        try {
          step = compileSteps([source])[0]!;
        } catch {
          // A thread reports the error, as for any step whose templates do not compile.
        }
      }
      compiled[request.stepIndex] = step;
    }
    return step;
  }

  return (request) => {
    // A layout or partials: templates of any kind, and CSS to inline, so a thread renders it.
    if (request.assets) return undefined;
    const step = compiledStep(request);
    if (step === null || !fitsIn(request.context, { left: IN_PLACE_MAX_CHARS })) return undefined;
    try {
      return { status: 'rendered', rendered: renderStep(step, request.context, { renderLimitMs: timeoutMs }) };
    } catch (error) {
      return renderFailure(error, timeoutMs);
    }
  };
}
