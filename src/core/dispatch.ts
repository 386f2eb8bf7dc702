import type { CompletedAttempt } from './store.js';
import type { RenderedStep } from './templates.js';
import type { DeliveryOutcome, MessageContent, Subscriber } from './types.js';

/** One rendered message, ready to go out through its channel's integrations. */
export interface DispatchRequest {
  environmentId: string;
  messageId: string;
  triggerId: string;
  workflowKey: string;
  subscriber: Subscriber;
  /** The trigger's payload (webhook bodies carry it). */
  data: Record<string, unknown>;
  /** Never an in-app message: that is delivered by its completion (delivery-policy.ts, deliveredWithCompletion). */
  rendered: Exclude<RenderedStep, { type: 'in_app' }>;
  /** For an email: its one-click unsubscribe link (List-Unsubscribe), when it carries one. */
  unsubscribeUrl?: string;
}

export interface DispatchResult {
  /** `skipped`: nothing was sent and nothing should be retried (no address, no integration). */
  outcome: DeliveryOutcome | { status: 'skipped'; reason: string };
  /** Every provider call made, in order (failover may make several). */
  attempts: CompletedAttempt[];
  /** Where it went or would have gone, for the delivery log. */
  recipient: string | null;
  /** What was sent, when it differs from the rendered text (a webhook's JSON body). */
  content?: MessageContent;
}

/**
 * Sends a rendered message through the environment's integrations of its channel, as the
 * delivery rules (delivery-policy.ts) and the failover plan (attempt-plan.ts) decide. Implemented
 * in channels/dispatcher.ts; never throws for a provider's failure.
 */
export interface Dispatcher {
  dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult>;
  close(): Promise<void>;
}
