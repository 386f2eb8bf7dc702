import type { WorkflowStore } from '../core/store.js';
import type { WorkflowSteps } from '../core/template-assets.js';

/**
 * Every workflow of the environment with its current steps, page by page: what the checks before
 * deleting a layout or partial read (environments have tens of workflows, not thousands).
 */
export async function currentWorkflows(
  store: Pick<WorkflowStore, 'listWorkflows'>,
  env: string,
): Promise<WorkflowSteps[]> {
  const workflows: WorkflowSteps[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listWorkflows(env, 100, cursor);
    workflows.push(...page.items.map(({ key, steps }) => ({ key, steps })));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return workflows;
}
