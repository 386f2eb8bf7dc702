/**
 * Topic fan-out: one trigger to a topic of 100,000 subscribers, with one webhook step into the
 * webhook sink process (bench/webhook-sink-process.js), on SQLite. Reports the time from the
 * trigger until every run is created (the fan-out's state `done`, polled on GET /v1/triggers/{id}),
 * until every message is delivered (the sink's last distinct arrival), and the peak resident memory
 * of the Herald process meanwhile (sampled from /proc every 50 ms).
 *
 * Against it, in the same run, a plain loop that inserts the same rows — one completed run, one
 * queued message (with its log seq) and one job per member — into a SQLite file with Herald's
 * schema and settings (synchronous=FULL, WAL), with better-sqlite3, 1,000 members per transaction:
 * the floor of the writes alone, without reading members, planning or anything else running.
 *
 * The subscribers are created through the store before Herald starts (there is no bulk route); the
 * members are added through the API, 10,000 a call, as a user would.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newId } from '../dist/core/ids.js';
import { migrateSqlite } from '../dist/store/sqlite/migrate.js';
import { createSqliteStore, openSqlite } from '../dist/store/sqlite/sqlite-store.js';
import { startHerald } from './support/herald-process.js';
import { createApiClient, expectStatus } from './support/http-client.js';
import { cpuMeter, idleOrWarn, round, wallClockMs } from './support/measure.js';
import { startSinkProcess, waitForDistinct } from './support/smtp-sink.js';

/** The goals on this machine. */
export const FANOUT_GOALS = { createdSeconds: 10, peakRssMb: 300 };
const SINK_SCRIPT = fileURLToPath(new URL('./webhook-sink-process.js', import.meta.url));
const WORKFLOW_KEY = 'bench-fanout';
const TOPIC = 'everyone';
/** Herald's --concurrency (webhooks in flight). */
const CONCURRENCY = 50;
/** Members per transaction in the plain loop: what one fan-out page writes. */
const LOOP_BATCH = 1000;
const ADD_PER_CALL = 10_000;

const subscriberId = (i) => `fan-${String(i).padStart(7, '0')}`;

/** Creates `count` subscribers in the SQLite file at `path`, through Herald's store. */
async function seedSubscribers(path, count) {
  const store = createSqliteStore({ path });
  try {
    const env = await store.defaultEnvironmentId();
    for (let first = 0; first < count; first += 10_000) {
      const last = Math.min(count, first + 10_000);
      const puts = [];
      for (let i = first; i < last; i++) puts.push(store.putSubscriber(env, subscriberId(i), { name: `F ${i}` }, 0));
      await Promise.all(puts);
    }
  } finally {
    await store.close();
  }
}

/** A process's resident memory in MB, or undefined once it has exited. */
function residentMb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every 50 ms; `peak()` is the highest so far. */
function watchMemory(pid) {
  let peak = residentMb(pid) ?? 0;
  const timer = setInterval(() => (peak = Math.max(peak, residentMb(pid) ?? 0)), 50);
  return {
    peak: () => peak,
    stop: () => clearInterval(timer),
  };
}

/**
 * The plain loop: the rows the fan-out writes for `count` members, in transactions of LOOP_BATCH,
 * into a fresh file with Herald's schema. Returns the seconds it took.
 */
function plainLoop(count) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-loop-'));
  const db = openSqlite(join(dir, 'loop.db'));
  try {
    migrateSqlite(db);
    const env = 'env_development';
    const now = Date.now();
    const triggerId = newId('trg', now);
    db.prepare(
      `INSERT INTO triggers (id, environment_id, workflow_key, workflow_version_id, data, created_at)
       VALUES (?, ?, ?, ?, '{}', ?)`,
    ).run(triggerId, env, WORKFLOW_KEY, 'wfv_loop', now);
    const insertRun = db.prepare(`
      INSERT INTO runs (id, environment_id, trigger_id, subscriber_id, state, step_index, created_at, updated_at)
      VALUES (?, ?, ?, ?, 'completed', 1, ?, ?)`);
    const takeSeqs = db
      .prepare(`UPDATE log_sequence SET value = value + ? WHERE name = 'messages' RETURNING value`)
      .pluck();
    const insertMessage = db.prepare(`
      INSERT INTO messages (id, environment_id, trigger_id, workflow_key, workflow_version_id, subscriber_id,
                            channel, step_index, status, created_at, updated_at, seq)
      VALUES (?, ?, ?, ?, 'wfv_loop', ?, 'webhook', 0, 'queued', ?, ?, ?)`);
    const insertJob = db.prepare('INSERT INTO jobs (id, message_id, available_at, created_at) VALUES (?, ?, ?, ?)');
    const writeBatch = db.transaction((first, last) => {
      let seq = takeSeqs.get(last - first) - (last - first);
      for (let i = first; i < last; i++) {
        const at = Date.now();
        const messageId = newId('msg', at);
        insertRun.run(newId('run', at), env, triggerId, subscriberId(i), at, at);
        insertMessage.run(messageId, env, triggerId, WORKFLOW_KEY, subscriberId(i), at, at, ++seq);
        insertJob.run(messageId, messageId, at, at);
      }
    });
    const startedAt = performance.now();
    for (let first = 0; first < count; first += LOOP_BATCH) writeBatch(first, Math.min(count, first + LOOP_BATCH));
    return (performance.now() - startedAt) / 1000;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runFanout({ members = 100_000, cpuProfileDir, log = console.log } = {}) {
  log(`fan-out: one trigger to a topic of ${members} subscribers, one webhook step each`);
  const sink = await startSinkProcess({ script: SINK_SCRIPT, name: 'webhook sink' });
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const seedStartedAt = performance.now();
  await seedSubscribers(join(dataDir, 'herald.db'), members);
  log(
    `  ${members} subscribers created through the store in ${round((performance.now() - seedStartedAt) / 1000, 1)} s`,
  );
  const herald = await startHerald({
    dataDir,
    args: ['--concurrency', String(CONCURRENCY), '--allow-private-networks', '127.0.0.1/32'],
    cpuProfileDir,
  });
  const api = createApiClient(herald.url, herald.apiKey, { maxSockets: 4 });
  try {
    const integration = await expectStatus(
      api.request('PUT', '/v1/integrations/bench-hooks', { channel: 'webhook', provider: 'webhook' }),
      201,
      'creating the webhook integration',
    );
    const workflow = { steps: [{ type: 'webhook', url: `http://127.0.0.1:${sink.port}/hooks/fanout` }] };
    await expectStatus(api.request('PUT', `/v1/workflows/${WORKFLOW_KEY}`, workflow), 200, 'creating the workflow');
    const addStartedAt = performance.now();
    for (let first = 0; first < members; first += ADD_PER_CALL) {
      const subscriberIds = [];
      for (let i = first; i < Math.min(members, first + ADD_PER_CALL); i++) subscriberIds.push(subscriberId(i));
      await expectStatus(
        api.request('POST', `/v1/topics/${TOPIC}/subscribers`, { subscriberIds }),
        200,
        'adding members',
      );
    }
    const addSeconds = (performance.now() - addStartedAt) / 1000;
    await sink.reset({ secret: integration.secret });
    const machine = await idleOrWarn(log);
    const idleRssMb = residentMb(herald.pid);

    const memory = watchMemory(herald.pid);
    const meter = cpuMeter({ herald: herald.pid, sink: sink.pid });
    const startedAt = wallClockMs();
    const accepted = await expectStatus(
      api.request('POST', `/v1/workflows/${WORKFLOW_KEY}/trigger`, { to: { topic: TOPIC } }),
      202,
      'the trigger',
    );
    const acceptedAt = wallClockMs();
    let createdAt;
    let peakWhileCreating;
    for (;;) {
      const trigger = await expectStatus(
        api.request('GET', `/v1/triggers/${accepted.triggerId}?limit=1`),
        200,
        'reading the trigger',
      );
      if (trigger.fanout.state === 'done') {
        createdAt = wallClockMs();
        peakWhileCreating = memory.peak();
        if (trigger.fanout.recipients !== members) {
          throw new Error(`the fan-out reached ${trigger.fanout.recipients} of ${members} members`);
        }
        break;
      }
      if (!herald.isRunning()) throw new Error(`herald exited during the fan-out:\n${herald.output()}`);
      if (wallClockMs() - startedAt > 300_000) throw new Error('the fan-out did not end within 300 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stats = await waitForDistinct(sink, members, {
      deadlineMs: 600_000,
      check: () => {
        if (!herald.isRunning()) throw new Error(`herald exited during delivery:\n${herald.output()}`);
      },
    });
    memory.stop();
    const { cores, cpuSeconds } = meter();
    if (stats.badSignatures > 0) throw new Error(`${stats.badSignatures} sampled webhook signatures did not verify`);
    const createdSeconds = (createdAt - startedAt) / 1000;
    const deliveredSeconds = (stats.lastAt - startedAt) / 1000;
    log(
      `  runs created in ${round(createdSeconds, 2)} s, delivered in ${round(deliveredSeconds, 2)} s, ` +
        `peak RSS ${round(memory.peak())} MB (idle ${round(idleRssMb)} MB); running the plain loop`,
    );
    const loopSeconds = plainLoop(members);
    log(`  the plain loop wrote the same rows in ${round(loopSeconds, 2)} s`);
    return {
      settings: { members, concurrency: CONCURRENCY, loopBatch: LOOP_BATCH, addPerCall: ADD_PER_CALL },
      machineBusyBefore: machine,
      goals: FANOUT_GOALS,
      herald: {
        addMembersSeconds: round(addSeconds, 2),
        acceptMs: round(acceptedAt - startedAt, 1),
        createdSeconds: round(createdSeconds, 2),
        runsCreatedPerSec: round(members / createdSeconds),
        deliveredSeconds: round(deliveredSeconds, 2),
        deliveredPerSec: round(members / deliveredSeconds),
        duplicates: stats.duplicates,
        signaturesChecked: stats.verified,
        idleRssMb: round(idleRssMb),
        peakRssWhileCreatingMb: round(peakWhileCreating),
        peakRssMb: round(memory.peak()),
        heraldCpuMsPerMember: round((cpuSeconds.herald * 1000) / members, 3),
        cores,
      },
      plainLoop: { seconds: round(loopSeconds, 2), rowsPerSec: round((3 * members) / loopSeconds) },
      ratios: {
        createdVsLoop: round(createdSeconds / loopSeconds, 2),
        deliveredVsLoop: round(deliveredSeconds / loopSeconds, 2),
      },
    };
  } finally {
    api.close();
    await herald.stop();
    await sink.stop();
  }
}
