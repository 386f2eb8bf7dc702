import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { followLog, triggerConcurrently, type Caller } from '../support/message-log.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { dropSchemas, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

// Two API processes and three worker processes on one PostgreSQL schema, each a separate
// `herald serve`, as a deployment that outgrew one machine would run them.
const schema = testSchema();
const API_KEY = 'hk_processes_test_key_0123456789';
const auth = { authorization: `Bearer ${API_KEY}` };
/** Short, so a lease that was not renewed would visibly expire during the slow sends below. */
const JOB_LEASE = '1s';
/** Messages to these addresses are held this long at the SMTP server: well past the lease. */
const SLOW_HOLD_MS = 3_000;
const dir = mkdtempSync(join(tmpdir(), 'herald-procs-'));
const children: ChildHerald[] = [];
let sink: SmtpSink;
let apis: ChildHerald[];
let workers: ChildHerald[];

beforeAll(async () => {
  sink = await startSmtpSink({
    holdMs: (_id, to) => (to.some((address) => address.startsWith('slow-')) ? SLOW_HOLD_MS : 0),
  });
  const env = {
    HERALD_API_KEY: API_KEY,
    HERALD_SECRET_KEY: 'processes-test-secret-key-0123456789abcdef',
    HERALD_SMTP_URL: sink.url,
    HERALD_DATABASE: testDatabaseUrl(schema),
  };
  // Started together: their migrations race for the advisory lock, and only one applies them.
  const started = await Promise.all(
    (['api', 'api', 'worker', 'worker', 'worker'] as const).map((role) =>
      spawnHerald(['--role', role, '--data-dir', dir, '--job-lease', JOB_LEASE, '--send-timeout', '10s'], env),
    ),
  );
  children.push(...started);
  apis = started.slice(0, 2);
  workers = started.slice(2);
  const workflow = await call(
    apis[0]!.url + '/v1/workflows/procs',
    'PUT',
    { steps: [{ type: 'email', subject: 'Hi', text: 'x' }] },
    auth,
  );
  expect(workflow.status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  await sink?.close();
  await dropSchemas(schema);
  rmSync(dir, { recursive: true, force: true });
});

/** herald_messages_total{channel="email",status="sent"} of one process. */
async function sentBy(child: ChildHerald): Promise<number> {
  const text = (await call(child.url + '/metrics', 'GET')).text;
  return Number(/herald_messages_total\{channel="email",status="sent"\} (\d+)/.exec(text)?.[1] ?? 0);
}

function trigger(api: ChildHerald, body: unknown, headers: Record<string, string> = {}) {
  return call(api.url + '/v1/workflows/procs/trigger', 'POST', body, { ...auth, ...headers });
}

const recipients = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ subscriberId: `${prefix}${i}`, email: `${prefix}${i}@example.com` }));

describe('one PostgreSQL, two API and three worker processes', () => {
  it('serves only probes and metrics on worker processes', async () => {
    expect((await call(workers[0]!.url + '/v1/workflows/procs', 'GET', undefined, auth)).status).toBe(404);
    expect((await call(workers[0]!.url + '/readyz', 'GET')).status).toBe(200);
  });

  it('delivers 5,000 messages, each sent once, with the work shared by the three workers', async () => {
    const before = await Promise.all(workers.map(sentBy));
    const ids: string[] = [];
    // 50 triggers of 100 recipients, alternating between the two API processes, 5 at a time.
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(
        Array.from({ length: 5 }, (_, i) => {
          const t = round * 5 + i;
          return trigger(apis[t % 2]!, { to: recipients(`bulk${t}-`, 100) });
        }),
      );
      for (const res of answers) {
        expect(res.status).toBe(202);
        ids.push(...res.body.messageIds);
      }
    }
    expect(ids).toHaveLength(5_000);
    const wanted = new Set(ids);
    const arrived = () => sink.received.filter((mail) => wanted.has(mail.heraldMessageId));
    await waitFor(() => arrived().length >= ids.length, { timeoutMs: 60_000, what: '5,000 emails at the sink' });

    const received = arrived().map((mail) => mail.heraldMessageId);
    expect(new Set(received)).toEqual(wanted);
    expect(received).toHaveLength(ids.length); // no message sent twice, so never by two workers
    for (const id of ids) expect(sink.attempts.get(id)).toBe(1);
    // A worker counts a send once its outcome is committed, a few milliseconds after the sink has it.
    const shares = await waitFor(
      async () => {
        const counts = (await Promise.all(workers.map(sentBy))).map((count, i) => count - before[i]!);
        return counts.reduce((a, b) => a + b, 0) === ids.length ? counts : undefined;
      },
      { what: 'every outcome recorded' },
    );
    console.log(`5,000 messages shared between three worker processes: ${shares.join(' + ')}`);
    // Each worker took a real part of the work, not a token few.
    for (const share of shares) expect(share).toBeGreaterThan(ids.length / 10);
    for (const api of apis) expect(await sentBy(api)).toBe(0);
  }, 90_000);

  it('renews the lease of a send that outlasts it, so no other worker sends the message again', async () => {
    const res = await trigger(apis[0]!, { to: recipients('slow-', 6) });
    expect(res.status).toBe(202);
    const ids: string[] = res.body.messageIds;
    await waitFor(() => ids.every((id) => sink.received.some((mail) => mail.heraldMessageId === id)), {
      timeoutMs: 20_000,
      what: 'the slow emails',
    });
    // Held 3 s at the server against a 1 s lease: without renewal, another worker would have
    // claimed each job after 1 s and tried it again (the sink counts every attempt).
    for (const id of ids) expect(sink.attempts.get(id), id).toBe(1);
    const log = await waitFor(async () => {
      const page = await call(
        apis[1]!.url + `/v1/messages?triggerId=${res.body.triggerId}&status=sent`,
        'GET',
        undefined,
        auth,
      );
      return page.body.items.length === ids.length ? page.body.items : undefined;
    });
    for (const message of log) expect(message.attemptCount).toBe(1);
  }, 30_000);

  it('creates one trigger when two API processes get the same Idempotency-Key at once', async () => {
    for (let k = 0; k < 20; k++) {
      const body = { to: recipients(`idem${k}-`, 3) };
      const key = `cross-process-${k}`;
      const [a, b] = await Promise.all(apis.map((api) => trigger(api, body, { 'idempotency-key': key })));
      const answers = [a!, b!];
      // Both get the one trigger's answer (one of them as a replay), or, at worst, a 409 to retry.
      for (const res of answers) expect([202, 409], `key ${key}`).toContain(res.status);
      const accepted = answers.filter((res) => res.status === 202);
      expect(accepted.length).toBeGreaterThan(0);
      if (accepted.length === 2) {
        expect(a!.body).toEqual(b!.body);
        expect(answers.map((res) => res.headers.get('idempotent-replayed'))).toContain('true');
      }
      const triggerId = accepted[0]!.body.triggerId;
      for (const subscriber of ['0', '1', '2']) {
        const page = await call(
          apis[0]!.url + `/v1/messages?subscriberId=idem${k}-${subscriber}`,
          'GET',
          undefined,
          auth,
        );
        expect(page.body.items.map((m: { triggerId: string }) => m.triggerId)).toEqual([triggerId]);
      }
    }
  });

  it('refuses the same Idempotency-Key with a different body, whichever process commits first', async () => {
    for (let k = 0; k < 10; k++) {
      const key = `cross-process-conflict-${k}`;
      const answers = await Promise.all(
        apis.map((api, i) => trigger(api, { to: recipients(`conflict${k}-${i}-`, 1) }, { 'idempotency-key': key })),
      );
      const statuses = answers.map((res) => res.status).sort();
      expect([
        [202, 409],
        [202, 422],
      ]).toContainEqual(statuses);
    }
  });

  it('uses a workflow saved through one API process at once in the other, despite its cache', async () => {
    const save = (subject: string) =>
      call(apis[0]!.url + '/v1/workflows/fresh', 'PUT', { steps: [{ type: 'email', subject, text: 'x' }] }, auth);
    const subjectSeenBy = async (api: ChildHerald) =>
      (await call(api.url + '/v1/workflows/fresh', 'GET', undefined, auth)).body.steps?.[0]?.subject;
    expect((await save('first')).status).toBe(200);
    // The second process reads the workflow, and keeps it in its cache (2 s).
    const first = await call(
      apis[1]!.url + '/v1/workflows/fresh/trigger',
      'POST',
      { to: recipients('fresh-a-', 1) },
      auth,
    );
    expect(first.status).toBe(202);
    expect(await subjectSeenBy(apis[1]!)).toBe('first');

    expect((await save('second')).status).toBe(200);
    // Announced at commit: well before the cache entry would have expired by itself.
    await waitFor(async () => (await subjectSeenBy(apis[1]!)) === 'second', {
      timeoutMs: 1_000,
      what: 'the other process to see the saved version',
    });
    const second = await call(
      apis[1]!.url + '/v1/workflows/fresh/trigger',
      'POST',
      { to: recipients('fresh-b-', 1) },
      auth,
    );
    expect(second.status).toBe(202);
    const [id] = second.body.messageIds as string[];
    const mail = await waitFor(() => sink.received.find((received) => received.heraldMessageId === id));
    expect(mail.parsed.subject).toBe('second');
  });

  it('gives a follower of the message log every message exactly once while both API processes accept', async () => {
    const via =
      (api: ChildHerald): Caller =>
      (method, path, body) =>
        call(api.url + path, method, body, auth);
    const from = (await via(apis[0]!)('GET', '/v1/messages?since=now')).body.nextSince;
    let done = false;
    // The follower reads through one process while six clients write through both: the seqs of
    // batches committed concurrently by two processes (and by each process's pool) must still
    // come out in commit order, or the follower would step past a batch that commits late.
    const follower = followLog(via(apis[1]!), { since: from, until: () => done });
    const accepted = await triggerConcurrently(apis.map(via), { clients: 6, triggers: 60, workflow: 'procs' });
    done = true;
    const seen = (await follower).map((m) => m.id);
    expect(seen).toHaveLength(accepted.length);
    expect(new Set(seen)).toEqual(new Set(accepted));
  }, 60_000);

  it('stops every process with SIGTERM, exit code 0', async () => {
    for (const child of children) child.process.kill('SIGTERM');
    expect(await Promise.all(children.map((child) => child.exited))).toEqual([0, 0, 0, 0, 0]);
  });
});
