import { spawn } from 'node:child_process';
import { track } from './cleanup.js';

const START_TIMEOUT_MS = 15_000;
/** After SIGTERM, how long a child may take to close before it is killed. */
const STOP_GRACE_MS = 5_000;
const OUTPUT_KEPT = 20_000;

/**
 * Starts `node <script> …args` and waits until its output matches `ready` (a RegExp whose first
 * group is returned as `ready`). The child is registered with cleanup.js, so an error or Ctrl-C
 * stops it; `onStopped` runs after it has exited (removing a temp dir, say). With `ipc: true` the
 * child gets an IPC channel, which closes when this process dies, however it dies: children that
 * exit on 'disconnect' cannot outlive the bench.
 */
export async function startNodeChild({ name, script, args = [], env, nodeFlags = [], ready, ipc = false, onStopped }) {
  const stdio = ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { env, stdio });

  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const label = `${name} (pid ${child.pid})`;
  const stop = track(label, {
    async stop() {
      if (!hasExited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          console.error(`bench: ${label} still running ${STOP_GRACE_MS} ms after SIGTERM; killing it`);
          child.kill('SIGKILL');
        }, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      onStopped?.();
    },
    kill() {
      if (!hasExited) child.kill('SIGKILL');
      onStopped?.();
    },
  });

  try {
    const match = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      const onData = () => {
        const found = ready.exec(output);
        if (!found) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(found[1]);
      };
      child.stdout.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code}) before it was ready`));
      });
    });
    return {
      ready: match,
      pid: child.pid,
      output: () => output,
      /** True while the process runs; a bench checks it to tell a crash from slowness. */
      isRunning: () => !hasExited,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n--- ${name} output ---\n${output}`);
  }
}

/** Runs `start(i)` for i < count at once; if one fails, stops those that started and throws. */
export async function startAll(count, start) {
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => start(i)));
  const failed = started.find((result) => result.status === 'rejected');
  if (!failed) return started.map((result) => result.value);
  await Promise.all(started.filter((result) => result.status === 'fulfilled').map((result) => result.value.stop()));
  throw failed.reason;
}
