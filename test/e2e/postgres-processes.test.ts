import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

// One API process and two worker processes on one PostgreSQL schema, as separate `herald serve`s.
const DATABASE_URL = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `herald_procs_${randomBytes(6).toString('hex')}`;
const API_KEY = 'hk_processes_test_key_0123456789';
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
const dir = mkdtempSync(join(tmpdir(), 'herald-procs-'));
const children: ChildHerald[] = [];
let sink: SmtpSink | undefined;

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  await sink?.close();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

/** herald_messages_total{channel="email",status="sent"} of one process. */
async function sentBy(child: ChildHerald): Promise<number> {
  const text = (await call(child.url + '/metrics', 'GET')).text;
  return Number(/herald_messages_total\{channel="email",status="sent"\} (\d+)/.exec(text)?.[1] ?? 0);
}

it('shares the work of one API process between two worker processes, each message sent once', async () => {
  sink = await startSmtpSink();
  const env = {
    HERALD_API_KEY: API_KEY,
    HERALD_SMTP_URL: sink.url,
    HERALD_DATABASE: `${DATABASE_URL}?schema=${schema}`,
  };
  // Started together: their migrations race for the advisory lock, and only one applies them.
  const [api, ...workers] = await Promise.all(
    (['api', 'worker', 'worker'] as const).map((role) => spawnHerald(['--role', role, '--data-dir', dir], env)),
  );
  children.push(api!, ...workers);
  const auth = { authorization: `Bearer ${API_KEY}` };

  expect(
    (
      await call(
        api!.url + '/v1/workflows/procs',
        'PUT',
        { steps: [{ type: 'email', subject: 'Hi', text: 'x' }] },
        auth,
      )
    ).status,
  ).toBe(200);
  // Worker processes serve probes and metrics only.
  expect((await call(workers[0]!.url + '/v1/workflows/procs', 'GET', undefined, auth)).status).toBe(404);
  expect((await call(workers[0]!.url + '/readyz', 'GET')).status).toBe(200);

  const ids: string[] = [];
  for (let t = 0; t < 20; t++) {
    const to = Array.from({ length: 30 }, (_, i) => ({ subscriberId: `p${t}-${i}`, email: `p${t}-${i}@example.com` }));
    const res = await call(api!.url + '/v1/workflows/procs/trigger', 'POST', { to }, auth);
    expect(res.status).toBe(202);
    ids.push(...res.body.messageIds);
  }
  await waitFor(() => sink!.received.length >= ids.length, { timeoutMs: 30_000, what: `${ids.length} emails` });

  const received = sink.received.map((mail) => mail.heraldMessageId);
  expect(new Set(received)).toEqual(new Set(ids));
  expect(received).toHaveLength(ids.length); // no message sent twice
  // A worker counts a send once its outcome is committed, a few milliseconds after the sink has it.
  const shares = await waitFor(
    async () => {
      const counts = await Promise.all(workers.map(sentBy));
      return counts.reduce((a, b) => a + b, 0) === ids.length ? counts : undefined;
    },
    { what: 'every outcome recorded' },
  );
  console.log(`work shared between worker processes: ${shares.join(' + ')} of ${ids.length}`);
  expect(shares.every((share) => share > 0)).toBe(true);
  expect(shares.reduce((a, b) => a + b, 0)).toBe(ids.length);
  expect(await sentBy(api!)).toBe(0);

  for (const child of children) child.process.kill('SIGTERM');
  expect(await Promise.all(children.map((child) => child.exited))).toEqual([0, 0, 0]);
});
