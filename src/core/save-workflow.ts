import type { Clock } from './clock.js';
import { HeraldError, type FieldError } from './errors.js';
import { newId } from './ids.js';
import type { WorkflowConsent } from './preferences.js';
import { checkSteps } from './run-engine.js';
import type { WorkflowStore } from './store.js';
import { compileSteps } from './templates.js';
import type { Workflow, WorkflowStep } from './types.js';

/** What a save is given: the workflow's name (the key when absent), consent fields and steps. */
export interface WorkflowInput extends WorkflowConsent {
  name?: string;
  steps: WorkflowStep[];
}

export interface SaveWorkflowDeps {
  store: Pick<WorkflowStore, 'putWorkflow'>;
  clock: Clock;
  /** Why an outbound URL would be refused (the SSRF guard), or undefined when it is fine. */
  refuseOutboundUrl(url: string): string | undefined;
}

/**
 * Saves a workflow as its key's next version, after the checks every save passes — a PUT and a
 * restore of an earlier version alike, so a check added here holds for both: the step rules, the
 * webhook URLs known before rendering, and every template parsing. A failed check is a 422 naming
 * the field, and nothing is saved.
 */
export async function saveWorkflow(
  deps: SaveWorkflowDeps,
  environmentId: string,
  key: string,
  input: WorkflowInput,
): Promise<Workflow> {
  const invalid = checkSteps(input.steps);
  if (invalid.length > 0) throw validationFailed(invalid);
  // A webhook URL without Liquid is known now: refuse it on save, as the send would (SSRF guard).
  const refusedUrls: FieldError[] = input.steps.flatMap((step, index) => {
    if (step.type !== 'webhook' || !step.url || /{{|{%/.test(step.url)) return [];
    const refusal = deps.refuseOutboundUrl(step.url);
    return refusal ? [{ path: `/steps/${index}/url`, message: `refused: ${refusal}` }] : [];
  });
  if (refusedUrls.length > 0) throw validationFailed(refusedUrls);
  compileSteps(input.steps); // throws a 422 naming the step, field and line
  const { name, category, critical, preferences, steps } = input;
  return deps.store.putWorkflow(
    environmentId,
    { key, name: name ?? key, category, critical, preferences, steps, versionId: newId('wfv') },
    deps.clock.now(),
  );
}

function validationFailed(errors: FieldError[]): HeraldError {
  return new HeraldError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}
