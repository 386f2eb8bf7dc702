import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';
import { startWebhookCounter, watchResidentMemory, type WebhookCounter } from '../support/webhook-counter.js';

// A topic of 100,000 subscribers, fanned out by one trigger to a webhook step into a loopback
// receiver, with Herald killed (SIGKILL) mid-fan-out and restarted on the same data: every member
// is reached by exactly one message, and Herald's memory stays bounded while it fans out.
//
// The 100,000 subscribers are created through the store itself, before Herald starts (the API has
// no bulk route, and 100,000 PUTs would be most of the test); everything the fan-out does — the
// members added 10,000 a call, the trigger, the pages, the sends — goes through the public API.

const MEMBERS = 100_000;
/**
 * Herald's resident memory while it fans out (sends going on meanwhile), at most. Generous: an idle
 * Herald holds about 190 MB, SQLite's page cache grows by up to 64 MB as the runs are written, and
 * the sends' garbage comes and goes (bench/fanout.js measures the peak).
 */
const RSS_LIMIT_MB = 400;
const API_KEY = 'hk_topic_fanout_scale_0123456789ab';
const auth = { authorization: `Bearer ${API_KEY}` };
const member = (i: number) => `s${String(i).padStart(6, '0')}`;

let dir: string;
let sink: WebhookCounter;
const children: ChildHerald[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-fanout-scale-'));
  sink = await startWebhookCounter();
  const store = createSqliteStore({ path: join(dir, 'herald.db') });
  const env = await store.defaultEnvironmentId();
  for (let i = 0; i < MEMBERS; i += 10_000) {
    await Promise.all(
      Array.from({ length: 10_000 }, (_, j) => store.putSubscriber(env, member(i + j), { name: member(i + j) }, 0)),
    );
  }
  await store.close();
}, 60_000);

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function spawn(): Promise<ChildHerald> {
  // A short lease: the restart takes over the fan-out the dead process held, soon.
  const child = await spawnHerald(
    [
      '--data-dir',
      dir,
      '--job-lease',
      '2s',
      '--allow-private-networks',
      '127.0.0.1/32',
      '--concurrency',
      '64',
      '--destination-concurrency',
      '64',
    ],
    { HERALD_API_KEY: API_KEY },
  );
  children.push(child);
  return child;
}

async function api(child: ChildHerald, method: string, path: string, body?: unknown) {
  const res = await call(child.url + path, method, body, auth);
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  return res.body;
}

const fanoutOf = async (child: ChildHerald, triggerId: string) =>
  (await api(child, 'GET', `/v1/triggers/${triggerId}?limit=1`)).fanout as { state: string; recipients: number };

it(
  'reaches each of 100,000 members exactly once across a SIGKILL, in bounded memory',
  { timeout: 170_000 },
  async () => {
    let child = await spawn();
    await api(child, 'PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' });
    await api(child, 'PUT', '/v1/workflows/announce', {
      steps: [{ type: 'webhook', url: `${sink.url}/hook/{{ subscriber.subscriberId }}` }],
    });
    await api(child, 'PUT', '/v1/workflows/aside', { steps: [{ type: 'webhook', url: `${sink.url}/aside` }] });
    for (let i = 0; i < MEMBERS; i += 10_000) {
      const subscriberIds = Array.from({ length: 10_000 }, (_, j) => member(i + j));
      const added = await api(child, 'POST', '/v1/topics/everyone/subscribers', { subscriberIds });
      expect(added.added).toBe(10_000);
    }
    await api(child, 'POST', '/v1/topics/few/subscribers', { subscriberIds: [member(1), member(99_999)] });

    let memory = watchResidentMemory(child.process.pid!);
    const { triggerId, ...rest } = await api(child, 'POST', '/v1/workflows/announce/trigger', {
      to: { topic: 'everyone' },
    });
    expect(rest).toEqual({});
    // Pages interleave with other work: a fan-out triggered after this one ends long before it.
    const small = await api(child, 'POST', '/v1/workflows/aside/trigger', { to: { topic: 'few' } });
    await waitFor(async () => (await fanoutOf(child, small.triggerId)).state === 'done', { what: 'the small fan-out' });
    expect((await fanoutOf(child, triggerId)).state).toBe('running');

    // Killed mid-fan-out: some members reached, not all.
    const before = await waitFor(
      async () => {
        const fanout = await fanoutOf(child, triggerId);
        return fanout.recipients >= 20_000 ? fanout : undefined;
      },
      { timeoutMs: 60_000, what: '20,000 members reached' },
    );
    child.process.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    const peakBefore = memory.stop();
    expect(before.state).toBe('running');
    expect(before.recipients).toBeLessThan(MEMBERS);

    child = await spawn();
    memory = watchResidentMemory(child.process.pid!);
    const after = await waitFor(
      async () => {
        const fanout = await fanoutOf(child, triggerId);
        return fanout.state === 'done' ? fanout : undefined;
      },
      { timeoutMs: 60_000, what: 'the fan-out to end' },
    );
    const peakAfter = memory.stop();
    expect(after.recipients).toBe(MEMBERS);
    await waitFor(() => sink.bySubscriber.size >= MEMBERS, { timeoutMs: 120_000, what: 'every member reached' });

    // Exactly one message each: a message sent again after the kill has the same id (at-least-once).
    const twice = [...sink.bySubscriber].filter(([, ids]) => ids.size !== 1).map(([id]) => id);
    expect(twice).toEqual([]);
    const missed = Array.from({ length: MEMBERS }, (_, i) => member(i)).filter((id) => !sink.bySubscriber.has(id));
    expect(missed).toEqual([]);
    expect(sink.bySubscriber.size).toBe(MEMBERS);
    const ids = new Set([...sink.bySubscriber.values()].flatMap((set) => [...set]));
    expect(ids.size).toBe(MEMBERS);
    expect(Math.max(peakBefore, peakAfter)).toBeLessThan(RSS_LIMIT_MB);
    process.stdout.write(
      `fan-out of ${MEMBERS}: killed at ${before.recipients} reached; peak RSS while fanning out ` +
        `${Math.round(peakBefore)} MB before the kill, ${Math.round(peakAfter)} MB after; ${sink.requests()} requests\n`,
    );
  },
);
