/**
 * Runaway templates: how does the API answer while renders run into the render limit, against the
 * same server idle? (Issue 11, item 6: before the render pool, `/healthz` took 6.7 s.)
 *
 * `herald serve` runs with its defaults except `--render-timeout 100ms` (the limit of the issue's
 * report; a shorter run than the default 250 ms). A prober sends `GET /healthz` over one
 * keep-alive connection, one request 10 ms after the previous answer, and records each latency.
 * Herald's event-loop delay comes from its own /metrics (prom-client's monitorEventLoopDelay,
 * 10 ms resolution, reset at each scrape), scraped once a second: the figures are the worst
 * one-second p99 and the largest delay of each phase.
 *
 * 1. Idle: the same server, no work, for IDLE_SECONDS.
 * 2. Runaway: `renders` runaway messages, each its own single-recipient trigger, until every one
 *    has failed. Nine in ten run 10^8 loop turns (Liquid stops them at its limit); one in ten
 *    sorts four million numbers in one filter call (ignores Liquid's limit: its thread is ended
 *    and replaced). They are spread over workflows of RENDERS_PER_WORKFLOW triggers each, so the
 *    runaway guard (which refuses a version after ten overruns) lets every one render to the
 *    limit: the worst case for the pool, not the usual one.
 */
import http from 'node:http';
import { track } from './support/cleanup.js';
import { startHerald } from './support/herald-process.js';
import { createApiClient, expectStatus } from './support/http-client.js';
import { cpuMeter, idleOrWarn, percentile, round, wallClockMs } from './support/measure.js';

const RENDER_TIMEOUT = '100ms';
const IDLE_SECONDS = 10;
const PROBE_GAP_MS = 10;
/** Below the runaway guard's ten overruns in a row per workflow version. */
const RENDERS_PER_WORKFLOW = 5;
/** 10^8 loop turns over a ten-item list (a range would be charged to Liquid's memory limit). */
const LOOPS =
  '{% assign ten = "0,1,2,3,4,5,6,7,8,9" | split: "," %}' +
  Array.from({ length: 8 }, (_, i) => `{% for l${i} in ten %}`).join('') +
  'x' +
  '{% endfor %}'.repeat(8);
const SORT = '{% assign sorted = (1..4000000) | sort %}{{ sorted | first }}';
const TRIGGERS_IN_FLIGHT = 8;

/** Sends GET /healthz until stopped, one at a time; returns the latencies in ms. */
function startProbe(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(url);
  const latencies = [];
  let errors = 0;
  let running = true;
  const once = () =>
    new Promise((resolve) => {
      const startedAt = wallClockMs();
      const req = http.get({ agent, hostname, port, path: '/healthz' }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(wallClockMs() - startedAt);
          else errors++;
          resolve();
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const done = (async () => {
    while (running) {
      await once();
      await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
    }
  })();
  const stop = track('healthz probe', { stop: async () => agent.destroy(), kill: () => agent.destroy() });
  return async () => {
    running = false;
    await done;
    await stop();
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      requests: sorted.length,
      errors,
      p50: round(percentile(sorted, 50), 2),
      p99: round(percentile(sorted, 99), 2),
      max: round(sorted.at(-1) ?? NaN, 2),
    };
  };
}

/** Reads Herald's /metrics once a second: event-loop delay per interval, and failed messages. */
function startScraper(api) {
  const intervals = [];
  let failed = 0;
  let running = true;
  const value = (text, name) => {
    const line = text.split('\n').find((l) => l.startsWith(name + ' '));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  const scrape = async () => {
    const res = await api.request('GET', '/metrics');
    intervals.push({
      p99: value(res.text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      max: value(res.text, 'nodejs_eventloop_lag_max_seconds') * 1000,
    });
    failed = value(res.text, 'herald_messages_total{channel="email",status="failed"}') ?? 0;
  };
  // The first scrape only resets the histogram to the start of the phase.
  const first = scrape().then(() => intervals.splice(0));
  const done = (async () => {
    await first;
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await scrape();
    }
  })();
  return {
    failed: () => failed,
    async stop() {
      running = false;
      await done;
      return {
        intervals: intervals.length,
        worstP99Ms: round(Math.max(...intervals.map((i) => i.p99)), 1),
        medianP99Ms: round(
          percentile(
            [...intervals.map((i) => i.p99)].sort((a, b) => a - b),
            50,
          ),
          1,
        ),
        maxMs: round(Math.max(...intervals.map((i) => i.max)), 1),
      };
    },
  };
}

async function measure(herald, api, work, log) {
  const machine = await idleOrWarn(log);
  const meter = cpuMeter({ herald: herald.pid });
  const scraper = startScraper(api);
  const probe = startProbe(herald.url);
  const startedAt = wallClockMs();
  const extra = await work(scraper);
  const seconds = round((wallClockMs() - startedAt) / 1000, 1);
  const healthz = await probe();
  const eventLoopLag = await scraper.stop();
  const { cores } = meter();
  return { seconds, healthz, eventLoopLag, cores, machineBeforeRun: machine, ...extra };
}

export async function runRunaway({ renders = 1000, cpuProfileDir, log = console.log }) {
  const herald = await startHerald({ args: ['--render-timeout', RENDER_TIMEOUT], cpuProfileDir });
  const api = createApiClient(herald.url, herald.apiKey, { maxSockets: TRIGGERS_IN_FLIGHT + 2 });
  try {
    const workflows = Math.ceil(renders / RENDERS_PER_WORKFLOW);
    for (let w = 0; w < workflows; w++) {
      const html = w % 10 === 9 ? SORT : LOOPS;
      const body = { steps: [{ type: 'email', subject: 'Runaway', html }] };
      await expectStatus(api.request('PUT', `/v1/workflows/runaway-${w}`, body), 200, 'creating a workflow');
    }

    log(`runaway: herald idle, /healthz every ${PROBE_GAP_MS} ms for ${IDLE_SECONDS} s`);
    const idle = await measure(
      herald,
      api,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
        return {};
      },
      log,
    );
    log(`  idle     /healthz p99 ${idle.healthz.p99} ms · event-loop delay p99 ${idle.eventLoopLag.worstP99Ms} ms`);

    log(`runaway: ${renders} runaway renders (render limit ${RENDER_TIMEOUT}), /healthz probed throughout`);
    const runaway = await measure(
      herald,
      api,
      async (scraper) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: TRIGGERS_IN_FLIGHT }, async () => {
            while (next < renders) {
              const i = next++;
              const to = { subscriberId: `runaway-${i}`, email: `runaway-${i}@example.com` };
              await expectStatus(
                api.request('POST', `/v1/workflows/runaway-${Math.floor(i / RENDERS_PER_WORKFLOW)}/trigger`, { to }),
                202,
                'a trigger',
              );
            }
          }),
        );
        const deadline = Date.now() + renders * 2_000;
        while (scraper.failed() < renders) {
          if (!herald.isRunning()) throw new Error(`herald exited during the run:\n${herald.output()}`);
          if (Date.now() > deadline) throw new Error(`only ${scraper.failed()} of ${renders} messages failed in time`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        const metrics = (await api.request('GET', '/metrics')).text;
        const overruns = Object.fromEntries(
          [...metrics.matchAll(/^herald_render_overruns_total\{how="(\w+)"\} (\d+)$/gm)].map(([, how, n]) => [
            how,
            Number(n),
          ]),
        );
        return { failed: scraper.failed(), overruns };
      },
      log,
    );
    log(
      `  runaway  /healthz p99 ${runaway.healthz.p99} ms · event-loop delay p99 ${runaway.eventLoopLag.worstP99Ms} ms · ` +
        `${runaway.failed} failed in ${runaway.seconds} s`,
    );
    return {
      settings: {
        renders,
        renderTimeout: RENDER_TIMEOUT,
        renderThreads: 2,
        rendersPerWorkflow: RENDERS_PER_WORKFLOW,
        probeGapMs: PROBE_GAP_MS,
        idleSeconds: IDLE_SECONDS,
      },
      idle,
      runaway,
      ratios: {
        healthzP99: round(runaway.healthz.p99 / idle.healthz.p99, 2),
        eventLoopLagP99: round(runaway.eventLoopLag.worstP99Ms / idle.eventLoopLag.worstP99Ms, 2),
      },
    };
  } finally {
    api.close();
    await herald.stop();
  }
}
