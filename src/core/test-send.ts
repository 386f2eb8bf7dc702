import { HeraldError } from './errors.js';
import { newId } from './ids.js';
import { planRuns } from './run-engine.js';
import type { TriggerPlan } from './store.js';
import type { DigestContext } from './templates.js';
import { recipientUpsert, type RecipientInput, type TriggerDeps, type TriggerResult } from './trigger-workflow.js';
import { isSendingStep, type WorkflowStep } from './types.js';

/**
 * Test sends (POST /v1/workflows/{key}/test): one real send of each sending step of a workflow's
 * current version to one recipient, now. It is a trigger like any other, committed the same way
 * (trigger, run, messages and jobs in one transaction, answered 202 after it), so its messages are
 * delivered, retried, failed over and logged like any message. What differs, on purpose:
 *
 * - every sending step is queued at commit: delays, digests, throttles, conditions and send
 *   windows are passed over (the run is `completed` at once), and steps after a digest see a digest
 *   of this one event;
 * - the trigger and its messages are marked `test`, and their sends are made as if the workflow
 *   were critical: preferences and quiet hours do not hold them (core/deliver-job.ts). The one-click
 *   unsubscribe link an email carries stays as the workflow has it, so the test shows the real email.
 */
export interface TestSendInput {
  environmentId: string;
  workflowKey: string;
  /** One recipient: an existing subscriber's id, or an object created or updated as a trigger's is. */
  to: RecipientInput;
  data?: Record<string, unknown>;
}

export async function testWorkflow(
  deps: Pick<TriggerDeps, 'store' | 'clock' | 'onCommitted'>,
  input: TestSendInput,
): Promise<{ result: TriggerResult; messages: number }> {
  const workflow = await deps.store.getWorkflow(input.environmentId, input.workflowKey);
  if (!workflow)
    throw new HeraldError('WORKFLOW_NOT_FOUND', `No workflow with key ${JSON.stringify(input.workflowKey)}`);
  if (!workflow.steps.some(isSendingStep)) {
    throw new HeraldError(
      'VALIDATION_FAILED',
      `Workflow ${JSON.stringify(workflow.key)} has no step that sends (email, sms, push, chat, webhook, in_app): a test would send nothing`,
    );
  }
  const now = deps.clock.now();
  const recipient = recipientUpsert(input.to);
  const triggerId = newId('trg', now);
  const { runs, messages } = planRuns(workflow.steps, [recipient.subscriberId], workflow.steps.length, now);
  const plan: TriggerPlan = {
    environmentId: input.environmentId,
    triggerId,
    workflowKey: workflow.key,
    workflowVersionId: workflow.versionId,
    dataJson: JSON.stringify(input.data ?? {}),
    recipients: [recipient],
    messages,
    runs,
    // Every send is queued with the commit: nothing is left for the run engine to walk.
    start: { state: 'completed', stepIndex: workflow.steps.length, dueAt: null },
    sendAt: null,
    cancellationKey: null,
    actor: null,
    fanout: null,
    test: true,
    createdAt: now,
  };
  await deps.store.commitTrigger(plan);
  deps.onCommitted?.({ runsDue: false });
  return { result: { triggerId, messageIds: messages.map((m) => m.id) }, messages: messages.length };
}

/**
 * What the steps after a digest see where the digest is passed over (a preview, a test send): a
 * digest of the one event at hand. Undefined for a step with no digest before it.
 */
export function digestStandIn(
  steps: readonly WorkflowStep[],
  stepIndex: number,
  data: Record<string, unknown>,
): DigestContext | undefined {
  for (let i = 0; i < stepIndex; i++) if (steps[i]!.type === 'digest') return { count: 1, events: [data] };
  return undefined;
}
