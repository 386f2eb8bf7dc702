import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';

const SINK_SCRIPT = fileURLToPath(new URL('../smtp-sink-process.js', import.meta.url));
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/**
 * Forks bench/smtp-sink-process.js (or another sink `script` that speaks the same IPC: the webhook
 * bench's HTTP sink) and returns a handle that talks to it over IPC.
 */
export async function startSinkProcess({ script = SINK_SCRIPT, name = 'smtp sink' } = {}) {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const stop = track(`${name} (pid ${child.pid})`, {
    async stop() {
      if (hasExited) return;
      child.disconnect(); // the sink closes its server and exits
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (!hasExited) child.kill('SIGKILL');
    },
  });

  const pending = new Map();
  let nextId = 0;
  let ready;
  const readyPromise = new Promise((resolve, reject) => {
    ready = resolve;
    setTimeout(() => reject(new Error(`the ${name} did not start in time`)), START_TIMEOUT_MS).unref();
    void exited.then((code) => reject(new Error(`the ${name} exited (${code})`)));
  });
  child.on('message', (message) => {
    if (message.ready) return ready(message.port);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });

  function ask(cmd, extra = {}) {
    if (hasExited) return Promise.reject(new Error(`the ${name} is not running`));
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      child.send({ ...extra, id, cmd });
    });
  }

  let port;
  try {
    port = await readyPromise;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    /** { messages, distinct, duplicates, withoutId, firstAt, lastAt } */
    stats: () => ask('stats'),
    /** Forgets what arrived; `settings` go to the sink (the webhook sink takes `{ secret }`). */
    reset: (settings) => ask('reset', settings),
    /** X-Herald-Message-Id → first arrival (wall-clock ms). */
    arrivals: async () => (await ask('arrivals')).arrivals,
    stop,
  };
}

/**
 * Waits until the sink has `count` distinct messages. Gives up when nothing new arrives for
 * `stallMs` or the whole wait exceeds `deadlineMs`; `check` may throw to stop early (a crash).
 */
export async function waitForDistinct(sink, count, { stallMs = 15_000, deadlineMs, check = () => {} }) {
  const startedAt = Date.now();
  let lastCount = -1;
  let lastProgressAt = startedAt;
  for (;;) {
    const stats = await sink.stats();
    if (stats.distinct >= count) return stats;
    const now = Date.now();
    if (stats.distinct !== lastCount) {
      lastCount = stats.distinct;
      lastProgressAt = now;
    }
    check();
    if (now - lastProgressAt > stallMs) {
      throw new Error(`the sink stalled at ${stats.distinct}/${count} messages for ${stallMs / 1000} s`);
    }
    if (now - startedAt > deadlineMs) {
      throw new Error(`the sink had ${stats.distinct}/${count} messages after ${deadlineMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
