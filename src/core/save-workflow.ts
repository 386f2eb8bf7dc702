import type { Clock } from './clock.js';
import { newId } from './ids.js';
import type { WorkflowConsent } from './preferences.js';
import type { TemplateStore, WorkflowStore } from './store.js';
import type { Workflow, WorkflowStep } from './types.js';
import { checkWorkflowSteps } from './workflow-checks.js';

/** What a save is given: the workflow's name (the key when absent), consent fields and steps. */
export interface WorkflowInput extends WorkflowConsent {
  name?: string;
  steps: WorkflowStep[];
}

export interface SaveWorkflowDeps {
  store: Pick<WorkflowStore, 'putWorkflow'> & Pick<TemplateStore, 'getTemplateAssets'>;
  clock: Clock;
  /** Why an outbound URL would be refused (the SSRF guard), or undefined when it is fine. */
  refuseOutboundUrl(url: string): string | undefined;
}

/**
 * Saves a workflow as its key's next version, after the checks every save passes — a PUT and a
 * restore of an earlier version alike, and a draft's preview too (core/workflow-checks.ts, where a
 * check added holds for all three): the step rules, the webhook URLs known before rendering, and
 * every template parsing, the partials and layouts it uses existing. A failed check is a 422 naming the field, and nothing is saved.
 */
export async function saveWorkflow(
  deps: SaveWorkflowDeps,
  environmentId: string,
  key: string,
  input: WorkflowInput,
): Promise<Workflow> {
  // The same checks as a draft's preview (core/workflow-checks.ts): a 422 naming each field and line.
  checkWorkflowSteps(input.steps, deps.refuseOutboundUrl, await deps.store.getTemplateAssets(environmentId));
  const { name, category, critical, preferences, steps } = input;
  return deps.store.putWorkflow(
    environmentId,
    { key, name: name ?? key, category, critical, preferences, steps, versionId: newId('wfv') },
    deps.clock.now(),
  );
}
