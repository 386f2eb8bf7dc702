import type { Clock } from './clock.js';
import { HeraldError } from './errors.js';
import type { DeliveryLogStore, JobStore, RedriveFilter } from './store.js';
import type { MessageWithAttempts } from './types.js';

/** The most messages one re-drive request re-queues; `more` says when others still match. */
export const MAX_REDRIVE = 10_000;
/**
 * Messages re-queued per transaction: a batch holds the writer (SQLite) or its rows' locks
 * (PostgreSQL) for a few milliseconds, so triggers and completions interleave with a large re-drive.
 */
export const REDRIVE_BATCH = 500;

export interface RedriveDeps {
  store: Pick<JobStore, 'redriveMessages'> & Pick<DeliveryLogStore, 'getMessage'>;
  clock: Clock;
}

/**
 * Retries one failed message: the same message (its id, trigger and run) goes back to `queued`
 * with a job due now, and its step is rendered again from its workflow version when the job runs,
 * as on its first send. Its attempts stay; the retry schedule starts over. Only a failed message:
 * one sent, queued or on its way is not sent twice, and one skipped was refused for a reason (the
 * subscriber's preferences, a deleted subscriber) that a retry would not change. The run does not
 * look again at later steps whose conditions read this one's status: they were decided already.
 */
export async function retryMessage(
  deps: RedriveDeps,
  environmentId: string,
  messageId: string,
): Promise<MessageWithAttempts> {
  const batch = await deps.store.redriveMessages(environmentId, { messageId }, 1, deps.clock.now());
  const message = await deps.store.getMessage(environmentId, messageId);
  if (!message) throw new HeraldError('MESSAGE_NOT_FOUND', `No message ${JSON.stringify(messageId)}`);
  if (batch.messageIds.length === 0) {
    throw new HeraldError(
      'MESSAGE_NOT_RETRYABLE',
      `Message ${messageId} is ${message.status}: only a failed message can be retried`,
    );
  }
  return message;
}

/**
 * Re-drives up to `limit` failed messages matching `filter`, oldest first, in batches of
 * REDRIVE_BATCH (one transaction each), each as retryMessage does. Says how many it re-queued and
 * whether more failed messages still match.
 */
export async function redriveFailedMessages(
  deps: RedriveDeps,
  environmentId: string,
  filter: RedriveFilter,
  limit: number,
): Promise<{ redriven: number; more: boolean }> {
  let redriven = 0;
  for (;;) {
    const size = Math.min(REDRIVE_BATCH, limit - redriven);
    const batch = await deps.store.redriveMessages(environmentId, filter, size, deps.clock.now());
    redriven += batch.messageIds.length;
    if (!batch.more) return { redriven, more: false };
    if (redriven >= limit) return { redriven, more: true };
  }
}
