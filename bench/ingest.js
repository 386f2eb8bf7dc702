/**
 * Ingest: how many triggers per second Herald accepts (202 after the durable commit), against
 * the ceiling of the same route without the database (POST /v1/bench/noop-trigger/{key}).
 *
 * Three autocannon runs of `durationSec` each, 50 connections, distinct subscriber per request:
 *   ceiling    noop-trigger, delivery parked
 *   ingest     trigger, delivery parked: the accept path alone, which the ≥ 0.30 target is about
 *   + delivery trigger while Herald also delivers every accepted message to the SMTP sink process
 *
 * "Delivery parked" means Herald's SMTP URL points at a loopback socket that accepts connections
 * and never greets, so the worker holds its first 32 jobs and sends nothing; every accepted
 * trigger still writes its message and job. Nothing goes to the dev mailbox in any run.
 */
import net from 'node:net';
import { track } from './support/cleanup.js';
import { createWorkflow, startHerald } from './support/herald-process.js';
import { checkClean, cpuUsPerRequest, loadTriggers, WARMUP_SECONDS } from './support/ingest-load.js';
import { round } from './support/measure.js';
import { startSinkProcess } from './support/smtp-sink.js';
import { triggerBody, WORKFLOW_KEY } from './support/workload.js';

export const INGEST_TARGET = 0.3;

/** An SMTP "server" that accepts connections and never answers: Herald's sends wait, costing nothing. */
async function startParkedRelay() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  const stop = track('parked SMTP relay', { stop: async () => close(), kill: close });
  return { url: `smtp://127.0.0.1:${server.address().port}`, stop };
}

/** One autocannon run against one Herald; CPU per request is Herald's. */
async function load(herald, path, { connections, durationSec, pids, log }) {
  const run = await loadTriggers({
    urls: [herald.url],
    path,
    apiKey: herald.apiKey,
    connections,
    durationSec,
    pids,
    log,
  });
  run.heraldCpuUsPerRequest = cpuUsPerRequest(run, ['herald']);
  return run;
}

export async function runIngest({
  durationSec = 10,
  connections = 50,
  withDelivery = true,
  cpuProfileDir,
  log = console.log,
}) {
  const settings = { connections, durationSec };

  log(`ingest: ceiling and accept path (delivery parked), ${connections} connections, ${durationSec} s each`);
  const relay = await startParkedRelay();
  // Long timeouts keep the parked sends waiting for the whole run instead of retrying. The relay
  // may hold every slot, as a parked run means: at the default share (half), the worker would put
  // each accepted message back once (a claim and a write each), and the run would measure that.
  const herald = await startHerald({
    env: { HERALD_SMTP_URL: relay.url },
    args: ['--send-timeout', '5m', '--job-lease', '10m', '--destination-concurrency', '32'],
    cpuProfileDir,
  });
  let ceiling;
  let ingest;
  try {
    await createWorkflow(herald);
    const pids = { herald: herald.pid };
    ceiling = await load(herald, `/v1/bench/noop-trigger/${WORKFLOW_KEY}`, { ...settings, pids, log });
    log(`  ceiling  ${ceiling.requestsPerSec} req/s`);
    ingest = await load(herald, `/v1/workflows/${WORKFLOW_KEY}/trigger`, { ...settings, pids, log });
    log(`  ingest   ${ingest.requestsPerSec} req/s`);
    if (!herald.isRunning()) throw new Error(`herald exited during the run:\n${herald.output()}`);
  } finally {
    // Together: dropping the relay's sockets fails the parked sends, so Herald can finish its shutdown.
    await Promise.all([herald.stop(), relay.stop()]);
  }

  let withLiveDelivery;
  if (withDelivery) {
    log('ingest: accept path while delivering to the SMTP sink process');
    const sink = await startSinkProcess();
    const live = await startHerald({ env: { HERALD_SMTP_URL: sink.url }, cpuProfileDir });
    try {
      await createWorkflow(live);
      const before = await sink.stats();
      const run = await load(live, `/v1/workflows/${WORKFLOW_KEY}/trigger`, {
        ...settings,
        pids: { herald: live.pid, sink: sink.pid },
        log,
      });
      const after = await sink.stats();
      // Messages accepted in the warm-up are delivered first, so this counts deliveries, not these triggers.
      run.deliveredPerSec = round((after.distinct - before.distinct) / run.durationSec);
      withLiveDelivery = run;
      log(`  ingest   ${run.requestsPerSec} req/s while delivering ${run.deliveredPerSec} msg/s`);
    } finally {
      await live.stop();
      await sink.stop();
    }
  }

  const clean = checkClean(ceiling, 'ceiling') && checkClean(ingest, 'ingest');
  return {
    settings: {
      ...settings,
      warmupSec: WARMUP_SECONDS,
      bodyBytes: Buffer.byteLength(triggerBody('sub-00000000')),
      bodies: 'distinct subscriberId per request (autocannon setupRequest)',
      email: 'SMTP: parked relay for ceiling and ingest; SMTP sink process for the live-delivery run',
    },
    ceiling,
    ingest,
    withLiveDelivery,
    ratio: round(ingest.requestsPerSec / ceiling.requestsPerSec, 3),
    target: INGEST_TARGET,
    clean,
  };
}
