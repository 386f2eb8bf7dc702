import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';

const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;
/** After SIGTERM, how long Herald may take to close before it is killed. */
const STOP_GRACE_MS = 5_000;
const OUTPUT_KEPT = 20_000;

/**
 * Starts `herald serve` (the built CLI) as a child process on 127.0.0.1 with a fresh temp data
 * dir and its own API key. Inherited HERALD_* variables are dropped so the caller's shell cannot
 * change what is measured; `env` and `args` set what the bench wants.
 */
export async function startHerald({ env = {}, args = [], cpuProfileDir } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const apiKey = `hk_bench_${randomBytes(16).toString('hex')}`;
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));
  const nodeFlags = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      HERALD_BIN,
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
    { env: { ...inherited, HERALD_API_KEY: apiKey, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );

  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  const stop = track(`herald (pid ${child.pid})`, {
    async stop() {
      if (!hasExited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          console.error(`bench: herald (pid ${child.pid}) still running ${STOP_GRACE_MS} ms after SIGTERM; killing it`);
          child.kill('SIGKILL');
        }, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      removeDataDir();
    },
    kill() {
      if (!hasExited) child.kill('SIGKILL');
      removeDataDir();
    },
  });

  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`herald did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      const onData = () => {
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (!match) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match[1]);
      };
      child.stdout.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`herald exited (${code}) before listening`));
      });
    });
    return {
      url,
      apiKey,
      pid: child.pid,
      dataDir,
      output: () => output,
      /** True while the process runs; a bench checks it to tell a crash from slowness. */
      isRunning: () => !hasExited,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n--- herald output ---\n${output}`);
  }
}
