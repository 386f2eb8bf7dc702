import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { spawnHerald, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { dropSchemas, TEST_DATABASE_URL, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

// One API and three worker processes on PostgreSQL while things go wrong: a worker is SIGKILLed
// every ~2 s and replaced, and twice every connection Herald holds is terminated by the server
// (what a restart or failover does to clients). Nothing accepted may be lost.
const schema = testSchema();
/** Lets the test find Herald's connections in pg_stat_activity, and only Herald's. */
const APPLICATION = `herald_chaos_${schema}`;
const API_KEY = 'hk_chaos_test_key_0123456789abcdefghij';
const auth = { authorization: `Bearer ${API_KEY}` };
const MESSAGES = 5_000;
const PER_TRIGGER = 50;
const CONCURRENCY = 16;
const KILL_EVERY_MS = 2_000;
const dir = mkdtempSync(join(tmpdir(), 'herald-chaos-'));
const children: ChildHerald[] = [];
const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
let sink: SmtpSink | undefined;

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  await sink?.close();
  await admin.end().catch(() => undefined);
  await dropSchemas(schema);
  rmSync(dir, { recursive: true, force: true });
});

it('loses nothing while workers are killed and every database connection is cut', async () => {
  sink = await startSmtpSink();
  await admin.connect();
  const env = {
    HERALD_API_KEY: API_KEY,
    HERALD_SECRET_KEY: 'chaos-test-secret-key-0123456789abcdef',
    HERALD_SMTP_URL: sink.url,
    HERALD_DATABASE: `${testDatabaseUrl(schema)}&application_name=${APPLICATION}`,
  };
  const start = (role: 'api' | 'worker') =>
    spawnHerald(
      [
        ...['--role', role, '--data-dir', dir, '--concurrency', String(CONCURRENCY)],
        ...['--job-lease', '2s', '--retry-schedule', '100ms,200ms,500ms,1s,2s'],
      ],
      env,
    ).then((child) => {
      children.push(child);
      return child;
    });
  const api = await start('api');
  let workers: ChildHerald[] = await Promise.all([start('worker'), start('worker'), start('worker')]);
  const workflow = await call(
    api.url + '/v1/workflows/chaos',
    'PUT',
    { steps: [{ type: 'email', subject: 'Hi', text: 'x' }] },
    auth,
  );
  expect(workflow.status).toBe(200);

  // The producer: triggers until MESSAGES are accepted, keeping every answer's status.
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  const producing = (async () => {
    for (let t = 0; accepted.length < MESSAGES; t++) {
      const to = Array.from({ length: PER_TRIGGER }, (_, i) => ({
        subscriberId: `c${t}-${i}`,
        email: `c${t}-${i}@x.test`,
      }));
      const res = await call(api.url + '/v1/workflows/chaos/trigger', 'POST', { to }, auth);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 202) accepted.push(...res.body.messageIds);
    }
  })();

  // The chaos: kill a worker every ~2 s and start another; cut every connection at ticks 2 and 5.
  let kills = 0;
  let terminated = 0;
  let producerDone = false;
  void producing.then(() => (producerDone = true));
  for (let tick = 1; !producerDone || kills < 6; tick++) {
    await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
    const victim = workers[tick % workers.length]!;
    victim.process.kill('SIGKILL');
    await victim.exited;
    kills++;
    if (tick === 2 || tick === 5) {
      const { rowCount } = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [APPLICATION],
      );
      terminated += rowCount ?? 0;
    }
    workers = [...workers.filter((w) => w !== victim), await start('worker')];
  }
  await producing;

  const wanted = new Set(accepted);
  await waitFor(
    () => {
      const got = new Set(sink!.received.map((mail) => mail.heraldMessageId));
      return accepted.every((id) => got.has(id));
    },
    {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `all ${MESSAGES} accepted messages at the sink`,
    },
  );
  const receivedIds = new Set(sink.received.map((mail) => mail.heraldMessageId));
  const lost = accepted.filter((id) => !receivedIds.has(id));
  const deliveries = sink.received.filter((mail) => wanted.has(mail.heraldMessageId)).length;
  const duplicates = deliveries - wanted.size;
  console.log(
    `chaos: ${accepted.length} accepted, ${kills} workers killed, ${terminated} connections terminated, ` +
      `${lost.length} lost, ${duplicates} duplicates (limit ${kills * CONCURRENCY}), answers ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  expect(lost).toEqual([]);
  // A killed worker's in-flight sends may be repeated once each: at most CONCURRENCY per kill.
  expect(duplicates).toBeLessThanOrEqual(kills * CONCURRENCY);
  // The API answers 202 or, while its connections are being re-established, 503: never 500.
  expect([...statuses.keys()].every((status) => status === 202 || status === 503)).toBe(true);
}, 180_000);
