import type { Actor } from './roles.js';

/**
 * The audit log: who changed what, when. One event per successful state-changing /v1 request
 * (the route pattern as its action, the route's parameters as its target, never bodies), and per
 * login, logout and user change. Traffic is left out: triggers and the subscriber-facing inbox.
 */
export interface AuditEvent {
  id: string;
  /** null for instance-wide events (logins, users). */
  environmentId: string | null;
  at: number;
  actor: AuditActor;
  /** e.g. `PUT /v1/workflows/{key}`, `POST /dashboard/api/login`, `herald users create`. */
  action: string;
  /** The route's parameters, e.g. {"key": "welcome"}. */
  target: Record<string, string>;
  status: number;
}

export type AuditActor =
  { type: 'user'; id: string; email: string } | { type: 'api_key'; id: string } | { type: 'cli' };

/** Events older than this are deleted by the hourly housekeeping. */
export const AUDIT_RETENTION_MS = 90 * 24 * 3_600_000;

/** An actor as the audit log records it (no role: that can change). */
export function auditActor(actor: Actor): AuditActor {
  if (actor.type === 'user') return { type: 'user', id: actor.id, email: actor.email };
  return actor.type === 'api_key' ? { type: 'api_key', id: actor.id } : { type: 'cli' };
}

/** A Fastify route pattern in OpenAPI's notation: `/v1/workflows/:key` → `/v1/workflows/{key}`. */
export function auditAction(method: string, route: string): string {
  return `${method} ${route.replace(/:(\w+)/g, '{$1}')}`;
}
