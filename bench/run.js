/**
 * `npm run bench`: ingest, end to end, webhooks, the inbox stream, runaway templates, workflow runs,
 * then topic fan-out. Prints a table of the figures against their targets (or ceilings) and writes
 * bench/results/ingest.json, e2e.json, webhook.json, inbox.json, runaway.json, runs.json and
 * fanout.json.
 *
 *   node bench/run.js [--only ingest|e2e|webhook|inbox|runaway|runs|fanout] [--duration 10] [--messages 20000] [--pools 5,10] [--runaways 1000] [--members 100000] [--cpu-prof dir]
 *   node bench/run.js --database postgres://user@host:5432/db [--only …] [--duration 10] [--messages 5000]
 *
 * BENCH_DURATION, BENCH_MESSAGES and BENCH_DATABASE set the same as the flags. Without --pools, the
 * ceiling runs with pool 5 (Herald's default) and adds pool 10 only if the run stays within
 * RUN_BUDGET_SECONDS. --cpu-prof writes a .cpuprofile of every Herald child (and, on PostgreSQL,
 * every peer process) into dir (Chrome DevTools → Performance).
 *
 * With --database, the PostgreSQL benches run instead (pg-ingest.js, pg-e2e.js): Herald against a
 * pg-boss pipeline in the same run, written to bench/results/pg-ingest.json and pg-e2e.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installExitHandlers, stopAll } from './support/cleanup.js';
import { machineInfo } from './support/measure.js';
import { serverInfo } from './support/postgres.js';
import { runE2e } from './e2e.js';
import { runIngest } from './ingest.js';
import { runPgE2e } from './pg-e2e.js';
import { runPgIngest } from './pg-ingest.js';
import { runInbox } from './inbox.js';
import { runFanout } from './fanout.js';
import {
  e2eRows,
  fanoutRows,
  inboxRows,
  ingestRows,
  pgE2eRows,
  pgIngestRows,
  printTable,
  runawayRows,
  webhookRows,
} from './report.js';
import { runRunaway } from './runaway.js';
import { runRuns } from './runs.js';
import { runWebhook } from './webhook.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
/** A full run should take about three minutes; optional extra measurements give way to this. */
const RUN_BUDGET_SECONDS = 180;
/**
 * Triggers per end-to-end run. On PostgreSQL, six runs (Herald and the peer with 1, 2 and 4
 * workers) share the two cores with the server: fewer messages keep the whole bench near three minutes.
 */
const DEFAULT_MESSAGES = { sqlite: 20_000, postgres: 5_000 };
/** PostgreSQL connections a run may open at once: 5 processes × a pool of 10, listeners, the bench. */
const CONNECTIONS_NEEDED = 60;

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
      messages: { type: 'string', default: process.env.BENCH_MESSAGES },
      database: { type: 'string', default: process.env.BENCH_DATABASE },
      pools: { type: 'string' },
      runaways: { type: 'string', default: '1000' },
      members: { type: 'string', default: '100000' },
      'cpu-prof': { type: 'string' },
    },
  });
  const benches = ['ingest', 'e2e', 'webhook', 'inbox', 'runaway', 'runs', 'fanout'];
  if (values.only !== undefined && !benches.includes(values.only)) {
    throw new Error(`--only must be ingest, e2e, webhook, inbox, runaway, runs or fanout, got ${values.only}`);
  }
  const database = values.database || undefined;
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database)) {
    throw new Error(`--database must be a postgres:// URL, got ${database}`);
  }
  if (database !== undefined && new URL(database).searchParams.has('schema')) {
    throw new Error('--database takes no ?schema=: every run creates its own schema and drops it');
  }
  if (database !== undefined && values.pools !== undefined) throw new Error('--pools is for the SQLite bench only');
  if (database !== undefined && ['webhook', 'inbox', 'runaway', 'runs', 'fanout'].includes(values.only))
    throw new Error(`the ${values.only} bench runs on SQLite only`);
  const messages = values.messages ?? String(DEFAULT_MESSAGES[database ? 'postgres' : 'sqlite']);
  return {
    only: values.only,
    database,
    durationSec: positiveNumber(values.duration, 'duration'),
    messages: Math.round(positiveNumber(messages, 'messages')),
    pools: values.pools?.split(',').map((pool) => Math.round(positiveNumber(pool, 'pools'))),
    runaways: Math.round(positiveNumber(values.runaways, 'runaways')),
    members: Math.round(positiveNumber(values.members, 'members')),
    cpuProfileDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
  };
}

function writeResults(name, results) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}.json`;
  writeFileSync(file, JSON.stringify({ name, machine: machineInfo(), ...results }, null, 2) + '\n');
  return file;
}

/** The PostgreSQL benches: Herald against the pg-boss peer. Returns the table rows and files written. */
async function runPostgres(options) {
  const databaseUrl = options.database;
  const server = await serverInfo(databaseUrl);
  console.log(
    `PostgreSQL ${server.version} · synchronous_commit=${server.synchronous_commit} · fsync=${server.fsync} · ` +
      `${server.connections_in_use}/${server.max_connections} connections in use`,
  );
  if (server.synchronous_commit !== 'on' || server.fsync !== 'on')
    console.log(
      '  warning: commits are not durable on this server; the figures do not compare with synchronous_commit=on',
    );
  if (server.max_connections - server.connections_in_use < CONNECTIONS_NEEDED)
    console.log(`  warning: a run opens up to ${CONNECTIONS_NEEDED} connections; the server may refuse some`);

  const rows = [];
  const files = [];
  const postgres = { ...server, url: describeUrl(databaseUrl) };
  if (options.only !== 'e2e') {
    const ingest = await runPgIngest({
      databaseUrl,
      durationSec: options.durationSec,
      cpuProfileDir: options.cpuProfileDir,
    });
    files.push(writeResults('pg-ingest', { postgres, ...ingest }));
    rows.push(...pgIngestRows(ingest, server), ['', '']);
  }
  if (options.only !== 'ingest') {
    const e2e = await runPgE2e({ databaseUrl, messages: options.messages, cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('pg-e2e', { postgres, ...e2e }));
    rows.push(...pgE2eRows(e2e, server));
  }
  return { rows, files };
}

/** The URL without its password, for the results files. */
function describeUrl(databaseUrl) {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

/** The SQLite benches: Herald against its ceilings. Returns the table rows and files written. */
async function runSqlite(options) {
  const budgetEndsAt = Date.now() + RUN_BUDGET_SECONDS * 1000;
  const rows = [];
  const files = [];
  const runs = (bench) => options.only === undefined || options.only === bench;
  if (runs('ingest')) {
    const ingest = await runIngest({ durationSec: options.durationSec, cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('ingest', ingest));
    rows.push(...ingestRows(ingest), ['', '']);
  }
  if (runs('e2e')) {
    const e2e = await runE2e({
      messages: options.messages,
      // An explicit --pools runs every pool; otherwise pool 10 runs only if time allows.
      ...(options.pools ? { pools: options.pools } : { pools: [5], extraPools: [10], budgetEndsAt }),
      cpuProfileDir: options.cpuProfileDir,
    });
    files.push(writeResults('e2e', e2e));
    rows.push(...e2eRows(e2e), ['', '']);
  }
  if (runs('webhook')) {
    const webhook = await runWebhook({ messages: options.messages, cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('webhook', webhook));
    rows.push(...webhookRows(webhook), ['', '']);
  }
  if (runs('inbox')) {
    const inbox = await runInbox({ cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('inbox', inbox));
    rows.push(...inboxRows(inbox), ['', '']);
  }
  if (runs('runaway')) {
    const runaway = await runRunaway({ renders: options.runaways, cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('runaway', runaway));
    rows.push(...runawayRows(runaway), ['', '']);
  }
  if (runs('runs')) {
    const result = await runRuns({ cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('runs', result));
    rows.push(
      [
        `Workflow runs (${result.settings.recipients} recipients: in-app, delay ${result.settings.delay}, email if unread)`,
        '',
      ],
      ['  runs per second (first trigger to last email)', `${result.runsPerSecond} (${result.seconds} s)`],
      ['  Herald CPU per run', `${result.heraldCpuMsPerRun} ms`],
      ['', ''],
    );
  }
  if (runs('fanout')) {
    const fanout = await runFanout({ members: options.members, cpuProfileDir: options.cpuProfileDir });
    files.push(writeResults('fanout', fanout));
    rows.push(...fanoutRows(fanout));
  }
  return { rows, files };
}

async function main() {
  installExitHandlers();
  const options = readOptions();
  const machine = machineInfo();
  console.log(`Herald bench · ${machine.cpus} cores (${machine.cpuModel}) · node ${machine.node} · ${machine.date}`);
  const { rows, files } = options.database ? await runPostgres(options) : await runSqlite(options);
  if (rows.at(-1)?.[0] === '') rows.pop();
  printTable(rows);
  console.log(`written: ${files.map((file) => file.replace(process.cwd() + '/', '')).join(', ')}`);
  if (options.cpuProfileDir) console.log(`CPU profiles of the children: ${options.cpuProfileDir}`);
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
