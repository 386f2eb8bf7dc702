import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RenderRequest } from '../core/deliver-job.js';
import type { RenderOutcome } from '../core/templates.js';
import { createInPlaceRenderer } from './render-in-place.js';
import { cpuMsBetween, threadCpuMs } from './thread-cpu.js';
import {
  PROGRESS_CPU,
  PROGRESS_INDEX,
  PROGRESS_LENGTH,
  PROGRESS_STARTED,
  type RenderBatch,
  type RenderThreadMessage,
  type RenderThreadSetup,
  type ThreadResult,
  give,
} from './render-protocol.js';

export interface RenderPoolOptions {
  /** Render threads kept running. */
  threads: number;
  /**
   * Liquid's own (cooperative) time limit per render. A render that does not stop by itself is
   * ended with its thread at `hardLimitMs(timeoutMs)`.
   */
  timeoutMs: number;
  /** Renders sent to a thread in one message at most. */
  maxBatch?: number;
  /** Compiled workflow versions kept per thread (and in place); default VERSIONS_PER_THREAD. */
  versionsPerThread?: number;
  /** The language and time zone of subscribers without a usable one; default `en` and UTC. */
  defaultLocale?: string;
  defaultTimeZone?: string;
  logger: Logger;
  /** A render ran past a limit: Liquid's time limit (`limit`), the hard one (`stopped`), or memory (`memory`). */
  onOverrun?(how: 'limit' | 'stopped' | 'memory'): void;
}

export interface RenderPoolStats {
  /** Threads started and not ended. */
  threads: number;
  /** Renders waiting for a thread. */
  queued: number;
  /** When the longest-running render now under way started (epoch ms), or undefined. */
  oldestStartedAt: number | undefined;
}

export interface RenderPool {
  render(request: RenderRequest): Promise<RenderOutcome>;
  stats(): RenderPoolStats;
  /** Ends every thread; renders not finished are rejected. */
  close(): Promise<void>;
}

/**
 * When a render that has not stopped at Liquid's limit is stopped by ending its thread: after
 * twice the limit (at least 100 ms more) of CPU time where the thread's CPU time is known, else
 * of wall-clock time. Liquid's check is wall-clock, so on a busy machine the thread may not run at
 * the moment it would fire; the margin saves a thread restart (≈ 150 ms of CPU).
 */
export function hardLimitMs(timeoutMs: number): number {
  return timeoutMs + Math.max(100, timeoutMs);
}

/** However starved its thread, a render is stopped after this many times the hard limit. */
const WALL_CAP_FACTOR = 10;

/** Renders per message: enough to spread a claim batch over the threads in one message each. */
const MAX_BATCH = 32;
/** Compiled workflow versions per thread; the pool tells a thread which to forget. */
const VERSIONS_PER_THREAD = 500;
/** Environments' template assets (per revision) per thread, with the steps compiled from them. */
const ASSETS_PER_THREAD = 16;
/** Steps that overran recently, remembered at most. */
const SUSPECTS = 1_000;

interface Pending {
  request: RenderRequest;
  /** The workflow version's step: what "suspect" is about. */
  step: string;
  resolve(outcome: RenderOutcome): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  /** The thread's kernel id, for its CPU time; undefined where unknown (limits stay wall-clock). */
  tid?: number;
  ended: boolean;
  progress: Int32Array;
  /** Versions this thread was given, least recently used first. */
  versions: Set<string>;
  /** Template assets (by id) this thread was given, least recently used first. */
  assets: Set<string>;
  batch?: { id: number; sentAt: number; items: Pending[]; suspect: boolean };
  watchdog?: NodeJS.Timeout;
}

/** The thread's script; when running from TypeScript sources (tests), its compiled copy in dist/. */
function threadScript(): URL {
  const here = new URL('./render-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL(here.href.replace('/src/worker/', '/dist/worker/'));
}

/**
 * Renders templates in worker threads, so a template that runs away holds a thread, never the
 * event loop that serves the API and drives every other delivery.
 *
 * - A step whose templates are only text and value outputs renders in place (render-in-place.ts).
 * - Renders requested in one turn of the event loop (a claim batch) go out as one message per
 *   thread; a thread compiles each workflow version once and keeps it.
 * - Each render has a hard limit. Liquid's own limit stops most runaways inside the thread; one
 *   that ignores it (a single filter over a huge range) is ended with its thread, which is
 *   replaced. The other renders of that batch are queued again, not lost.
 * - A workflow step that overran is suspect until one of its renders finishes in time: its renders
 *   go one per message, and with two threads or more they may occupy all threads but one, so
 *   renders of other workflows always find a thread within one normal render.
 */
export function createRenderPool(options: RenderPoolOptions): RenderPool {
  const { logger, timeoutMs } = options;
  const size = Math.max(1, options.threads);
  const maxBatch = Math.max(1, options.maxBatch ?? MAX_BATCH);
  const hardMs = hardLimitMs(timeoutMs);
  const suspectThreads = Math.max(1, size - 1);
  const versionsKept = Math.max(1, options.versionsPerThread ?? VERSIONS_PER_THREAD);
  const renderInPlace = createInPlaceRenderer(timeoutMs, versionsKept);
  const threads: Thread[] = [];
  const queue: Pending[] = [];
  const suspectQueue: Pending[] = [];
  /** Steps that overran and have not rendered in time since, in the order they last overran. */
  const suspects = new Set<string>();
  let nextBatchId = 0;
  let pumpQueued = false;
  let pumpSoonQueued = false;
  let closed = false;
  /** A thread was ever started: the pool keeps `size` of them from then on. */
  let started = false;
  /** Threads that died before they were ready, in a row: the script itself is broken. */
  let failedStarts = 0;
  let restartAt = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const suspect = (step: string, yes: boolean) => {
    suspects.delete(step);
    if (!yes) return;
    suspects.add(step);
    if (suspects.size > SUSPECTS) suspects.delete(suspects.values().next().value!);
  };

  const enqueue = (pending: Pending, front = false) => {
    const lane = suspects.has(pending.step) ? suspectQueue : queue;
    if (front) lane.unshift(pending);
    else lane.push(pending);
  };

  function start(): void {
    started = true;
    const progress = new Int32Array(new SharedArrayBuffer(PROGRESS_LENGTH * Int32Array.BYTES_PER_ELEMENT));
    const setup: RenderThreadSetup = {
      renderLimitMs: timeoutMs,
      progress: progress.buffer as SharedArrayBuffer,
      defaultLocale: options.defaultLocale ?? 'en',
      defaultTimeZone: options.defaultTimeZone ?? 'UTC',
    };
    // No resourceLimits: a thread reaching a heap cap of its own can abort the whole process
    // (V8's last-resort allocation failure, seen with a 256 MB cap and `group_by_exp` over
    // 3 M items). A render's memory is bounded by Liquid's memoryLimit and by its time limit.
    const worker = new Worker(threadScript(), { workerData: setup });
    // The pool is closed explicitly; an idle render thread must not keep the process alive.
    worker.unref();
    const thread: Thread = { worker, ready: false, ended: false, progress, versions: new Set(), assets: new Set() };
    threads.push(thread);
    worker.on('message', (message: RenderThreadMessage) => {
      if ('ready' in message) {
        thread.ready = true;
        thread.tid = message.tid ?? undefined;
        failedStarts = 0;
        pump();
      } else finish(thread, message);
    });
    worker.on('error', (error) => died(thread, error));
    worker.on('exit', (code) => died(thread, new Error(`the render thread exited (${code})`)));
  }

  /** Ends a thread (already taken out of service) without waiting for it. */
  function end(thread: Thread): void {
    thread.ended = true;
    clearTimeout(thread.watchdog);
    const at = threads.indexOf(thread);
    if (at >= 0) threads.splice(at, 1);
    void thread.worker.terminate().catch(() => undefined);
  }

  /** Settles the batch's renders from `index` on: `outcome` for that one, the rest queued again. */
  function abandon(thread: Thread, index: number, outcome: ThreadResult): void {
    const batch = thread.batch;
    thread.batch = undefined;
    if (!batch) return;
    const culprit = batch.items[index];
    if (culprit && outcome.status === 'overran') suspect(culprit.step, true);
    const others = batch.items.filter((item) => item !== culprit);
    // Queued again in front, in their order: they were due before anything queued since.
    for (let i = others.length - 1; i >= 0; i--) enqueue(others[i]!, true);
    culprit?.resolve(outcome);
  }

  function finish(thread: Thread, reply: { id: number; results: ThreadResult[] }): void {
    const batch = thread.batch;
    if (!batch || batch.id !== reply.id) return;
    clearTimeout(thread.watchdog);
    thread.batch = undefined;
    reply.results.forEach((result, i) => {
      const pending = batch.items[i]!;
      if (result.status === 'overran') options.onOverrun?.(/memory/.test(result.reason) ? 'memory' : 'limit');
      suspect(pending.step, result.status === 'overran');
      pending.resolve(result);
    });
    // The thread stopped at an overrun: the rest go back, now behind the suspect step's lane rules.
    for (let i = batch.items.length - 1; i >= reply.results.length; i--) enqueue(batch.items[i]!, true);
    pumpSoon();
  }

  function died(thread: Thread, error: Error): void {
    if (thread.ended) return; // ended on purpose
    const busy = thread.batch;
    end(thread);
    if (!thread.ready) {
      failedStarts++;
      // Back off so a broken install does not spin, and fail what waits: nothing can render.
      restartAt = Date.now() + Math.min(30_000, 250 * 2 ** failedStarts);
      logger.error({ err: error }, 'a render thread failed to start');
      if (threads.length === 0) rejectAll(new Error(`rendering is unavailable: ${error.message}`));
    } else if (busy) {
      const index = Math.max(0, Atomics.load(thread.progress, PROGRESS_INDEX));
      const outOfMemory = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      if (outOfMemory) options.onOverrun?.('memory');
      else logger.error({ err: error }, 'a render thread died while rendering; it is replaced');
      abandon(
        thread,
        index,
        outOfMemory
          ? { status: 'overran', reason: 'render memory limit exceeded: the render thread ran out of memory' }
          : { status: 'failed', reason: `the render thread died: ${error.message}` },
      );
    }
    pumpSoon();
  }

  /** Runs when a batch is due to be over: ends the thread if its current render passed the limit. */
  function watch(thread: Thread): void {
    const batch = thread.batch;
    if (!batch || thread.ended) return;
    const again = (inMs: number) => {
      thread.watchdog = setTimeout(() => watch(thread), Math.max(1, inMs));
      thread.watchdog.unref();
    };
    const index = Atomics.load(thread.progress, PROGRESS_INDEX);
    const cpuAtStart = Atomics.load(thread.progress, PROGRESS_CPU);
    const startedAt = index < 0 ? batch.sentAt : batch.sentAt + Atomics.load(thread.progress, PROGRESS_STARTED);
    const elapsed = Date.now() - startedAt;
    if (index < 0 || elapsed < hardMs) return again(hardMs - Math.max(0, elapsed));
    // Past the limit in wall-clock time. A thread that waited for a CPU has not run away: count
    // its CPU time instead, up to a cap on the wall-clock time.
    const cpuNow = thread.tid === undefined ? undefined : threadCpuMs(thread.tid);
    const used = cpuNow === undefined ? undefined : cpuMsBetween(cpuAtStart, cpuNow);
    if (used !== undefined && used < hardMs && elapsed < hardMs * WALL_CAP_FACTOR) return again(hardMs - used);
    logger.warn(
      { elapsedMs: elapsed, cpuMs: used, limitMs: timeoutMs },
      'a render ran past the hard limit; ending its thread',
    );
    options.onOverrun?.('stopped');
    end(thread);
    const spent = used === undefined ? `${elapsed} ms` : `${elapsed} ms, ${Math.round(used)} ms of CPU`;
    abandon(thread, index, {
      status: 'overran',
      reason: `render time limit exceeded: stopped after ${spent} (its render thread was ended)`,
    });
    pumpSoon();
  }

  /**
   * Pumps once the outcomes just settled have been recorded: the runaway guard learns of an
   * overrun in the promise reactions that follow, and the next pump should know of it.
   */
  function pumpSoon(): void {
    if (pumpSoonQueued) return;
    pumpSoonQueued = true;
    setImmediate(() => {
      pumpSoonQueued = false;
      pump();
    });
  }

  function send(thread: Thread, items: Pending[], isSuspect: boolean): void {
    const requests = items.map(({ request }) => request);
    const versions = give(
      thread.versions,
      requests.map((request) => request.workflow.versionId),
      versionsKept,
    );
    const withAssets = requests.flatMap((request) => (request.assets ? [request.assets] : []));
    const assets = give(
      thread.assets,
      withAssets.map(({ id }) => id),
      ASSETS_PER_THREAD,
    );
    const stepsOf = new Map(requests.map(({ workflow }) => [workflow.versionId, workflow.steps]));
    const assetsOf = new Map(withAssets.map(({ id, assets }) => [id, assets]));
    const batch: RenderBatch = {
      id: nextBatchId++,
      sentAt: Date.now(),
      versions: versions.fresh.map((versionId) => [versionId, stepsOf.get(versionId)!]),
      forget: versions.forget,
      assets: assets.fresh.map((id) => [id, assetsOf.get(id)!]),
      forgetAssets: assets.forget,
      items: requests.map((request) => ({
        versionId: request.workflow.versionId,
        stepIndex: request.stepIndex,
        context: request.context,
        ...(request.assets && { assetsId: request.assets.id }),
      })),
    };
    Atomics.store(thread.progress, PROGRESS_INDEX, -1);
    thread.batch = { id: batch.id, sentAt: batch.sentAt, items, suspect: isSuspect };
    thread.worker.postMessage(batch);
    thread.watchdog = setTimeout(() => watch(thread), hardMs);
    thread.watchdog.unref();
  }

  /** Settles the queued renders that are refused now, wherever they wait (no thread needed). */
  function sweep(lane: Pending[]): void {
    let kept = 0;
    for (const pending of lane) {
      const refusal = pending.request.refusal();
      if (refusal === undefined) lane[kept++] = pending;
      else pending.resolve({ status: 'refused', reason: refusal });
    }
    lane.length = kept;
  }

  function pump(): void {
    if (closed) return;
    // A runaway's queued siblings are refused at once, not when a thread comes free: they hold
    // delivery slots while they wait. The lanes are as long as the worker's concurrency at most.
    sweep(queue);
    sweep(suspectQueue);
    const waiting = queue.length + suspectQueue.length;
    // Threads start with the first render that needs one; from then on, ended ones are replaced.
    if ((waiting > 0 || started) && threads.length < size) {
      const wait = restartAt - Date.now();
      if (wait <= 0) {
        while (threads.length < size) start();
      } else if (!restartTimer) {
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          pump();
        }, wait);
        restartTimer.unref();
      }
    }
    const idle = threads.filter((thread) => thread.ready && !thread.batch);
    let suspectBusy = threads.filter((thread) => thread.batch?.suspect).length;
    // Threads that take renders of steps not under suspicion: what waits is split over them all,
    // busy ones included, so one idle thread does not take everything while another comes free.
    const sharing = Math.max(1, threads.filter((thread) => thread.ready && !thread.batch?.suspect).length);
    for (const thread of idle) {
      if (queue.length > 0) {
        const share = Math.min(maxBatch, Math.ceil(queue.length / sharing));
        send(thread, queue.splice(0, share), false);
      } else if (suspectQueue.length > 0 && suspectBusy < suspectThreads) {
        send(thread, [suspectQueue.shift()!], true);
        suspectBusy++;
      }
    }
  }

  function rejectAll(error: Error): void {
    for (const pending of [...queue.splice(0), ...suspectQueue.splice(0)]) pending.reject(error);
  }

  return {
    render(request) {
      if (closed) return Promise.reject(new Error('the render pool is closed'));
      const rendered = renderInPlace(request);
      if (rendered) return Promise.resolve(rendered);
      return new Promise<RenderOutcome>((resolve, reject) => {
        const step = `${request.workflow.versionId}#${request.stepIndex}`;
        enqueue({ request, step, resolve, reject });
        // Everything asked for in this turn (a claim batch) is sent together.
        if (!pumpQueued) {
          pumpQueued = true;
          queueMicrotask(() => {
            pumpQueued = false;
            pump();
          });
        }
      });
    },
    stats() {
      let oldestStartedAt: number | undefined;
      for (const thread of threads) {
        const batch = thread.batch;
        if (!batch) continue;
        // Between renders (the batch not begun, or done and its answer on the way) nothing runs.
        if (Atomics.load(thread.progress, PROGRESS_INDEX) < 0) continue;
        const startedAt = batch.sentAt + Atomics.load(thread.progress, PROGRESS_STARTED);
        if (oldestStartedAt === undefined || startedAt < oldestStartedAt) oldestStartedAt = startedAt;
      }
      return { threads: threads.length, queued: queue.length + suspectQueue.length, oldestStartedAt };
    },
    async close() {
      closed = true;
      clearTimeout(restartTimer);
      const error = new Error('the render pool is closed');
      rejectAll(error);
      const running = threads.splice(0);
      for (const thread of running) {
        thread.ended = true;
        clearTimeout(thread.watchdog);
        for (const pending of thread.batch?.items ?? []) pending.reject(error);
        thread.batch = undefined;
      }
      await Promise.all(running.map((thread) => thread.worker.terminate().catch(() => undefined)));
    },
  };
}
