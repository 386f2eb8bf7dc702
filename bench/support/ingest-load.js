import autocannon from 'autocannon';
import { cpuMeter, idleOrWarn, round } from './measure.js';
import { triggerBody } from './workload.js';

export const WARMUP_SECONDS = 1;

let subscriberCounter = 0;

/**
 * One autocannon run of `durationSec` after a warm-up of WARMUP_SECONDS; every request gets a new
 * subscriber id, so each trigger upserts a new subscriber. With several `urls` (one per server
 * process) autocannon spreads the connections over them evenly; the figures are for all of them.
 *
 * `pids` names the processes whose CPU is measured; `backendPids` (optional, async) lists the
 * PostgreSQL server processes working for the run, asked after the warm-up and again at the end.
 */
export async function loadTriggers({ urls, path, apiKey, connections, durationSec, pids, backendPids, log }) {
  const options = {
    url: urls.map((url) => url + path),
    method: 'POST',
    connections,
    duration: durationSec,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest(request) {
          request.body = triggerBody(`sub-${String(subscriberCounter++).padStart(8, '0')}`);
          return request;
        },
      },
    ],
  };
  const machine = await idleOrWarn(log);
  await autocannon({ ...options, duration: WARMUP_SECONDS });
  const meter = cpuMeter(backendPids ? { ...pids, postgres: await backendPids() } : pids);
  const result = await autocannon(options);
  const { cores, cpuSeconds } = meter(backendPids ? { postgres: await backendPids() } : {});
  const accepted = result.statusCodeStats['202']?.count ?? 0;
  return {
    path,
    processes: urls.length,
    connections,
    durationSec: result.duration,
    requestsPerSec: round(accepted / result.duration),
    accepted,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    cores,
    cpuSeconds,
    machineBeforeRun: machine,
  };
}

/** Microseconds of CPU per request spent by the named processes together. */
export function cpuUsPerRequest(run, names) {
  const seconds = names.reduce((sum, name) => sum + (run.cpuSeconds[name] ?? 0), 0);
  return round((seconds * 1e6) / (run.requests || 1));
}

/** Fails when nothing was accepted; true when every request was answered 202 without error. */
export function checkClean(run, label) {
  if (run.accepted === 0)
    throw new Error(`${label}: no request was answered 202 (status codes ${JSON.stringify(run.statusCodes)})`);
  return run.non2xx === 0 && run.errors === 0 && run.timeouts === 0;
}
