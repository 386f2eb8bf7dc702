import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// Runs are durable: a SIGKILL while runs sleep in a delay, or just as digest windows close, loses
// nothing and sends no digest twice. Real processes on a real database, with real (short) time.

const API_KEY = 'hk_runs_crash_0123456789abcdefghijklmn';
const auth = { authorization: `Bearer ${API_KEY}` };
const RECIPIENTS = 40;
const DIGESTS = 12;
const EVENTS_PER_DIGEST = 8;

let dir: string;
const children: ChildHerald[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-runs-crash-'));
});

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

async function spawn(): Promise<ChildHerald> {
  // A short lease: the restart takes over the dead process's claimed timers and jobs quickly.
  const child = await spawnHerald(['--data-dir', dir, '--job-lease', '2s'], { HERALD_API_KEY: API_KEY });
  children.push(child);
  return child;
}

async function api(child: ChildHerald, method: string, path: string, body?: unknown) {
  const res = await call(child.url + path, method, body, auth);
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  return res.body;
}

async function allMail(child: ChildHerald): Promise<{ to: string; subject: string; messageId: string }[]> {
  const mail: { to: string; subject: string; messageId: string }[] = [];
  let cursor = '';
  for (;;) {
    const page = await api(child, 'GET', `/v1/dev/mail?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    mail.push(...page.items);
    if (!page.nextCursor) return mail;
    cursor = page.nextCursor;
  }
}

function kill(child: ChildHerald): Promise<number | string> {
  child.process.kill('SIGKILL');
  return child.exited;
}

it('sends every email of runs killed in their delay, once', { timeout: 60_000 }, async () => {
  let child = await spawn();
  await api(child, 'PUT', '/v1/workflows/later', {
    steps: [
      { type: 'in_app', body: 'now' },
      { type: 'delay', for: '2s' },
      { type: 'email', subject: 'after the delay', text: 'x' },
    ],
  });
  const to = Array.from({ length: RECIPIENTS }, (_, i) => ({ subscriberId: `d${i}`, email: `d${i}@example.com` }));
  const { triggerId } = await api(child, 'POST', '/v1/workflows/later/trigger', { to });
  await waitFor(async () => {
    const runs = (await api(child, 'GET', `/v1/triggers/${triggerId}`)).runs as { state: string }[];
    return runs.length === RECIPIENTS && runs.every((run) => run.state === 'waiting');
  });
  expect(await kill(child)).toBe('SIGKILL');

  child = await spawn();
  const mail = await waitFor(
    async () => {
      const found = (await allMail(child)).filter((m) => m.subject === 'after the delay');
      return found.length >= RECIPIENTS ? found : undefined;
    },
    { timeoutMs: 30_000, what: 'every delayed email' },
  );
  expect(mail.map((m) => m.to).sort()).toEqual(to.map((r) => r.email).sort());
  const runs = (await api(child, 'GET', `/v1/triggers/${triggerId}`)).runs as { state: string }[];
  expect(runs.every((run) => run.state === 'completed')).toBe(true);
  await kill(child);
});

it('closes digests killed at their window edge exactly once, with every event', { timeout: 60_000 }, async () => {
  let child = await spawn();
  await api(child, 'PUT', '/v1/workflows/digest', {
    steps: [
      { type: 'digest', window: '1500ms', key: '{{ data.key }}' },
      {
        type: 'email',
        subject: '{{ digest.count }} events',
        text: '{% for e in digest.events %}{{ e.n }} {% endfor %}',
      },
    ],
  });
  await api(child, 'PUT', '/v1/subscribers/edge', { email: 'edge@example.com' });
  // Digests opened a little apart, so their window edges fall around the kill.
  for (let d = 0; d < DIGESTS; d++) {
    for (let n = 1; n <= EVENTS_PER_DIGEST; n++) {
      await api(child, 'POST', '/v1/workflows/digest/trigger', { to: 'edge', data: { key: `k${d}`, n } });
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(await kill(child)).toBe('SIGKILL');

  child = await spawn();
  await waitFor(
    async () => {
      const found = (await allMail(child)).filter((m) => m.to === 'edge@example.com');
      return new Set(found.map((m) => m.messageId)).size >= DIGESTS;
    },
    { timeoutMs: 30_000, what: 'every digest' },
  );
  // Give a second digest, were there one, the time to come.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const all = (await allMail(child)).filter((m) => m.to === 'edge@example.com');
  // One digest message per key. The kill may land between a send and its record, and that message
  // is then sent again (at-least-once, with the same message id): count messages, not copies.
  expect(new Set(all.map((m) => m.messageId)).size).toBe(DIGESTS);
  expect(all.every((m) => m.subject === `${EVENTS_PER_DIGEST} events`)).toBe(true);
  const log = await api(child, 'GET', '/v1/messages?subscriberId=edge&limit=100');
  const statuses = (log.items as { status: string }[]).map((m) => m.status);
  expect(statuses.filter((s) => s === 'sent')).toHaveLength(DIGESTS);
  expect(statuses.filter((s) => s === 'digested')).toHaveLength(DIGESTS * (EVENTS_PER_DIGEST - 1));
  await kill(child);
});
