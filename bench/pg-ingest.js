/**
 * Ingest on PostgreSQL: triggers per second accepted (202 after the commit) by Herald with 1 and
 * 2 API processes, against the peer — a minimal Fastify endpoint doing one pg-boss `send()` per
 * request (bench/peer/pgboss-api.js) — with the same number of processes.
 *
 * Each measurement gets a fresh schema, dropped afterwards. Herald runs `--role api`: no worker
 * in any process, so this is the accept path alone, as the peer's endpoint is. Both sides get the
 * same bodies (~500 B, a new subscriber each), 50 connections spread evenly over the processes,
 * a 10-connection pool per process, and the server's synchronous_commit (on).
 */
import { startAll } from './support/child-process.js';
import { createWorkflow, newApiKey, startHerald } from './support/herald-process.js';
import { checkClean, cpuUsPerRequest, loadTriggers, WARMUP_SECONDS } from './support/ingest-load.js';
import { round } from './support/measure.js';
import { preparePeerSchema, startPeerApi } from './support/pgboss-peer.js';
import { benchSchema } from './support/postgres.js';
import { TRIGGER_PATH } from './support/trigger-run.js';
import { triggerBody } from './support/workload.js';

export const PG_INGEST_TARGET = 1.5;
/** Herald's --db-pool default, and the peer's pg-boss pool (peer/pgboss-config.js). */
const DB_POOL = 10;

const processPids = (processes) => Object.fromEntries(processes.map((p, i) => [`api${i + 1}`, p.pid]));

async function measure({ label, processes, apiKey, schema, settings, log }) {
  const pids = processPids(processes);
  const run = await loadTriggers({
    urls: processes.map((p) => p.url),
    path: TRIGGER_PATH,
    apiKey,
    ...settings,
    pids,
    backendPids: schema.backendPids,
    log,
  });
  for (const p of processes) {
    if (!p.isRunning()) throw new Error(`${label}: a process exited during the run:\n${p.output()}`);
  }
  run.serverCpuUsPerRequest = cpuUsPerRequest(run, Object.keys(pids));
  run.postgresCpuUsPerRequest = cpuUsPerRequest(run, ['postgres']);
  log(`  ${label.padEnd(7)} ${processes.length} process(es): ${run.requestsPerSec} req/s`);
  return run;
}

async function heraldRun(count, { databaseUrl, settings, cpuProfileDir, log }) {
  const schema = benchSchema(databaseUrl, `herald_ingest${count}`);
  const apiKey = newApiKey();
  const args = ['--database', schema.heraldUrl, '--db-pool', String(DB_POOL), '--role', 'api'];
  try {
    const processes = await startAll(count, () => startHerald({ name: 'herald api', apiKey, args, cpuProfileDir }));
    try {
      await createWorkflow(processes[0]);
      return await measure({ label: 'herald', processes, apiKey, schema, settings, log });
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
    }
  } finally {
    await schema.drop();
  }
}

async function peerRun(count, { databaseUrl, settings, cpuProfileDir, log }) {
  const schema = benchSchema(databaseUrl, `peer_ingest${count}`);
  const apiKey = newApiKey();
  try {
    await preparePeerSchema(schema);
    const processes = await startAll(count, () => startPeerApi({ schema, apiKey, cpuProfileDir }));
    try {
      return await measure({ label: 'pg-boss', processes, apiKey, schema, settings, log });
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
    }
  } finally {
    await schema.drop();
  }
}

export async function runPgIngest({
  databaseUrl,
  durationSec = 10,
  connections = 50,
  processCounts = [1, 2],
  cpuProfileDir,
  log = console.log,
}) {
  const settings = { connections, durationSec };
  log(`pg ingest: herald --role api vs pg-boss endpoint, ${connections} connections, ${durationSec} s each`);
  const runs = [];
  let clean = true;
  for (const processes of processCounts) {
    // Herald then the peer at each count: machine noise, if any, falls on both alike.
    const options = { databaseUrl, settings, cpuProfileDir, log };
    const herald = await heraldRun(processes, options);
    const peer = await peerRun(processes, options);
    clean = checkClean(herald, `herald, ${processes} process(es)`) && clean;
    clean = checkClean(peer, `pg-boss, ${processes} process(es)`) && clean;
    runs.push({ processes, herald, peer, ratio: round(herald.requestsPerSec / peer.requestsPerSec, 3) });
  }
  return {
    settings: {
      ...settings,
      warmupSec: WARMUP_SECONDS,
      dbPoolPerProcess: DB_POOL,
      bodyBytes: Buffer.byteLength(triggerBody('sub-00000000')),
      bodies: 'distinct subscriberId per request (autocannon setupRequest)',
      herald: 'herald serve --role api (no worker): subscriber upsert, trigger, message and job rows, group commit',
      peer: 'Fastify + JSON schema + bearer check, one pg-boss 10 send() (one INSERT, one commit) per request',
    },
    runs,
    target: PG_INGEST_TARGET,
    clean,
  };
}
