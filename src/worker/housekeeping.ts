import type { Logger } from 'pino';
import { AUDIT_RETENTION_MS } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import { LOGIN_WINDOW_MS, SESSION_IDLE_MS } from '../core/sessions.js';
import type { Store } from '../core/store.js';

export interface HousekeepingOptions {
  idempotencyWindowMs: number;
  /** --retention; undefined where this process does not apply it (API-only processes). */
  retentionMs: number | undefined;
  /** Messages per retention batch: each batch is its own short transaction. */
  batchSize?: number;
  /** Pause between batches, so triggers and deliveries get the database in between. */
  pauseMs?: number;
  /** When the first pass runs after start (a minute by default). */
  firstPassMs?: number;
}

export interface Housekeeping {
  /** Stops the timers and waits for a running pass to end (at most one more batch). */
  stop(): Promise<void>;
}

/** Browsers resume their inbox stream from events this recent; older ones get a `reset`. */
export const INBOX_EVENT_WINDOW_MS = 24 * 3_600_000;

const FIRST_PASS_MS = 60_000;
const EVERY_MS = 3_600_000;

/**
 * Hourly, and once a minute after start (a process restarted more often than hourly still does
 * it): drops expired idempotency records and inbox events past INBOX_EVENT_WINDOW_MS, ended
 * dashboard sessions, failed logins past their window and audit events past AUDIT_RETENTION_MS
 * (90 days), and applies --retention in small batches (and to the message rollup's hours). Several
 * processes may do it at once on PostgreSQL: a batch that finds another one running returns 0,
 * and this pass ends.
 */
export function startHousekeeping(
  deps: {
    store: Pick<
      Store,
      | 'pruneIdempotency'
      | 'pruneMessages'
      | 'pruneMessageRollup'
      | 'pruneInboxEvents'
      | 'pruneSessions'
      | 'pruneLoginFailures'
      | 'pruneAuditEvents'
    >;
    clock: Clock;
    logger: Logger;
  },
  options: HousekeepingOptions,
): Housekeeping {
  const { store, clock, logger } = deps;
  const batchSize = options.batchSize ?? 500;
  const pauseMs = options.pauseMs ?? 20;
  let running: Promise<void> | undefined;
  let stopping = false;

  const applyRetention = async (retentionMs: number) => {
    const before = clock.now() - retentionMs;
    let walked = 0;
    for (;;) {
      const batch = await store.pruneMessages(before, batchSize);
      walked += batch;
      if (batch < batchSize || stopping) break;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    if (walked > 0) logger.info({ messages: walked }, 'retention: pruned messages older than --retention');
    // The rollup's hours go with the messages they count (one short delete: a row per hour and group).
    await store.pruneMessageRollup(before);
  };

  const pruneInboxEvents = async () => {
    const before = clock.now() - INBOX_EVENT_WINDOW_MS;
    while ((await store.pruneInboxEvents(before, batchSize)) === batchSize && !stopping) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  /** Sessions, failed logins and audit events: small tables, or deleted in batches like inbox events. */
  const pruneAccess = async () => {
    const now = clock.now();
    await store.pruneSessions(now, now - SESSION_IDLE_MS);
    await store.pruneLoginFailures(now - LOGIN_WINDOW_MS);
    while ((await store.pruneAuditEvents(now - AUDIT_RETENTION_MS, batchSize)) === batchSize && !stopping) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  const pass = () => {
    running ??= (async () => {
      await pruneAccess().catch((err: unknown) => {
        logger.warn({ err }, 'pruning sessions, failed logins or audit events failed');
      });
      await store.pruneIdempotency(clock.now() - options.idempotencyWindowMs).catch((err: unknown) => {
        logger.warn({ err }, 'pruning idempotency keys failed');
      });
      await pruneInboxEvents().catch((err: unknown) => {
        logger.warn({ err }, 'pruning inbox events failed');
      });
      if (options.retentionMs === undefined) return;
      await applyRetention(options.retentionMs).catch((err: unknown) => {
        logger.warn({ err }, 'retention: pruning messages failed; trying again at the next pass');
      });
    })().finally(() => {
      running = undefined;
    });
  };

  const first = setTimeout(pass, options.firstPassMs ?? FIRST_PASS_MS);
  first.unref();
  const every = setInterval(pass, EVERY_MS);
  every.unref();

  return {
    async stop() {
      stopping = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
