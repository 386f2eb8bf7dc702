import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { dropSchemas, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

// Workflow runs across processes: one API and three worker processes on one PostgreSQL schema.
// Delays, digests and throttles are settled by whichever worker claims a run; each must come out
// exactly as on one process.
const schema = testSchema();
const API_KEY = 'hk_runs_processes_key_0123456789';
const auth = { authorization: `Bearer ${API_KEY}` };
const dir = mkdtempSync(join(tmpdir(), 'herald-runs-procs-'));
const children: ChildHerald[] = [];
let sink: SmtpSink;
let api: ChildHerald;

beforeAll(async () => {
  sink = await startSmtpSink();
  const env = {
    HERALD_API_KEY: API_KEY,
    HERALD_SECRET_KEY: 'runs-processes-secret-key-0123456789abcdef',
    HERALD_SMTP_URL: sink.url,
    HERALD_DATABASE: testDatabaseUrl(schema),
  };
  const started = await Promise.all(
    (['api', 'worker', 'worker', 'worker'] as const).map((role) =>
      spawnHerald(['--role', role, '--data-dir', dir, '--job-lease', '2s'], env),
    ),
  );
  children.push(...started);
  api = started[0]!;
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  await sink?.close();
  await dropSchemas(schema);
  rmSync(dir, { recursive: true, force: true });
});

async function request(method: string, path: string, body?: unknown) {
  const res = await call(api.url + path, method, body, auth);
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  return res.body;
}

const mailTo = (prefix: string) => sink.received.filter((m) => m.envelopeTo.some((to) => to.startsWith(prefix)));

describe('runs on one PostgreSQL, one API and three worker processes', () => {
  it('sends each email after a delay once', { timeout: 60_000 }, async () => {
    await request('PUT', '/v1/workflows/delayed', {
      steps: [
        { type: 'delay', for: '1s' },
        { type: 'email', subject: 'delayed', text: 'x' },
      ],
    });
    const triggers = await Promise.all(
      [0, 1, 2].map((t) =>
        request('POST', '/v1/workflows/delayed/trigger', {
          to: Array.from({ length: 100 }, (_, i) => ({ subscriberId: `late-${t}-${i}`, email: `late-${t}-${i}@x.io` })),
        }),
      ),
    );
    await waitFor(() => mailTo('late-').length >= 300, { timeoutMs: 30_000, what: '300 delayed emails' });
    const addresses = mailTo('late-').flatMap((m) => m.envelopeTo);
    expect(new Set(addresses).size).toBe(300);
    expect(addresses).toHaveLength(300);
    for (const { triggerId } of triggers) {
      const detail = await request('GET', `/v1/triggers/${triggerId}?limit=1000`);
      expect(detail.runs.every((run: any) => run.state === 'completed')).toBe(true);
    }
  });

  it(
    'digests concurrent events per recipient and key exactly, whichever worker takes them',
    { timeout: 60_000 },
    async () => {
      await request('PUT', '/v1/workflows/folded', {
        // The window outlasts the 120 concurrent triggers on a loaded machine (they took over 2 s
        // under a load average of 10): every event must join its recipient's one digest.
        steps: [
          { type: 'digest', window: '6s', key: '{{ data.key }}' },
          { type: 'email', subject: '{{ digest.count }} events', text: 'x' },
        ],
      });
      const people = ['dg-a', 'dg-b', 'dg-c'];
      for (const person of people) await request('PUT', `/v1/subscribers/${person}`, { email: `${person}@x.io` });
      const posts: Promise<unknown>[] = [];
      for (let n = 0; n < 20; n++) {
        for (const person of people) {
          for (const key of ['k1', 'k2']) {
            posts.push(request('POST', '/v1/workflows/folded/trigger', { to: person, data: { key, n } }));
          }
        }
      }
      await Promise.all(posts);
      await waitFor(() => mailTo('dg-').length >= 6, { timeoutMs: 30_000, what: 'six digests' });
      // Time for a digest too many, were there one.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const digests = mailTo('dg-');
      expect(digests).toHaveLength(6);
      expect(digests.map((m) => m.parsed.subject)).toEqual(Array(6).fill('20 events'));
      for (const person of people) {
        const log = await request('GET', `/v1/messages?subscriberId=${person}&limit=100`);
        const statuses = (log.items as { status: string }[]).map((m) => m.status);
        expect(statuses.filter((s) => s === 'sent')).toHaveLength(2);
        expect(statuses.filter((s) => s === 'digested')).toHaveLength(38);
      }
    },
  );

  it('lets exactly the limit through a throttle under concurrent runs', { timeout: 60_000 }, async () => {
    await request('PUT', '/v1/workflows/limited', {
      steps: [
        { type: 'throttle', limit: 5, window: '1h' },
        { type: 'email', subject: 'limited', text: 'x' },
      ],
    });
    await request('PUT', '/v1/subscribers/th-a', { email: 'th-a@x.io' });
    const accepted = await Promise.all(
      Array.from({ length: 30 }, () => request('POST', '/v1/workflows/limited/trigger', { to: 'th-a' })),
    );
    const ids = accepted.map((a: any) => a.messageIds[0] as string);
    const statuses = await waitFor(
      async () => {
        const found = await Promise.all(ids.map(async (id) => (await request('GET', `/v1/messages/${id}`)).status));
        return found.every((s) => s === 'sent' || s === 'throttled') ? found : undefined;
      },
      { timeoutMs: 30_000, what: 'every throttled run to settle' },
    );
    expect(statuses.filter((s) => s === 'sent')).toHaveLength(5);
    expect(statuses.filter((s) => s === 'throttled')).toHaveLength(25);
  });
});
