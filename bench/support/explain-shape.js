import { randomBytes } from 'node:crypto';
import { packContent } from '../../dist/store/content.js';

/**
 * The data both dialects are seeded with for bench/explain-plans.js: one environment, 10,000
 * subscribers, triggers of 1,000 messages each, spread over 60 days before now.
 */
export function explainShape(messages) {
  const perTrigger = 1_000;
  const triggers = Math.max(60, Math.round(messages / perTrigger));
  const day = 86_400_000;
  const now = Date.now();
  return {
    messages: triggers * perTrigger,
    perTrigger,
    triggers,
    subscribers: 10_000,
    day,
    now,
    /** When trigger k was accepted. */
    firstAt: now - 60 * day,
    step: Math.floor((60 * day) / triggers),
    env: 'env_development',
    /** The newest triggers are the backlog: 50 of them queued (50,000 due jobs), one in flight. */
    queuedFrom: triggers - 50,
    sending: triggers - 51,
    /** A rendered email as Herald stores it (deflated JSON), ~1 KB of text with some variety. */
    content: packContent({
      html: null,
      text: Array.from({ length: 24 }, () => `Item ${randomBytes(6).toString('hex')}: https://example.com/x\n`).join(
        '',
      ),
    }),
  };
}

/**
 * The status of message j of trigger k, as SQL both dialects run: mostly sent, 3% failed, 2%
 * skipped, 500 retrying among recent triggers, the newest 51,000 queued or in flight.
 */
export function statusSql(shape, k, j) {
  return `CASE
    WHEN ${k} >= ${shape.queuedFrom} THEN 'queued'
    WHEN ${k} = ${shape.sending} THEN 'sending'
    WHEN ${k} >= ${shape.sending - 50} AND ${j} % 100 = 7 THEN 'retrying'
    WHEN ${j} % 33 = 5 THEN 'failed'
    WHEN ${j} % 50 = 11 THEN 'skipped'
    ELSE 'sent' END`;
}

/** The delivery-log filters explained: each index, a rare status, and cursors deep in the table. */
export function listFilters(middle, later) {
  return [
    ['no filter', {}],
    ['triggerId', { triggerId: middle.trigger_id }],
    ['subscriberId', { subscriberId: 's4242' }],
    ['status=failed', { status: 'failed' }],
    ['status=retrying (rare: 500 of 1M)', { status: 'retrying' }],
    ['cursor (page 3 of the log)', { cursor: later.id }],
    ['status=sent + cursor mid-table', { status: 'sent', cursor: middle.id }],
    ['subscriberId + cursor', { subscriberId: 's4242', cursor: middle.id }],
  ];
}

/** What a worker reports for a batch of held jobs: nine in ten sent, one retried. */
export function completionsFor(jobIds, workerId, now) {
  return jobIds.map((id, i) => ({
    jobId: id,
    workerId,
    messageId: id,
    at: now,
    attempts: [{ outcome: i % 10 === 0 ? 'retry' : 'sent', detail: '250 ok', durationMs: 40 }],
    status: i % 10 === 0 ? 'retrying' : 'sent',
    reason: null,
    retryAt: now + 60_000,
    recipient: 'x@example.com',
    subject: 'Your digest',
    content: { html: null, text: 'Hello' },
  }));
}

/** Id lists of a batch are printed as their first id and a count. */
export function elideLists(line) {
  return line.replace(/'\{([^,}]+),[^}]*\}'/g, (list, first) => `'{${first}, … ${list.split(',').length} items}'`);
}

export function oneLine(sql) {
  return sql.replace(/\s+/g, ' ').trim();
}

/** One attempt per delivered message, two for those with attempt_count 2: the same SQL on both stores. */
export const SEED_ATTEMPTS = `INSERT INTO attempts (message_id, at, outcome, detail, duration_ms)
  SELECT message_id, at, outcome, detail, duration_ms FROM (
    SELECT id AS message_id, created_at + 2000 AS at,
           CASE status WHEN 'failed' THEN 'failed' WHEN 'retrying' THEN 'retry' ELSE 'sent' END AS outcome,
           CASE status WHEN 'sent' THEN '250 2.0.0 Ok: queued as ' || substr(id, 15, 10) ELSE reason END AS detail,
           40 AS duration_ms
    FROM messages WHERE status IN ('sent', 'failed', 'retrying')
    UNION ALL
    SELECT id, created_at + 1000, 'retry', '421 4.4.2 connection dropped', 30
    FROM messages WHERE attempt_count = 2
  ) a ORDER BY at, message_id`;
