import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { auditAction, auditActor, type AuditEvent } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { AuditStore } from '../core/store.js';
import type { Actor } from '../core/users.js';

/**
 * Requests never audited. Traffic, not administration: a trigger is the hot path (an audit row per
 * trigger would double its writes); an inbox token is minted per page view of a customer's site;
 * the subscriber-facing inbox routes are left out by their `auth: 'subscriber'`. And reads made
 * with POST: a preview renders a workflow and changes nothing.
 */
const NOT_AUDITED = new Set([
  'POST /v1/workflows/:key/trigger',
  'POST /v1/subscribers/:subscriberId/inbox-token',
  'POST /v1/bench/noop-trigger/:key',
  'POST /v1/workflows/:key/preview',
  'POST /v1/workflows/preview',
]);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuditRecorder {
  /** Queues an event; it is written after the response, with the others of the same turn. */
  record(event: {
    environmentId: string | null;
    actor: Actor;
    action: string;
    target?: Record<string, string>;
    status: number;
  }): void;
  /** Writes what is queued (and waits for writes under way). */
  flush(): Promise<void>;
}

/**
 * Writes audit events off the request path: queued, then written together once the event loop
 * turns (one statement or transaction for every event of that turn). A failed write is logged, not
 * retried: the audit log must never fail or slow the change it records.
 */
export function createAuditRecorder(deps: {
  store: Pick<AuditStore, 'addAuditEvents'>;
  clock: Clock;
  logger: Logger;
}): AuditRecorder {
  let queue: AuditEvent[] = [];
  let writing: Promise<void> = Promise.resolve();
  let scheduled = false;

  const write = () => {
    scheduled = false;
    if (queue.length === 0) return writing;
    const batch = queue;
    queue = [];
    writing = writing.then(() =>
      deps.store.addAuditEvents(batch).catch((err: unknown) => {
        deps.logger.warn({ err, events: batch.length }, 'could not write audit events');
      }),
    );
    return writing;
  };

  return {
    record(event) {
      const at = deps.clock.now();
      queue.push({
        id: newId('aud', at),
        environmentId: event.environmentId,
        at,
        actor: auditActor(event.actor),
        action: event.action,
        target: event.target ?? {},
        status: event.status,
      });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void write());
      }
    },
    async flush() {
      await write();
    },
  };
}

/** The onResponse hook that audits every successful state-changing /v1 request by its route pattern. */
export function auditRequests(recorder: AuditRecorder) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const route = request.routeOptions.url;
    if (
      reply.statusCode < 400 &&
      !SAFE_METHODS.has(request.method) &&
      request.actor !== null &&
      route !== undefined &&
      route.startsWith('/v1/') &&
      request.routeOptions.config.auth === undefined &&
      !NOT_AUDITED.has(`${request.method} ${route}`)
    ) {
      recorder.record({
        // Users are instance-wide: their changes belong to no environment.
        environmentId: route.startsWith('/v1/users') ? null : request.environmentId,
        actor: request.actor,
        action: auditAction(request.method, route),
        target: { ...(request.params as Record<string, string>) },
        status: reply.statusCode,
      });
    }
    done();
  };
}
