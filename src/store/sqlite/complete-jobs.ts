import type { Database } from 'better-sqlite3';
import type { InboxEvent } from '../../core/inbox.js';
import type { JobCompletion } from '../../core/store.js';
import { RollupTally } from '../../core/message-stats.js';
import type { MessageChannel } from '../../core/types.js';
import { packContent } from '../content.js';
import { prepareAddInboxItems } from './inbox.js';
import { prepareAddToRollup } from './message-stats.js';

/**
 * Records job outcomes: the attempt, the message's new state, and the job deleted (finished) or
 * made due again (retry). A retry only reschedules a job the worker still holds; if its lease
 * was lost to another worker, that worker's outcome decides the message state.
 */
export function prepareCompleteJobs(db: Database) {
  const insertAttempt = db.prepare(`
    INSERT INTO attempts (message_id, at, outcome, detail, duration_ms, integration_id, provider)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  // An outcome that does not name a recipient, subject or content keeps what an earlier attempt
  // recorded (a retry, then skipped by the preferences); only an erasure clears them.
  const finishMessage = db.prepare(`
    UPDATE messages SET status = @status, reason = @reason,
      recipient = CASE WHEN @erase THEN NULL ELSE COALESCE(@recipient, recipient) END,
      subject = CASE WHEN @erase THEN NULL ELSE COALESCE(@subject, subject) END,
      content = CASE WHEN @erase THEN NULL ELSE COALESCE(@content, content) END,
      provider_message_id = @providerMessageId,
      attempt_count = attempt_count + @attempted, failed_attempts = failed_attempts + @failed,
      sent_at = @sentAt, updated_at = @at
    WHERE id = @messageId`);
  const deleteJob = db.prepare('DELETE FROM jobs WHERE id = ?');
  // Primary-key lookups on messages and subscribers.
  const subscriberGone = db
    .prepare(
      `SELECT NOT EXISTS (
        SELECT 1 FROM messages m JOIN subscribers s
          ON s.environment_id = m.environment_id AND s.subscriber_id = m.subscriber_id
        WHERE m.id = ?)`,
    )
    .pluck();
  const deleteDevMail = db.prepare('DELETE FROM dev_mail WHERE message_id = ?');
  // A deferred retry (the message waited for quiet hours or a busy destination, nothing was sent)
  // counts neither as a claim of the job nor as a failed attempt of the message. A retry that names
  // no recipient (a deferral: nothing was dispatched) keeps the one an earlier attempt recorded.
  const rescheduleJob = db.prepare(`
    UPDATE jobs SET available_at = ?, locked_by = NULL, claims = claims - ? WHERE id = ? AND locked_by = ?`);
  const retryMessage = db.prepare(`
    UPDATE messages SET status = 'retrying', reason = @reason,
      recipient = CASE WHEN @erase THEN NULL ELSE COALESCE(@recipient, recipient) END,
      attempt_count = attempt_count + @attempted, failed_attempts = failed_attempts + @failed, updated_at = @at
    WHERE id = @messageId`);

  // A run whose condition waits for this outcome looks again now rather than at its recheck.
  const wakeRun = db.prepare(`
    UPDATE run_timers SET due_at = @at
    WHERE id = @run AND locked_by IS NULL AND due_at > @at
      AND EXISTS (SELECT 1 FROM runs WHERE runs.id = @run AND runs.state = 'active')`);

  const addInboxItem = prepareAddInboxItems(db);
  // The message as it was before this outcome (primary key), for the rollup: a message counted
  // already (delivered again after a lost lease, canceled while in flight) moves to its new group.
  const before = db.prepare('SELECT environment_id, channel, status, updated_at FROM messages WHERE id = ?');
  const addToRollup = prepareAddToRollup(db);
  const tallyChange = (tally: RollupTally, messageId: string, status: string, at: number) => {
    const row = before.get(messageId) as
      { environment_id: string; channel: MessageChannel; status: string; updated_at: number } | undefined;
    if (!row) return;
    tally.add(row.environment_id, row.channel, row.status, row.updated_at, -1);
    tally.add(row.environment_id, row.channel, status, at);
  };

  return (completions: readonly JobCompletion[]): InboxEvent[] => {
    const events: InboxEvent[] = [];
    const tally = new RollupTally();
    for (const c of completions) {
      // The subscriber was deleted while this send was in flight: their erasure has already run,
      // so record the outcome without the personal data it would bring back.
      const attempted = c.attempts.length;
      const erase = attempted > 0 && subscriberGone.get(c.messageId) === 1;
      if (erase) deleteDevMail.run(c.messageId);
      if (c.inboxItem && !erase) {
        const added = addInboxItem(c);
        if (added === 'exists') {
          // Delivered twice (a lease lost mid-delivery): the first completion added the item,
          // and the message's status follows that item now.
          deleteJob.run(c.jobId);
          continue;
        }
        events.push(added);
      }
      for (const attempt of c.attempts) {
        const detail = erase ? '[erased]' : attempt.detail;
        insertAttempt.run(
          c.messageId,
          attempt.at ?? c.at,
          attempt.outcome,
          detail,
          attempt.durationMs,
          attempt.integrationId ?? null,
          attempt.provider ?? null,
        );
      }
      if (c.status === 'retrying') {
        const deferred = c.deferred === true ? 1 : 0;
        const held = rescheduleJob.run(c.retryAt ?? c.at, deferred, c.jobId, c.workerId).changes > 0;
        if (held) {
          tallyChange(tally, c.messageId, 'retrying', c.at);
          retryMessage.run({
            messageId: c.messageId,
            reason: erase ? null : c.reason,
            recipient: c.recipient ?? null,
            erase: erase ? 1 : 0,
            attempted,
            failed: 1 - deferred,
            at: c.at,
          });
          if (c.wakeRun && !c.deferred) wakeRun.run({ run: c.wakeRun, at: c.at });
        }
        continue;
      }
      tallyChange(tally, c.messageId, c.status, c.at);
      finishMessage.run({
        messageId: c.messageId,
        status: c.status,
        reason: erase ? null : c.reason,
        recipient: c.recipient ?? null,
        subject: c.subject ?? null,
        content: c.content ? packContent(c.content) : null,
        erase: erase ? 1 : 0,
        providerMessageId: c.providerMessageId ?? null,
        attempted,
        failed: attempted > 0 && c.status !== 'sent' ? 1 : 0,
        sentAt: c.status === 'sent' ? c.at : null,
        at: c.at,
      });
      deleteJob.run(c.jobId);
      if (c.wakeRun) wakeRun.run({ run: c.wakeRun, at: c.at });
    }
    addToRollup(tally);
    return events;
  };
}
