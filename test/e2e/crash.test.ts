import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

const API_KEY = 'hk_crash_test_0123456789abcdefghijklmn';
const auth = { authorization: `Bearer ${API_KEY}` };
const TRIGGERS = 10;
const RECIPIENTS_PER_TRIGGER = 100;
const TOTAL = TRIGGERS * RECIPIENTS_PER_TRIGGER;
const CONCURRENCY = 32;
/** What a crash may repeat: the sends in flight and as many outcomes not yet committed (README). */
const DUPLICATES_LIMIT = 2 * CONCURRENCY;
/** Once every trigger is accepted, the kill lands at the first arrival with at least this many received. */
const KILL_AFTER = 100;

let sink: SmtpSink;
let dir: string;
const children: ChildHerald[] = [];

/** Holds what the kill needs; the sink's hook runs it at the exact arrival that crosses the line. */
const crash = { armed: false, child: undefined as ChildHerald | undefined, receivedAtKill: -1 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
  sink = await startSmtpSink({
    reject: () => {
      // Called for every email before the sink accepts it: SIGKILL here is "mid-delivery" exactly.
      if (crash.armed && crash.child && sink.received.length >= KILL_AFTER) {
        crash.receivedAtKill = sink.received.length;
        crash.child.process.kill('SIGKILL');
        crash.child = undefined;
      }
      return undefined;
    },
  });
});

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function spawn(): Promise<ChildHerald> {
  const child = await spawnHerald(
    [
      '--data-dir',
      dir,
      // A short lease so the restart reclaims the dead process's jobs quickly; the send timeout
      // must stay below it, and leaves room for sends queued behind the SMTP pool on a busy machine.
      '--job-lease',
      '3s',
      '--send-timeout',
      '2s',
      '--concurrency',
      String(CONCURRENCY),
      '--retry-schedule',
      '100ms,200ms,500ms,1s,2s',
    ],
    { HERALD_SMTP_URL: sink.url, HERALD_API_KEY: API_KEY },
  );
  children.push(child);
  return child;
}

it('delivers every accepted message after a SIGKILL mid-delivery, repeating at most twice --concurrency', async () => {
  const startedAt = Date.now();
  const first = await spawn();
  const workflow = await call(
    first.url + '/v1/workflows/crash',
    'PUT',
    { steps: [{ type: 'email', subject: 'Crash test {{ subscriber.subscriberId }}', text: 'Hello' }] },
    auth,
  );
  expect(workflow.status, workflow.text).toBe(200);

  const answers = await Promise.all(
    Array.from({ length: TRIGGERS }, (_, t) =>
      call(
        first.url + '/v1/workflows/crash/trigger',
        'POST',
        {
          to: Array.from({ length: RECIPIENTS_PER_TRIGGER }, (_, r) => ({
            subscriberId: `s-${t}-${r}`,
            email: `s-${t}-${r}@example.com`,
          })),
        },
        auth,
      ),
    ),
  );
  const ids: string[] = [];
  for (const answer of answers) {
    expect(answer.status, answer.text).toBe(202);
    ids.push(...(answer.body.messageIds as string[]));
  }
  expect(new Set(ids).size).toBe(TOTAL);

  const receivedWhenAccepted = sink.received.length;
  expect(receivedWhenAccepted, 'delivery finished before the kill could land').toBeLessThan(TOTAL - KILL_AFTER);
  crash.child = first;
  crash.armed = true;
  const exit = await first.exited;
  expect(exit).toBe('SIGKILL');
  const receivedAtKill = crash.receivedAtKill;
  expect(receivedAtKill).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(receivedAtKill).toBeLessThan(TOTAL);

  const second = await spawn();
  const expected = new Set(ids);
  await waitFor(() => new Set(sink.received.map((m) => m.heraldMessageId)).size >= TOTAL, {
    timeoutMs: 30_000,
    what: `all ${TOTAL} messages to reach the sink after the restart`,
  });

  const timesReceived = new Map<string, number>();
  for (const mail of sink.received) {
    timesReceived.set(mail.heraldMessageId, (timesReceived.get(mail.heraldMessageId) ?? 0) + 1);
  }
  const lost = ids.filter((id) => !timesReceived.has(id));
  const unexpected = [...timesReceived.keys()].filter((id) => !expected.has(id));
  const duplicates = [...timesReceived.values()].filter((count) => count > 1).length;
  console.log(
    `crash test: ${TOTAL} accepted, ${receivedWhenAccepted} received when all were accepted, ` +
      `${receivedAtKill} received at the kill, ${lost.length} lost, ${duplicates} duplicates ` +
      `(limit ${DUPLICATES_LIMIT}), ${Date.now() - startedAt} ms`,
  );
  expect(lost).toEqual([]);
  expect(unexpected).toEqual([]);
  expect(duplicates).toBeLessThanOrEqual(DUPLICATES_LIMIT);
  for (const mail of sink.received)
    expect(mail.messageIdHeader).toBe(`<${mail.heraldMessageId}@localhost.localdomain>`);

  // The delivery log agrees: every message is 'sent' once the last outcomes are committed.
  const sent = await waitFor(
    async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/v1/messages?status=sent&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await call(second.url + query, 'GET', undefined, auth);
        if (page.status !== 200) throw new Error(page.text);
        seen.push(...(page.body.items as { id: string }[]).map((m) => m.id));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      return seen.length === TOTAL ? seen : undefined;
    },
    { timeoutMs: 10_000, what: `all ${TOTAL} messages listed as sent` },
  );
  expect(new Set(sent)).toEqual(expected);

  second.process.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 60_000);
