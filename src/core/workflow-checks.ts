import { HeraldError, type FieldError } from './errors.js';
import { checkSteps } from './run-engine.js';
import { checkStepAssets, type TemplateAssets } from './template-assets.js';
import { compileSteps, type CompiledStep } from './templates.js';
import type { WorkflowStep } from './types.js';

/** A 422 listing every error, each naming its field under `at`. */
function refusal(code: HeraldError['code'], errors: FieldError[], at: string): HeraldError {
  const placed = errors.map((error) => ({ ...error, path: `${at}${error.path}` }));
  return new HeraldError(code, placed.map((e) => `${e.path}: ${e.message}`).join('; '), placed);
}

/**
 * The checks a workflow's steps pass beyond their schema, the same on save (PUT /v1/workflows/{key})
 * and for a draft to preview: the step rules (refs, durations, conditions reading earlier steps),
 * webhook URLs without Liquid (refused now as the send would refuse them: the SSRF guard), then
 * every template's syntax, then the partials its templates render and the layouts its emails name
 * (they must exist in `assets`, the environment's). Throws a 422 naming each field (under `at`, e.g. `/workflow` for a
 * draft inside a request) and the line; returns the compiled templates.
 */
export function checkWorkflowSteps(
  steps: readonly WorkflowStep[],
  refuseOutboundUrl: (url: string) => string | undefined,
  assets: TemplateAssets,
  at = '',
): CompiledStep[] {
  const invalid = checkSteps(steps);
  if (invalid.length > 0) throw refusal('VALIDATION_FAILED', invalid, at);
  const refusedUrls: FieldError[] = steps.flatMap((step, index) => {
    if (step.type !== 'webhook' || !step.url || /{{|{%/.test(step.url)) return [];
    const refused = refuseOutboundUrl(step.url);
    return refused ? [{ path: `/steps/${index}/url`, message: `refused: ${refused}` }] : [];
  });
  if (refusedUrls.length > 0) throw refusal('VALIDATION_FAILED', refusedUrls, at);
  try {
    const compiled = compileSteps(steps);
    checkStepAssets(steps, assets);
    return compiled;
  } catch (error) {
    if (at === '' || !(error instanceof HeraldError) || !error.errors) throw error;
    throw refusal(error.code as 'TEMPLATE_INVALID', error.errors, at);
  }
}
