import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNodeChild } from './child-process.js';
import { createApiClient, expectStatus } from './http-client.js';
import { WORKFLOW, WORKFLOW_KEY } from './workload.js';

const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

/** A fresh API key in the format Herald accepts; pass one to several processes of one database. */
export const newApiKey = () => `hk_bench_${randomBytes(16).toString('hex')}`;

/** One secret key for every process of this bench run: split roles need the same one. */
const BENCH_SECRET_KEY = randomBytes(24).toString('hex');

/**
 * Starts `herald serve` (the built CLI) as a child process on 127.0.0.1 with a fresh temp data
 * dir (or `dataDir`, prepared by the bench; removed when Herald stops) and its own API key (or `apiKey`, to share one across processes of one PostgreSQL schema).
 * Inherited HERALD_* variables are dropped so the caller's shell cannot change what is measured;
 * `env` and `args` set what the bench wants.
 */
export async function startHerald({
  env = {},
  args = [],
  apiKey = newApiKey(),
  cpuProfileDir,
  name = 'herald',
  dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-')),
} = {}) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HERALD_')));
  const child = await startNodeChild({
    name,
    script: HERALD_BIN,
    nodeFlags: cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
    args: [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      '--bench-routes',
      'true',
      '--shutdown-timeout',
      '2s',
      ...args,
    ],
    env: { ...inherited, HERALD_API_KEY: apiKey, HERALD_SECRET_KEY: BENCH_SECRET_KEY, ...env },
    ready: /listening on (http:\/\/\S+)/,
    onStopped: () => rmSync(dataDir, { recursive: true, force: true }),
  });
  return {
    url: child.ready,
    apiKey,
    pid: child.pid,
    dataDir,
    output: child.output,
    /** True while the process runs; a bench checks it to tell a crash from slowness. */
    isRunning: child.isRunning,
    stop: child.stop,
  };
}

/** Saves the bench workflow (workload.js) on a running Herald. */
export async function createWorkflow(herald) {
  const api = createApiClient(herald.url, herald.apiKey);
  try {
    await expectStatus(api.request('PUT', `/v1/workflows/${WORKFLOW_KEY}`, WORKFLOW), 200, 'creating the workflow');
  } finally {
    api.close();
  }
}
