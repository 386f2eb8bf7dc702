/**
 * `npm run bench`: ingest, then end to end. Prints a table of the figures against their
 * targets and writes bench/results/ingest.json and bench/results/e2e.json.
 *
 *   node bench/run.js [--only ingest|e2e] [--duration 10] [--messages 20000] [--pools 5,10] [--cpu-prof dir]
 *
 * BENCH_DURATION and BENCH_MESSAGES set the same as the flags. Without --pools, the ceiling runs
 * with pool 5 (Herald's default) and adds pool 10 only if the run stays within RUN_BUDGET_SECONDS.
 * --cpu-prof writes a .cpuprofile of every Herald child into dir (Chrome DevTools → Performance).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installExitHandlers, stopAll } from './support/cleanup.js';
import { machineInfo } from './support/measure.js';
import { runE2e } from './e2e.js';
import { runIngest } from './ingest.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
/** A full run should take about three minutes; optional extra measurements give way to this. */
const RUN_BUDGET_SECONDS = 180;

function positiveNumber(raw, name) {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
      messages: { type: 'string', default: process.env.BENCH_MESSAGES ?? '20000' },
      pools: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  if (values.only !== undefined && !['ingest', 'e2e'].includes(values.only)) {
    throw new Error(`--only must be ingest or e2e, got ${values.only}`);
  }
  return {
    only: values.only,
    durationSec: positiveNumber(values.duration, 'duration'),
    messages: Math.round(positiveNumber(values.messages, 'messages')),
    pools: values.pools?.split(',').map((pool) => Math.round(positiveNumber(pool, 'pools'))),
    cpuProfileDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
  };
}

function writeResults(name, results) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}.json`;
  writeFileSync(file, JSON.stringify({ name, machine: machineInfo(), ...results }, null, 2) + '\n');
  return file;
}

const int = (n) => (n === undefined || n === null ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n < 10 ? n.toFixed(1) : int(n));
const cores = (c) =>
  Object.entries(c)
    .map(([name, value]) => `${name} ${value ?? '?'}`)
    .join(', ');
const verdict = (ratio, target) =>
  `${ratio.toFixed(2)} (target ≥ ${target.toFixed(2)}) ${ratio >= target ? 'MET' : 'MISSED'}`;

function printTable(rows) {
  const width = Math.max(...rows.map(([label]) => label.length));
  const line = '-'.repeat(width + 50);
  console.log(`\n${line}`);
  for (const [label, value] of rows) console.log(label === '' ? line : `${label.padEnd(width)}  ${value}`);
  console.log(line);
}

function ingestRows(r) {
  const run = (x) =>
    `${int(x.requestsPerSec)} req/s · p50 ${ms(x.latencyMs.p50)} ms · p99 ${ms(x.latencyMs.p99)} ms · non-2xx ${x.non2xx}`;
  const rows = [
    [
      `Ingest (${r.settings.connections} connections, ${r.settings.durationSec} s, ${r.settings.bodyBytes} B bodies)`,
      '',
    ],
    ['  bodies · email', 'distinct subscriberId per request · SMTP, never the dev mailbox'],
    ['  POST trigger, 202 after commit', `${run(r.ingest)} · delivery parked`],
    ['  POST noop-trigger (ceiling)', run(r.ceiling)],
    ['  ratio ingest / ceiling', verdict(r.ratio, r.target)],
    ['  cores during ingest', `${cores(r.ingest.cores)} · herald ${r.ingest.heraldCpuUsPerRequest} µs CPU/request`],
    ['  cores during ceiling', `${cores(r.ceiling.cores)} · herald ${r.ceiling.heraldCpuUsPerRequest} µs CPU/request`],
  ];
  if (r.withLiveDelivery) {
    const live = r.withLiveDelivery;
    rows.push([
      '  POST trigger while delivering',
      `${run(live)} · ${int(live.deliveredPerSec)} delivered/s to the sink`,
    ]);
    rows.push(['  cores while delivering', cores(live.cores)]);
  }
  return rows;
}

function e2eRows(r) {
  const h = r.herald;
  const rows = [
    [
      `End to end (${int(r.settings.messages)} triggers → SMTP sink process, ${r.settings.templateBytes} B template)`,
      '',
    ],
    [
      '  Herald delivered/s (first 202 → last arrival)',
      `${int(h.deliveredPerSec)} msg/s · ${h.delivered}/${h.triggers} delivered in ${h.seconds} s`,
    ],
    ['  Herald 202 → delivered latency', `p50 ${int(h.latencyMs.p50)} ms · p99 ${int(h.latencyMs.p99)} ms`],
    [
      '  Herald accept rate during the run',
      `${int(h.acceptPerSec)} req/s · status ${JSON.stringify(h.statusCodes)} · duplicates ${h.duplicates}`,
    ],
    ['  cores (herald run)', `${cores(h.cores)} · herald ${h.heraldCpuMsPerMessage} ms CPU/message`],
  ];
  for (const c of r.ceilings) {
    rows.push([
      `  nodemailer alone, pool ${c.pool} (ceiling)`,
      `${int(c.perSec)} msg/s · ${c.inFlight} in flight · ${cores(c.cores)} · ${c.senderCpuMsPerMessage} ms CPU/message`,
    ]);
  }
  for (const pool of r.skippedPools)
    rows.push([`  nodemailer alone, pool ${pool}`, 'skipped: time budget (--pools 5,10 forces it)']);
  rows.push([`  ratio herald / ceiling (pool ${r.ratioAgainstPool})`, verdict(r.ratio, r.target)]);
  rows.push([
    '  same ratio in CPU per message',
    `${r.cpuRatio.toFixed(2)} (ceiling ms / herald ms; steadier under other load)`,
  ]);
  return rows;
}

async function main() {
  installExitHandlers();
  const options = readOptions();
  const budgetEndsAt = Date.now() + RUN_BUDGET_SECONDS * 1000;
  const machine = machineInfo();
  console.log(`Herald bench · ${machine.cpus} cores (${machine.cpuModel}) · node ${machine.node} · ${machine.date}`);

  const rows = [];
  const files = [];
  if (options.only !== 'e2e') {
    const ingest = await runIngest({ durationSec: options.durationSec, cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('ingest', ingest));
    rows.push(...ingestRows(ingest), ['', '']);
  }
  if (options.only !== 'ingest') {
    const e2e = await runE2e({
      messages: options.messages,
      // An explicit --pools runs every pool; otherwise pool 10 runs only if time allows.
      ...(options.pools ? { pools: options.pools } : { pools: [5], extraPools: [10], budgetEndsAt }),
      cpuProfileDir: options.cpuProfileDir,
    });
    files.push(writeResults('e2e', e2e));
    rows.push(...e2eRows(e2e));
  }
  if (rows.at(-1)?.[0] === '') rows.pop();
  printTable(rows);
  console.log(`written: ${files.map((file) => file.replace(process.cwd() + '/', '')).join(', ')}`);
  if (options.cpuProfileDir) console.log(`CPU profiles of the Herald children: ${options.cpuProfileDir}`);
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
