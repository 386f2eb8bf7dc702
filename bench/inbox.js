/**
 * The inbox stream: 1,000 subscribers hold a Server-Sent Events stream each on one `herald serve`
 * (SQLite, defaults); one trigger of the in-app workflow to all of them per round. It measures,
 * for every (round, subscriber), the time from the trigger's 202 to that subscriber's
 * `item.created`, and what an open, idle stream costs in memory. The ceiling, in the same run, is
 * bench/inbox-ceiling-process.js: plain `node:http` writing one frame to every open stream on
 * POST /publish, with nothing durable.
 *
 * The subscribers are bench/inbox-clients-process.js, a process of their own (one TCP connection
 * per stream), measuring Herald and the ceiling alike; it sends each round's request itself, so
 * the answer and the events are stamped on one clock. Memory is read after a full garbage
 * collection, forced through the inspector (`--inspect=127.0.0.1:0`, on Herald and on the
 * ceiling): RSS from /proc/<pid>/status and V8's heap in use.
 */
import { fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'undici';
import { track } from './support/cleanup.js';
import { startNodeChild } from './support/child-process.js';
import { startHerald } from './support/herald-process.js';
import { createApiClient, expectStatus } from './support/http-client.js';
import { cpuMeter, idleOrWarn, percentile, round } from './support/measure.js';

const SUBSCRIBERS = 1_000;
/** Measured rounds; each is one trigger (or publish) to every subscriber, the next after it completed. */
const ROUNDS = 20;
/**
 * One round before the measured ones, checked but not counted: it compiles the paths a round
 * takes. Counted, its 1,000 samples would be 5 % of the total
 * and set the p99 on their own.
 */
const WARMUP_ROUNDS = 1;
/** A pause after each round, so the tail of one (the log, GC) does not run into the next. */
const ROUND_GAP_MS = 250;
/** A round that has not reached every stream by then has lost events. */
const ROUND_DEADLINE_MS = 20_000;
/** Streams opened at once: fast, but short of the server's listen backlog (511). */
const OPEN_CONCURRENCY = 50;
/** Streams opened and closed before the baseline, so it includes the code and caches a stream needs. */
const WARMUP_STREAMS = 20;
/** Quiet time before a measurement of memory, for the work of the last step to finish. */
const SETTLE_MS = 1_000;
const WORKFLOW_KEY = 'bench-inbox';
const CLIENTS_SCRIPT = fileURLToPath(new URL('./inbox-clients-process.js', import.meta.url));
const CEILING_SCRIPT = fileURLToPath(new URL('./inbox-ceiling-process.js', import.meta.url));
const INSPECT_FLAG = '--inspect=127.0.0.1:0';

const DATA = { orderId: 'A-10423', items: 3, eta: 'Tuesday' };
const TITLE = `Order ${DATA.orderId} has shipped`;
const BODY = `Your order ${DATA.orderId} is on its way: ${DATA.items} items, arriving ${DATA.eta}.`;
const WORKFLOW = {
  name: 'Bench: inbox',
  steps: [
    {
      type: 'in_app',
      title: 'Order {{ data.orderId }} has shipped',
      body: 'Your order {{ data.orderId }} is on its way: {{ data.items }} items, arriving {{ data.eta }}.',
      // The clients tell rounds apart by this; exactly `{{ path }}` keeps the number a number.
      data: { round: '{{ data.round }}' },
    },
  ],
};

const subscriberId = (i) => `inbox-${String(i).padStart(8, '0')}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Forks the clients process; `ask(cmd, fields)` sends it a command and resolves with its answer. */
async function startClients() {
  const child = fork(CLIENTS_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const stop = track(`inbox clients (pid ${child.pid})`, {
    async stop() {
      if (hasExited) return;
      child.disconnect(); // the process closes its streams and exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (!hasExited) child.kill('SIGKILL');
    },
  });
  const pending = new Map();
  let nextId = 0;
  const ready = new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('the inbox clients process did not start in time')), 10_000).unref();
    void exited.then((code) => reject(new Error(`the inbox clients process exited (${code})`)));
    child.on('message', (message) => {
      if (message.ready) return resolve();
      const settle = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) settle?.reject(new Error(`inbox clients: ${message.error}`));
      else settle?.resolve(message);
    });
  });
  void exited.then((code) => {
    for (const settle of pending.values()) settle.reject(new Error(`the inbox clients process exited (${code})`));
    pending.clear();
  });
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pid: child.pid,
    ask(cmd, fields = {}) {
      if (hasExited) return Promise.reject(new Error('the inbox clients process is not running'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...fields, id, cmd });
      });
    },
    stop,
  };
}

/** The inspector's WebSocket URL, from the output of a process started with INSPECT_FLAG. */
function inspectorUrl(output) {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`no inspector URL in the output:\n${output}`);
  return url;
}

/** A full garbage collection in the process behind `url` (twice: the first may leave finalised objects). */
async function collectGarbage(url) {
  const socket = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`could not reach the inspector at ${url}`));
    });
    for (let id = 1; id <= 2; id++) {
      const answered = new Promise((resolve) => {
        socket.onmessage = (event) => {
          if (JSON.parse(String(event.data)).id === id) resolve();
        };
      });
      socket.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      await answered;
    }
  } finally {
    socket.close();
  }
}

/** Resident memory of a process as the kernel counts it, in bytes. */
function vmRssBytes(pid) {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

const metric = (text, name) => {
  const value = new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1];
  return value === undefined ? null : Number(value);
};

/** Bytes per connection between two memory readings, for each figure both have. */
function perConnection(before, after, connections) {
  const each = (key) =>
    before[key] === null || after[key] === null ? null : round((after[key] - before[key]) / connections);
  return { vmRss: each('vmRss'), rss: each('rss'), heapUsed: each('heapUsed') };
}

/** Latency figures of a list of milliseconds. */
function latencyFigures(values) {
  const sorted = Float64Array.from(values).sort();
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    min: round(sorted[0], 2),
    p50: round(percentile(sorted, 50), 2),
    p90: round(percentile(sorted, 90), 2),
    p99: round(percentile(sorted, 99), 2),
    max: round(sorted[sorted.length - 1], 2),
    mean: round(sum / sorted.length, 2),
  };
}

/**
 * One side of the comparison, given `target`: { name, pid, origin, inspector, streamPath(id),
 * request(round), memory() }. Opens the streams from `clients`, reads memory idle, runs the rounds.
 */
async function measure({ target, clients, log }) {
  const memory = async () => {
    await sleep(SETTLE_MS);
    await collectGarbage(target.inspector);
    return { vmRss: vmRssBytes(target.pid), ...(await target.memory()) };
  };
  const paths = (prefix, count) => Array.from({ length: count }, (_, i) => target.streamPath(`${prefix}${i}`));

  // Warm the stream path (code, caches) so the baseline does not charge them to the connections.
  await clients.ask('open', { origin: target.origin, paths: paths('warm-', WARMUP_STREAMS), concurrency: 10 });
  await clients.ask('close');
  const baseline = await memory();

  const opened = await clients.ask('open', {
    origin: target.origin,
    paths: Array.from({ length: SUBSCRIBERS }, (_, i) => target.streamPath(subscriberId(i))),
    concurrency: OPEN_CONCURRENCY,
  });
  const idle = await memory();
  log(`  ${opened.opened} streams open in ${opened.ms} ms; memory read with 0 and ${SUBSCRIBERS} idle streams`);

  const runRound = async (number) => {
    const result = await clients.ask('round', {
      round: number,
      request: target.request(number),
      deadlineMs: ROUND_DEADLINE_MS,
    });
    if (!result.completed) {
      throw new Error(
        `${target.name}: round ${number} reached ${result.received}/${SUBSCRIBERS} streams within ${ROUND_DEADLINE_MS / 1000} s`,
      );
    }
    await sleep(ROUND_GAP_MS);
    return result;
  };
  for (let r = 1 - WARMUP_ROUNDS; r <= 0; r++) await runRound(r); // rounds 0, -1, …: not counted

  const machine = await idleOrWarn(log);
  const meter = cpuMeter({ [target.name]: target.pid, clients: clients.pid });
  const latencies = [];
  const roundComplete = [];
  const answers = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const result = await runRound(r);
    latencies.push(...result.latencies);
    roundComplete.push(Math.max(...result.latencies));
    answers.push(result.answerMs);
  }
  const { cores, cpuSeconds } = meter();
  const afterRounds = await memory();
  const seen = await clients.ask('check');
  await clients.ask('close');
  if (seen.notOpen > 0 || seen.errorCount > 0) {
    throw new Error(`${target.name}: ${seen.notOpen} streams not open, ${seen.errorCount} errors: ${seen.errors}`);
  }

  return {
    latencyMs: latencyFigures(latencies),
    // From the answer to the last subscriber's event: how long the whole fan-out of a round took.
    roundCompleteMs: latencyFigures(roundComplete),
    // The request itself, sent → answered: for Herald, accepting and committing 1,000 messages.
    answerMs: latencyFigures(answers),
    delivered: latencies.length,
    expected: SUBSCRIBERS * ROUNDS,
    duplicates: seen.duplicates,
    gaps: seen.gaps,
    strays: seen.strays + seen.unparsable,
    eventBytes: round(seen.eventBytes / seen.events),
    openMs: opened.ms,
    memory: {
      baseline,
      idle,
      afterRounds,
      perConnection: perConnection(baseline, idle, SUBSCRIBERS),
    },
    cores,
    cpuMsPerRound: round((cpuSeconds[target.name] * 1000) / ROUNDS, 1),
    clientsCpuMsPerRound: round((cpuSeconds.clients * 1000) / ROUNDS, 1),
    machineBeforeRun: machine,
  };
}

async function runHerald({ clients, cpuProfileDir, log }) {
  const herald = await startHerald({
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${INSPECT_FLAG}`.trim() },
    cpuProfileDir,
  });
  const api = createApiClient(herald.url, herald.apiKey, { maxSockets: 2 });
  try {
    await expectStatus(api.request('PUT', `/v1/workflows/${WORKFLOW_KEY}`, WORKFLOW), 200, 'creating the workflow');
    const { secret } = await expectStatus(api.request('GET', '/v1/inbox/settings'), 200, 'reading the inbox secret');
    const to = Array.from({ length: SUBSCRIBERS }, (_, i) => subscriberId(i));
    // A bare id in `to` must name a subscriber: create them first, one PUT each.
    for (const id of to) await expectStatus(api.request('PUT', `/v1/subscribers/${id}`, {}), 200, `creating ${id}`);
    const target = {
      name: 'herald',
      pid: herald.pid,
      origin: herald.url,
      inspector: inspectorUrl(herald.output()),
      streamPath: (id) =>
        `/v1/inbox/stream?subscriberId=${id}&subscriberHash=${createHmac('sha256', secret).update(id).digest('hex')}`,
      request: (number) => ({
        path: `/v1/workflows/${WORKFLOW_KEY}/trigger`,
        headers: { authorization: `Bearer ${herald.apiKey}` },
        body: JSON.stringify({ to, data: { ...DATA, round: number } }),
        status: 202,
      }),
      async memory() {
        const { text } = await api.request('GET', '/metrics');
        return {
          rss: metric(text, 'process_resident_memory_bytes'),
          heapUsed: metric(text, 'nodejs_heap_size_used_bytes'),
        };
      },
    };
    return await measure({ target, clients, log });
  } catch (error) {
    if (!herald.isRunning())
      throw new Error(`herald exited during the inbox bench (${error.message}):\n${herald.output()}`);
    throw error;
  } finally {
    api.close();
    await herald.stop();
  }
}

async function runCeiling({ clients, log }) {
  const ceiling = await startNodeChild({
    name: 'inbox ceiling',
    script: CEILING_SCRIPT,
    nodeFlags: [INSPECT_FLAG],
    env: process.env,
    ready: /listening on (http:\/\/\S+)/,
  });
  const api = createApiClient(ceiling.ready, 'none', { maxSockets: 1 });
  try {
    const target = {
      name: 'ceiling',
      pid: ceiling.pid,
      origin: ceiling.ready,
      inspector: inspectorUrl(ceiling.output()),
      streamPath: (id) => `/stream?subscriberId=${id}`,
      request: (number) => ({
        path: '/publish',
        headers: {},
        body: JSON.stringify({ round: number, title: TITLE, body: BODY }),
        status: 200,
      }),
      async memory() {
        const { body } = await api.request('GET', '/memory');
        return { rss: body.rss, heapUsed: body.heapUsed };
      },
    };
    return await measure({ target, clients, log });
  } finally {
    api.close();
    await ceiling.stop();
  }
}

export async function runInbox({ cpuProfileDir, log = console.log } = {}) {
  const startedAt = Date.now();
  const clients = await startClients();
  try {
    log(
      `inbox: herald serve (SQLite), ${SUBSCRIBERS} SSE streams from a clients process, ${ROUNDS} rounds of one in-app trigger to all`,
    );
    const herald = await runHerald({ clients, cpuProfileDir, log });
    log(
      `  herald   p50 ${herald.latencyMs.p50} ms, p99 ${herald.latencyMs.p99} ms, ${herald.memory.perConnection.vmRss} B RSS/connection`,
    );
    log(`inbox: ceiling, node:http writing one frame to each of ${SUBSCRIBERS} streams per publish`);
    const ceiling = await runCeiling({ clients, log });
    log(
      `  ceiling  p50 ${ceiling.latencyMs.p50} ms, p99 ${ceiling.latencyMs.p99} ms, ${ceiling.memory.perConnection.vmRss} B RSS/connection`,
    );
    log(`inbox: ${round((Date.now() - startedAt) / 1000)} s in all`);
    const ratio = (a, b) => (a === null || b === null || b === 0 ? null : round(a / b, 2));
    return {
      settings: {
        subscribers: SUBSCRIBERS,
        rounds: ROUNDS,
        warmupRounds: WARMUP_ROUNDS,
        roundGapMs: ROUND_GAP_MS,
        heraldConcurrency: 32, // herald serve's default --concurrency
        workflow: WORKFLOW,
      },
      herald,
      ceiling,
      // Herald over the ceiling: how many times the ceiling's latency or memory Herald takes.
      ratios: {
        p50: ratio(herald.latencyMs.p50, ceiling.latencyMs.p50),
        p99: ratio(herald.latencyMs.p99, ceiling.latencyMs.p99),
        rssPerConnection: ratio(herald.memory.perConnection.vmRss, ceiling.memory.perConnection.vmRss),
        heapPerConnection: ratio(herald.memory.perConnection.heapUsed, ceiling.memory.perConnection.heapUsed),
      },
      clean: [herald, ceiling].every(
        (side) => side.delivered === side.expected && side.duplicates === 0 && side.gaps === 0 && side.strays === 0,
      ),
    };
  } finally {
    await clients.stop();
  }
}
