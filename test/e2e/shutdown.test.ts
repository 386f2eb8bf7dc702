import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { startParkingSmtpSink } from '../support/parking-smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

const API_KEY = 'hk_shutdown_test_0123456789abcdefghijkl';
const auth = { authorization: `Bearer ${API_KEY}` };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-shutdown-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function spawn(dir: string, smtpUrl: string, args: string[] = []): Promise<ChildHerald> {
  const child = await spawnHerald(
    ['--data-dir', dir, '--retry-schedule', '100ms,200ms', '--concurrency', '32', ...args],
    { HERALD_SMTP_URL: smtpUrl, HERALD_API_KEY: API_KEY },
  );
  cleanups.push(async () => {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  });
  return child;
}

/** Resolves with the exit code, or rejects if the process is still running after `ms`. */
function exitWithin(child: ChildHerald, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after the signal:\n${child.output()}`)), ms);
  });
  return Promise.race([child.exited, deadline]).finally(() => clearTimeout(timer));
}

async function setUp(url: string, count: number): Promise<string[]> {
  const workflow = await call(
    url + '/v1/workflows/w',
    'PUT',
    { steps: [{ type: 'email', subject: 'Hi', text: 'Hi' }] },
    auth,
  );
  expect(workflow.status, workflow.text).toBe(200);
  const to = Array.from({ length: count }, (_, i) => ({ subscriberId: `s-${i}`, email: `s-${i}@example.com` }));
  const answer = await call(url + '/v1/workflows/w/trigger', 'POST', { to }, auth);
  expect(answer.status, answer.text).toBe(202);
  return answer.body.messageIds as string[];
}

async function listAll(url: string, status: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `/v1/messages?status=${status}&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await call(url + query, 'GET', undefined, auth);
    expect(page.status, page.text).toBe(200);
    ids.push(...(page.body.items as { id: string }[]).map((m) => m.id));
    cursor = page.body.nextCursor as string | null;
  } while (cursor);
  return ids;
}

function countBy(ids: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

async function refusesConnections(url: string): Promise<boolean> {
  try {
    await fetch(url + '/healthz');
    return false;
  } catch {
    return true;
  }
}

describe('graceful shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s lets in-flight sends finish and record, exits 0, and a restart delivers the rest exactly once',
    async (signal) => {
      const dir = tempDir();
      const sink = await startParkingSmtpSink();
      cleanups.push(() => sink.close());
      const first = await spawn(dir, sink.url, ['--shutdown-timeout', '10s']);
      const ids = await setUp(first.url, 100);

      await waitFor(() => sink.arrived.length >= 3, { what: 'sends parked at the SMTP server' });
      first.process.kill(signal);
      // The API closes first, while the worker still waits for its sends.
      await waitFor(() => refusesConnections(first.url), { what: 'the API to stop accepting connections' });
      expect(first.process.exitCode).toBeNull();
      const inFlight = sink.arrived.map((m) => m.heraldMessageId);
      sink.release();
      expect(await exitWithin(first, 10_000)).toBe(0);
      expect(first.output()).not.toMatch(/"level":(50|60)/);

      // Every send that was in flight finished and was recorded before the exit.
      expect(sink.accepted.length).toBeGreaterThanOrEqual(inFlight.length);
      const second = await spawn(dir, sink.url);
      const sentBefore = new Set(sink.accepted);
      await waitFor(() => new Set(sink.accepted).size >= ids.length, { what: 'all 100 emails after the restart' });
      expect([...countBy(sink.accepted).values()].every((n) => n === 1)).toBe(true);
      expect(new Set(sink.accepted)).toEqual(new Set(ids));
      for (const id of inFlight) {
        const message = await call(`${second.url}/v1/messages/${id}`, 'GET', undefined, auth);
        expect(message.body.attempts.map((a: any) => a.outcome)).toEqual(['sent']);
        expect(sentBefore.has(id)).toBe(true);
      }
      await waitFor(async () => (await listAll(second.url, 'sent')).length === ids.length, {
        what: 'all messages listed as sent',
      });

      second.process.kill(signal);
      expect(await exitWithin(second, 10_000)).toBe(0);
    },
  );

  it('refuses requests while shutting down with 503 or a closed connection, and delivers every 202', async () => {
    const dir = tempDir();
    const sink = await startParkingSmtpSink();
    cleanups.push(() => sink.close());
    const first = await spawn(dir, sink.url, ['--shutdown-timeout', '10s']);
    await setUp(first.url, 5);
    await waitFor(() => sink.arrived.length >= 1, { what: 'a send parked at the SMTP server' });

    const accepted: string[] = [];
    const answers: { status: number; body: string }[] = [];
    const failures: string[] = [];
    let signalled = false;
    let calls = 0;
    // Clients keep calling the API, through the signal, until the server refuses connections.
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; ; i++) {
        const n = calls++;
        if (n === 40) {
          signalled = true;
          first.process.kill('SIGTERM');
        }
        const body = { to: { subscriberId: `load-${c}-${i}`, email: `load-${c}-${i}@example.com` } };
        try {
          const res =
            i % 3 === 2
              ? await call(`${first.url}/v1/messages?limit=5`, 'GET', undefined, auth)
              : await call(`${first.url}/v1/workflows/w/trigger`, 'POST', body, auth);
          answers.push({ status: res.status, body: res.text });
          if (res.status === 202) accepted.push(...(res.body.messageIds as string[]));
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          failures.push(cause?.code ?? String(error));
          if (signalled && cause?.code === 'ECONNREFUSED') return;
        }
        if (i > 500) throw new Error('the server never refused a connection');
      }
    });
    await Promise.all(clients);
    sink.release();
    expect(await exitWithin(first, 10_000)).toBe(0);

    const statuses = new Set(answers.map((a) => a.status));
    for (const status of statuses) expect([200, 202, 503]).toContain(status);
    // A 503 says "closing" as problem+json, never an error from a store that is already closed.
    for (const answer of answers.filter((a) => a.status === 503)) {
      const body = JSON.parse(answer.body) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(body.detail).toMatch(/shutting down/);
    }
    // Refusals are at the connection level: refused, or closed by the server before answering.
    for (const failure of failures) expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(failure);
    expect(failures).toContain('ECONNREFUSED');
    console.log(
      `shutdown under load: ${answers.length} answers (${[...statuses].join(', ')}), ` +
        `${failures.length} refused connections, ${accepted.length} triggers accepted`,
    );

    const second = await spawn(dir, sink.url);
    await waitFor(() => accepted.every((id) => sink.accepted.includes(id)), {
      what: 'every message answered 202 to reach the sink',
    });
    const sent = await waitFor(
      async () => {
        const list = await listAll(second.url, 'sent');
        return list.length >= accepted.length + 5 ? list : undefined;
      },
      { what: 'the delivery log to list every accepted message as sent' },
    );
    expect(sent).toEqual(expect.arrayContaining(accepted));
  });

  it('does not wait past --shutdown-timeout for a hung send; its job is released and sent after restart', async () => {
    const dir = tempDir();
    const sink = await startParkingSmtpSink();
    cleanups.push(() => sink.close());
    const first = await spawn(dir, sink.url, [
      '--shutdown-timeout',
      '500ms',
      '--send-timeout',
      '20s',
      '--job-lease',
      '30s',
    ]);
    const ids = await setUp(first.url, 10);
    await waitFor(() => sink.arrived.length >= 1, { what: 'a send parked at the SMTP server' });

    first.process.kill('SIGTERM');
    // Well under the 20 s send timeout: the exit must not wait for the hung SMTP session.
    expect(await exitWithin(first, 5_000)).toBe(0);
    expect(sink.accepted).toEqual([]);

    sink.release();
    const second = await spawn(dir, sink.url, ['--job-lease', '30s']);
    // Released jobs are due at once: nothing waits for the 30 s lease.
    await waitFor(() => new Set(sink.accepted).size >= ids.length, { what: 'all 10 emails after the restart' });
    expect(new Set(sink.accepted)).toEqual(new Set(ids));
    await waitFor(async () => (await listAll(second.url, 'sent')).length === ids.length, {
      what: 'all messages listed as sent',
    });
  });
});
