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
 * Renders, on the caller's thread, the steps that render in bounded time (rendersInBoundedTime:
 * only text and value outputs), and answers undefined for any other step, which goes to a render
 * thread. A hop to a thread costs the event loop more than such a render (structured clone both
 * ways, a wake-up per batch), and they cannot run away. Compiled steps are kept per version, for
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
      if (source && rendersInBoundedTime(source)) {
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
    const step = compiledStep(request);
    if (step === null) return undefined;
    try {
      return { status: 'rendered', rendered: renderStep(step, request.context, { renderLimitMs: timeoutMs }) };
    } catch (error) {
      return renderFailure(error, timeoutMs);
    }
  };
}
