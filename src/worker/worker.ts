import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { deliverJob, type DeliverDeps } from '../core/deliver-job.js';
import type {
  ClaimedJob,
  JobCompletion,
  WorkflowVersion,
  JobStore,
  TemplateStore,
  WorkflowStore,
} from '../core/store.js';
import type { TemplateAssets } from '../core/template-assets.js';
import { createCompletionBatcher } from './completion-batcher.js';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';

export interface WorkerOptions {
  /**
   * Sends in flight at most. A slot is freed when its send ends; its outcome may then wait to be
   * committed, and at most this many more outcomes wait: what a crash can send twice stays
   * bounded (twice this), and the next sends need not wait for the last ones' commit.
   */
  concurrency: number;
  leaseMs: number;
  /** Longest wait between looks at the queue when nothing wakes the worker. */
  pollIntervalMs: number;
  /**
   * How long an outcome may wait to be recorded with others (one commit for many sends). It
   * holds the send's slot meanwhile, so duplicates after a crash stay bounded by the concurrency.
   */
  completionDelayMs: number;
}

export interface WorkerDeps {
  /** getTemplateAssets is called once per claim batch and environment: give it a cached store. */
  store: JobStore & Pick<WorkflowStore, 'getWorkflowVersions'> & Pick<TemplateStore, 'getTemplateAssets'>;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  deliver: DeliverDeps;
  /** Outcomes that runs may wait for were recorded: the runner should look now. */
  onRunsWoken?(): void;
}

export interface Worker {
  readonly id: string;
  start(): void;
  /** Something was committed: look for due jobs now. */
  notify(): void;
  /** Stops claiming, waits for in-flight sends up to `timeoutMs`, then releases what it holds. */
  stop(timeoutMs: number): Promise<void>;
  /** Sends currently in flight (for tests and metrics). */
  inFlight(): number;
}

const CACHE_LIMIT = 500;

/** Claims due jobs, runs them with bounded concurrency, and records each outcome. */
export function createWorker(deps: WorkerDeps, options: WorkerOptions): Worker {
  const id = `wrk_${randomBytes(6).toString('hex')}`;
  const { store, clock, logger, metrics } = deps;
  /** Workflow versions by id; the render threads keep them compiled (deps.deliver.render). */
  const workflows = new Map<string, WorkflowVersion>();
  /** Sends in flight. */
  let sending = 0;
  /** Jobs this worker holds: claimed, and their outcome not yet committed. */
  const held = new Set<string>();
  let running = false;
  let claiming = false;
  let wakeAgain = false;
  /** Claims that failed in a row (database down): the wait before the next one grows with them. */
  let failedClaims = 0;
  let timer: NodeJS.Timeout | undefined;
  let idle: (() => void) | undefined;
  // A send may outlast the lease (a slow provider, a long retry inside the SMTP pool): extend the
  // leases of held jobs well before they expire, so another worker does not take one mid-send.
  // A worker that dies stops renewing, and its jobs become due once their last lease runs out.
  let renewer: NodeJS.Timeout | undefined;
  const renewLeases = () => {
    if (held.size === 0) return;
    store.renewLeases(id, [...held], clock.now() + options.leaseMs).catch((error: unknown) => {
      logger.warn({ err: error }, 'renewing job leases failed; trying again shortly');
    });
  };
  // Claim in batches: one claim per freed slot would cost one query per job.
  const claimThreshold = Math.max(1, Math.ceil(options.concurrency / 4));
  const completions = createCompletionBatcher<JobCompletion>({
    flushAfterMs: options.completionDelayMs,
    maxPending: claimThreshold,
    record: async (batch) => {
      await store.completeJobs(batch);
      if (batch.some((c) => c.wakeRun)) deps.onRunsWoken?.();
    },
  });

  /**
   * Reads the workflow versions the jobs need that are not cached yet, and answers their
   * environments' template assets as they are now.
   */
  async function prepare(jobs: ClaimedJob[]): Promise<Map<string, TemplateAssets>> {
    const missing = [...new Set(jobs.map((job) => job.workflowVersionId))].filter((v) => !workflows.has(v));
    if (missing.length > 0) {
      for (const version of await store.getWorkflowVersions(missing)) {
        if (workflows.size >= CACHE_LIMIT) workflows.delete(workflows.keys().next().value!);
        workflows.set(version.versionId, version);
      }
    }
    const assets = new Map<string, TemplateAssets>();
    for (const job of jobs) {
      if (!assets.has(job.environmentId))
        assets.set(job.environmentId, await store.getTemplateAssets(job.environmentId));
    }
    return assets;
  }

  async function run(job: ClaimedJob, assets: TemplateAssets | undefined): Promise<void> {
    let completion: JobCompletion;
    try {
      completion = await deliverJob(deps.deliver, job, {
        workflow: workflows.get(job.workflowVersionId),
        data: job.data,
        workerId: id,
        assets,
      });
    } catch (error) {
      logger.error({ err: error, messageId: job.messageId }, 'delivery crashed; the job will be retried');
      return; // the lease expires and the job is claimed again
    } finally {
      sending--;
      void pump();
    }
    // A run whose condition waits for this outcome looks again at once (not for a deferral: nothing happened).
    if (job.openRunId && !completion.deferred) completion.wakeRun = job.openRunId;
    // Retry on a store hiccup: the send happened, so its outcome should be kept if at all possible.
    for (let tries = 0; ; tries++) {
      try {
        await completions.add(completion);
        break;
      } catch (error) {
        if (!running) {
          // Shutting down: the job was released and will run again, with the same message id.
          logger.warn({ messageId: job.messageId }, 'outcome not recorded at shutdown; the job will run again');
          return;
        }
        if (tries >= 5) {
          logger.error({ err: error, messageId: job.messageId }, 'could not record outcome; the job will run again');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** tries));
      }
    }
    const channel = workflows.get(job.workflowVersionId)?.steps[job.stepIndex]?.type ?? 'unknown';
    metrics.messageStatus(channel, completion.status);
    for (const attempt of completion.attempts) {
      metrics.deliveryDuration(channel, attempt.outcome, attempt.durationMs / 1000);
    }
  }

  function schedule(delayMs: number): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(pump, Math.max(0, delayMs));
    timer.unref?.();
  }

  async function pump(): Promise<void> {
    if (!running) return;
    if (claiming) {
      wakeAgain = true;
      return;
    }
    const free = Math.min(options.concurrency - sending, 2 * options.concurrency - held.size);
    if (free <= 0 || (free < claimThreshold && held.size > 0)) return; // a finishing job pumps again
    claiming = true;
    wakeAgain = false;
    let jobs: ClaimedJob[] = [];
    try {
      jobs = await store.claimJobs(id, free, clock.now(), options.leaseMs);
      if (jobs.length > 0) {
        const assets = await prepare(jobs);
        // stop() came while claiming: its release (queued after this claim) hands these back.
        if (!running) {
          claiming = false;
          return;
        }
        for (const job of jobs) {
          sending++;
          held.add(job.jobId);
          void run(job, assets.get(job.environmentId)).finally(() => {
            held.delete(job.jobId);
            if (held.size === 0 && idle) idle();
            else void pump();
          });
        }
      }
    } catch (error) {
      failedClaims++;
      const backoffMs = Math.min(250 * 2 ** (failedClaims - 1), 5 * options.pollIntervalMs);
      logger.error({ err: error, backoffMs }, 'claiming jobs failed; backing off');
      claiming = false;
      schedule(backoffMs);
      return;
    }
    failedClaims = 0;
    claiming = false;
    if (!running) return;
    if (jobs.length === free || wakeAgain) {
      setImmediate(pump);
      return;
    }
    const next = await store.nextJobDueAt().catch(() => undefined);
    const wait = next === undefined ? options.pollIntervalMs : Math.min(next - clock.now(), options.pollIntervalMs);
    schedule(wait);
  }

  return {
    id,
    start() {
      running = true;
      renewer = setInterval(renewLeases, Math.max(50, Math.floor(options.leaseMs / 3)));
      renewer.unref();
      void pump();
    },
    notify() {
      if (running) void pump();
    },
    inFlight: () => sending,
    async stop(timeoutMs) {
      running = false;
      if (timer) clearTimeout(timer);
      if (held.size > 0) {
        await new Promise<void>((resolve) => {
          idle = resolve;
          setTimeout(resolve, timeoutMs).unref();
        });
      }
      clearInterval(renewer);
      const released = await store.releaseJobs(id, clock.now());
      if (released > 0) logger.info({ released }, 'released unfinished jobs for another worker');
    },
  };
}
