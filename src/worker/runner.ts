import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { planFanoutPage } from '../core/fan-out.js';
import { advanceRun } from '../core/run-engine.js';
import type { WorkflowVersion, RunStore, WorkflowStore } from '../core/store.js';
import type { ClaimedDigest, ClaimedFanout, ClaimedRun, RunAdvance, RunWorkResult } from '../core/runs.js';
import { compileRunParts, type CompiledRunPart } from '../core/templates.js';
import type { Metrics } from '../observability/metrics.js';

export interface RunnerOptions {
  leaseMs: number;
  /** Longest wait between looks at the timers when nothing wakes the runner. */
  pollIntervalMs: number;
  /** Timers claimed at once; each batch is applied in one transaction. */
  batchSize: number;
}

export interface RunnerDeps {
  store: RunStore & Pick<WorkflowStore, 'getWorkflowVersions'>;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Sends were queued: the delivery worker should look now. */
  onDispatched(): void;
  /** The time zone of subscribers without a valid one, for send windows and digest schedules. */
  defaultTimeZone: string;
}

export interface Runner {
  readonly id: string;
  start(): void;
  /** Something may have made a timer due: look soon (calls in one tick are one look). */
  notify(): void;
  stop(): Promise<void>;
}

const CACHE_LIMIT = 500;
/** How long a notification may wait for others to share one look at the timers. */
const NOTIFY_COALESCE_MS = 5;

/**
 * Moves workflow runs along: claims due timers (runs to advance, digests to close), lets the run
 * engine (core/run-engine.ts) decide each run's next state, and has the store apply a batch of
 * decisions in one transaction. No business rule lives here.
 */
export function createRunner(deps: RunnerDeps, options: RunnerOptions): Runner {
  const id = `run_${randomBytes(6).toString('hex')}`;
  const { store, clock, logger, metrics } = deps;
  const versions = new Map<string, { version: WorkflowVersion; parts: CompiledRunPart[] | string }>();
  let running = false;
  let busy: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let soon = false;
  let failures = 0;

  async function prepare(timers: (ClaimedRun | ClaimedFanout)[]): Promise<void> {
    const missing = [...new Set(timers.map((timer) => timer.workflowVersionId))].filter((v) => !versions.has(v));
    if (missing.length === 0) return;
    for (const version of await store.getWorkflowVersions(missing)) {
      if (versions.size >= CACHE_LIMIT) versions.delete(versions.keys().next().value!);
      let parts: CompiledRunPart[] | string;
      try {
        parts = compileRunParts(version.steps);
      } catch (error) {
        parts = `the workflow's conditions do not compile: ${error instanceof Error ? error.message : String(error)}`;
      }
      versions.set(version.versionId, { version, parts });
    }
  }

  function count(result: RunWorkResult): void {
    for (const { channel, status } of result.statuses) metrics.messageStatus(channel, status);
  }

  /** One batch: returns how many timers it claimed. */
  async function batch(): Promise<number> {
    const now = clock.now();
    const timers = await store.claimTimers(id, options.batchSize, now, options.leaseMs);
    if (timers.length === 0) return 0;
    const runs = timers.filter((t): t is ClaimedRun => t.kind === 'run');
    const digests = timers.filter((t): t is ClaimedDigest => t.kind === 'digest');
    const fanouts = timers.filter((t): t is ClaimedFanout => t.kind === 'fanout');
    await prepare([...runs, ...fanouts]);
    const at = clock.now();
    const advances: RunAdvance[] = runs.map((run) => {
      const cached = versions.get(run.workflowVersionId);
      if (!cached || typeof cached.parts === 'string') {
        const reason = cached ? (cached.parts as string) : 'the workflow version no longer exists';
        return {
          runId: run.runId,
          workerId: id,
          fromStepIndex: run.stepIndex,
          dispatched: [],
          skipped: [],
          next: { kind: 'failed', reason },
        };
      }
      return advanceRun(run, cached.version, cached.parts, id, at, deps.defaultTimeZone);
    });
    if (advances.length > 0) count(await store.advanceRuns(advances, at));
    if (digests.length > 0) {
      count(
        await store.closeDigests(
          digests.map((d) => ({ timerId: d.timerId, digestId: d.digestId, workerId: id })),
          at,
        ),
      );
    }
    let queued = 0;
    if (fanouts.length > 0) {
      // One page per fan-out per batch: other timers, and other fan-outs, get their turn between pages.
      const pages = fanouts.map((fanout) => {
        const version = versions.get(fanout.workflowVersionId)?.version;
        if (!version)
          logger.error({ triggerId: fanout.triggerId }, 'fan-out of a workflow version that no longer exists');
        return planFanoutPage(fanout, version, id, at);
      });
      const written = await store.advanceFanouts(pages, at);
      metrics.messageStatus('all', 'queued', written.messages);
      queued = written.queued;
    }
    if (advances.some((a) => a.dispatched.length > 0) || digests.length > 0 || queued > 0) deps.onDispatched();
    return timers.length;
  }

  function schedule(delayMs: number): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void pump(), Math.max(0, delayMs));
    timer.unref?.();
  }

  async function pump(): Promise<void> {
    if (!running) return;
    if (busy) {
      again = true;
      return;
    }
    again = false;
    let claimed = 0;
    busy = (async () => {
      try {
        claimed = await batch();
        failures = 0;
      } catch (error) {
        failures++;
        logger.error({ err: error }, 'moving workflow runs failed; backing off');
      }
    })();
    await busy;
    busy = undefined;
    if (!running) return;
    if (failures > 0) {
      schedule(Math.min(250 * 2 ** (failures - 1), 5 * options.pollIntervalMs));
      return;
    }
    if (claimed === options.batchSize || again) {
      setImmediate(() => void pump());
      return;
    }
    const next = await store.nextTimerDueAt().catch(() => undefined);
    schedule(next === undefined ? options.pollIntervalMs : Math.min(next - clock.now(), options.pollIntervalMs));
  }

  return {
    id,
    start() {
      running = true;
      void pump();
    },
    notify() {
      // Notifications come in bursts (every commit, on PostgreSQL from every process): one look
      // per NOTIFY_COALESCE_MS serves them all.
      if (!running || soon) return;
      soon = true;
      setTimeout(() => {
        soon = false;
        void pump();
      }, NOTIFY_COALESCE_MS).unref();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await busy;
    },
  };
}
