/**
 * End to end on PostgreSQL: N triggers → delivered to the SMTP sink process, by Herald (one
 * `--role api` process and 1, 2 or 4 `--role worker` processes) and by the peer (the pg-boss
 * endpoint and 1, 2 or 4 pg-boss worker processes sending with nodemailer), each N in turn.
 *
 * Both sides: a fresh schema per run, a 10-connection pool per process, an SMTP pool of 5 and at
 * most 32 sends in flight per delivery process, the same ~5 KB template rendered per message with
 * the same engine, the same sink. delivered/s = messages / (first 202 → last arrival). Last,
 * nodemailer alone sends the same number of emails into the same sink (e2e.js's ceiling): what
 * the sending library reaches on this machine with no queue and no database.
 */
import { startAll } from './support/child-process.js';
import { ceilingEmail, runCeiling } from './e2e.js';
import { createWorkflow, newApiKey, startHerald } from './support/herald-process.js';
import { createApiClient } from './support/http-client.js';
import { cpuMeter, idleOrWarn, round } from './support/measure.js';
import { preparePeerSchema, startPeerApi, startPeerWorker } from './support/pgboss-peer.js';
import { benchSchema } from './support/postgres.js';
import { startSinkProcess, waitForDistinct } from './support/smtp-sink.js';
import { deadlineFor, deliveryFigures, sendTriggers, subscriberId } from './support/trigger-run.js';
import { TEMPLATE_BYTES, triggerBody } from './support/workload.js';

export const PG_E2E_TARGET = 1.5;
const DB_POOL = 10;
/** Herald's --smtp-pool default; the peer's pool and the ceiling's. */
const SMTP_POOL = 5;
/** The peer's 32 sends in flight per process: work() loops × jobs per fetch (peer/pgboss-worker.js). */
export const PEER_LOOPS = 1;
export const PEER_BATCH = 32;

/**
 * One run against a started pipeline: `api` takes the triggers, `workers` deliver. Measures CPU
 * of every process, the sink and the PostgreSQL backends of `schema`.
 */
async function measure({ label, api, workers, idOf, problemLine, schema, sink, messages, concurrency, log }) {
  const processes = [api, ...workers];
  const crashed = () => processes.find((p) => !p.isRunning());
  const client = createApiClient(api.url, api.apiKey, { maxSockets: concurrency });
  try {
    await sink.reset();
    const machine = await idleOrWarn(log);
    const pids = { api: api.pid, ...Object.fromEntries(workers.map((w, i) => [`worker${i + 1}`, w.pid])) };
    const meter = cpuMeter({ ...pids, sink: sink.pid, postgres: await schema.backendPids() });
    const sent = await sendTriggers({
      api: client,
      messages,
      concurrency,
      idOf,
      onError: (error) => (crashed() ? new Error(`${label}: a process exited:\n${crashed().output()}`) : error),
    });
    log(
      `  ${label}: accepted ${sent.acceptedAt.size}/${messages} in ${round((sent.endedAt - sent.startedAt) / 1000, 1)} s, waiting for delivery`,
    );
    if (sent.acceptedAt.size === 0)
      throw new Error(`${label}: no trigger was accepted: ${JSON.stringify(sent.statusCodes)}`);
    const stats = await waitForDistinct(sink, sent.acceptedAt.size, {
      deadlineMs: deadlineFor(messages),
      check: () => {
        if (crashed()) throw new Error(`${label}: a process exited during the run:\n${crashed().output()}`);
      },
    });
    const { cores, cpuSeconds } = meter({ postgres: await schema.backendPids() });
    const figures = deliveryFigures({ messages, sent, stats, arrivals: await sink.arrivals() });
    const msPerMessage = (names) =>
      round((names.reduce((sum, name) => sum + (cpuSeconds[name] ?? 0), 0) * 1000) / figures.delivered, 2);
    const problems = processes.flatMap((p) => p.output().match(problemLine) ?? []);
    if (problems.length > 0) log(`  ${label}: ${problems.length} warnings or errors logged, e.g. ${problems[0]}`);
    return {
      workers: workers.length,
      ...figures,
      // Counted in the last 20 kB of each process's output.
      loggedProblems: { count: problems.length, first: problems[0] ?? null },
      cores,
      // CPU per message is steadier than msg/s when other work shares the machine.
      serverCpuMsPerMessage: msPerMessage(Object.keys(pids)),
      postgresCpuMsPerMessage: msPerMessage(['postgres']),
      machineBeforeRun: machine,
    };
  } finally {
    client.close();
  }
}

/** What Herald's tables say about the messages not sent, for the error of a failed run. */
async function undelivered(schema) {
  try {
    const messages = await schema.query(
      `SELECT status, reason, attempt_count, count(*)::int AS messages FROM messages
       WHERE status <> 'sent' GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 10`,
    );
    const jobs = await schema.query(
      `SELECT locked_by, claims, available_at - (extract(epoch FROM now()) * 1000)::bigint AS due_in_ms
       FROM jobs ORDER BY available_at LIMIT 10`,
    );
    return `messages not sent: ${JSON.stringify(messages)}\njobs left: ${JSON.stringify(jobs)}`;
  } catch (error) {
    return `(could not read Herald's tables: ${error.message})`;
  }
}

/** The schema's table statistics of a run, per delivered message (null if they cannot be read). */
async function databaseWork(schema, delivered) {
  const stats = await schema.tableStats().catch(() => null);
  if (!stats) return null;
  return {
    seqScansPerMessage: round(stats.seq_scans / delivered, 2),
    indexScansPerMessage: round(stats.index_scans / delivered, 2),
    rowsWrittenPerMessage: round(stats.rows_written / delivered, 2),
    deadRowsAtEnd: stats.dead_rows,
    seqScansByTable: stats.seqScansByTable,
  };
}

async function heraldRun(workerCount, { databaseUrl, sink, cpuProfileDir, ...rest }) {
  const schema = benchSchema(databaseUrl, `herald_e2e${workerCount}`);
  const apiKey = newApiKey();
  const common = { apiKey, env: { HERALD_SMTP_URL: sink.url }, cpuProfileDir };
  const args = (role) => ['--database', schema.heraldUrl, '--db-pool', String(DB_POOL), '--role', role];
  const processes = [];
  let result;
  try {
    const api = await startHerald({ ...common, name: 'herald api', args: args('api') });
    processes.push(api);
    await createWorkflow(api);
    const workers = await startAll(workerCount, () =>
      startHerald({ ...common, name: 'herald worker', args: args('worker') }),
    );
    processes.push(...workers);
    result = await measure({
      label: `herald, ${workerCount} worker(s)`,
      api,
      workers,
      idOf: (body) => body.messageIds[0],
      problemLine: /^\{"level":[456]0.*$/gm, // pino: warn, error, fatal
      schema,
      sink,
      ...rest,
    });
  } catch (error) {
    throw new Error(`${error.message}\n${await undelivered(schema)}`, { cause: error });
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    if (result) result.database = await databaseWork(schema, result.delivered);
    await schema.drop();
  }
  return result;
}

async function peerRun(workerCount, { databaseUrl, sink, cpuProfileDir, ...rest }) {
  const schema = benchSchema(databaseUrl, `peer_e2e${workerCount}`);
  const processes = [];
  let result;
  try {
    await preparePeerSchema(schema);
    const api = await startPeerApi({ schema, apiKey: newApiKey(), cpuProfileDir });
    processes.push(api);
    const workers = await startAll(workerCount, () =>
      startPeerWorker({ schema, smtpUrl: sink.url, loops: PEER_LOOPS, batchSize: PEER_BATCH, cpuProfileDir }),
    );
    processes.push(...workers);
    result = await measure({
      label: `pg-boss, ${workerCount} worker(s)`,
      api,
      workers,
      idOf: (body) => body.id,
      problemLine: /^(batch failed|pg-boss):.*$/gm,
      schema,
      sink,
      ...rest,
    });
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    if (result) result.database = await databaseWork(schema, result.delivered);
    await schema.drop();
  }
  return result;
}

export async function runPgE2e({
  databaseUrl,
  messages = 5_000,
  concurrency = 50,
  workerCounts = [1, 2, 4],
  cpuProfileDir,
  log = console.log,
}) {
  const sink = await startSinkProcess();
  const runs = [];
  let ceiling;
  try {
    for (const workers of workerCounts) {
      log(`pg e2e: ${messages} triggers at concurrency ${concurrency}, ${workers} worker process(es) → SMTP sink`);
      // Herald then the peer at each count: machine noise, if any, falls on both alike.
      const options = { databaseUrl, sink, cpuProfileDir, messages, concurrency, log };
      const herald = await heraldRun(workers, options);
      log(`  herald   ${herald.deliveredPerSec} delivered/s, duplicates ${herald.duplicates}`);
      const peer = await peerRun(workers, options);
      log(`  pg-boss  ${peer.deliveredPerSec} delivered/s, duplicates ${peer.duplicates}`);
      runs.push({
        workers,
        herald,
        peer,
        ratio: round(herald.deliveredPerSec / peer.deliveredPerSec, 3),
        // The same comparison in CPU per message (peer / Herald, app processes and PostgreSQL).
        cpuRatio: round(
          (peer.serverCpuMsPerMessage + peer.postgresCpuMsPerMessage) /
            (herald.serverCpuMsPerMessage + herald.postgresCpuMsPerMessage),
          3,
        ),
      });
    }
    // What the sending library alone reaches on this machine: no queue, no database.
    log(`pg e2e: ceiling, nodemailer alone, pool ${SMTP_POOL}, ${messages} messages`);
    ceiling = await runCeiling({ messages, pool: SMTP_POOL, sink, email: ceilingEmail().email, log });
    log(`  ceiling  ${ceiling.perSec} msg/s`);
  } finally {
    await sink.stop();
  }
  for (const run of runs) {
    run.herald.ofCeiling = round(run.herald.deliveredPerSec / ceiling.perSec, 3);
    run.peer.ofCeiling = round(run.peer.deliveredPerSec / ceiling.perSec, 3);
  }
  const complete = (r) => r.delivered === messages && r.duplicates === 0;
  return {
    settings: {
      messages,
      concurrency,
      dbPoolPerProcess: DB_POOL,
      smtpPool: SMTP_POOL,
      inFlightPerWorker: 32,
      peerWorker: { workLoops: PEER_LOOPS, batchSize: PEER_BATCH, pollingIntervalSeconds: 0.5 },
      templateBytes: TEMPLATE_BYTES,
      bodyBytes: Buffer.byteLength(triggerBody(subscriberId(0))),
      herald: 'herald serve --role api + N × --role worker (LISTEN/NOTIFY wake-ups), defaults otherwise',
      peer: 'pg-boss endpoint + N × pg-boss work() processes, nodemailer pool 5, rendering per job',
    },
    runs,
    ceiling,
    target: PG_E2E_TARGET,
    clean: runs.every((r) => complete(r.herald) && complete(r.peer)),
  };
}
