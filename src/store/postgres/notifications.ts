import pg from 'pg';
import type { InboxEvent, InboxEventRef } from '../../core/inbox.js';

/** The NOTIFY channel for "jobs are due": one per schema, since notifications are per database. */
export function jobsChannel(schema: string | undefined): string {
  return `herald_jobs_${schema ?? 'public'}`;
}

/** The NOTIFY channel for "a workflow was saved or deleted" (payload: `[environmentId, key]`). */
export function workflowsChannel(schema: string | undefined): string {
  return `herald_workflows_${schema ?? 'public'}`;
}

/** The NOTIFY channel for "an environment's layouts, partials or translations changed" (payload: the environment id). */
export function templatesChannel(schema: string | undefined): string {
  return `herald_templates_${schema ?? 'public'}`;
}

/** The NOTIFY channel for inbox events (payload: an InboxEvent, or an InboxEventRef when too large). */
export function inboxChannel(schema: string | undefined): string {
  return `herald_inbox_${schema ?? 'public'}`;
}

/** The NOTIFY channel for "an environment's inbox settings changed" (payload: the environment id). */
export function inboxSettingsChannel(schema: string | undefined): string {
  return `herald_inbox_settings_${schema ?? 'public'}`;
}

/**
 * NOTIFY payloads are capped at 8,000 bytes; an event larger than this goes out as a ref, and
 * listeners read it with listInboxEvents.
 */
const MAX_NOTIFY_BYTES = 7_000;

/** What goes out on the inbox channel for an event: the event, or a ref when it is too large. */
export function inboxNotifyPayload(event: InboxEvent): string {
  const json = JSON.stringify(event);
  if (Buffer.byteLength(json) <= MAX_NOTIFY_BYTES) return json;
  const ref: InboxEventRef = { environmentId: event.environmentId, subscriberId: event.subscriberId, seq: event.seq };
  return JSON.stringify(ref);
}

/** A notification read back: an event or a ref, or undefined when it is not one. */
export function parseInboxNotifyPayload(payload: string): InboxEvent | InboxEventRef | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const event = value as Partial<InboxEventRef> | null;
  const valid =
    typeof event === 'object' &&
    event !== null &&
    typeof event.environmentId === 'string' &&
    typeof event.subscriberId === 'string' &&
    typeof event.seq === 'number';
  return valid ? (value as InboxEvent | InboxEventRef) : undefined;
}

export interface Notifications {
  /** Calls `listener` with each payload on `channel`; LISTENs on it from now on. */
  on(channel: string, listener: (payload: string) => void): void;
  /**
   * Calls `listener` each time the connection is (re-)established: notifications sent while it
   * was down are lost, so whatever depends on them should look again.
   */
  onConnected(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * One connection per process that LISTENs on every channel asked for. A lost connection is
 * re-established after a second; meanwhile workers fall back to polling and caches to their
 * lifetime, so a lost notification only delays, it never loses work.
 */
export function listenForNotifications(config: pg.ClientConfig): Notifications {
  const listeners = new Map<string, ((payload: string) => void)[]>();
  const connected: (() => void)[] = [];
  let client: pg.Client | undefined;
  let started = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client(config);
    next.on('notification', (message) => {
      for (const listener of listeners.get(message.channel) ?? []) listener(message.payload ?? '');
    });
    next.on('error', () => reconnect(next));
    next.on('end', () => reconnect(next));
    try {
      await next.connect();
      // Channels asked for while these LISTENs run are picked up by the next round.
      const listening = new Set<string>();
      for (let pending = [...listeners.keys()]; pending.length > 0;) {
        for (const channel of pending) {
          await next.query(`LISTEN "${channel}"`);
          listening.add(channel);
        }
        pending = [...listeners.keys()].filter((channel) => !listening.has(channel));
      }
      client = next;
      if (closed) await next.end();
      else for (const listener of connected) listener();
    } catch {
      reconnect(next);
    }
  };
  const reconnect = (failed: pg.Client) => {
    failed.removeAllListeners('end');
    failed.end().catch(() => undefined);
    if (client === failed) client = undefined;
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1_000);
    retry.unref();
  };

  return {
    on(channel, listener) {
      const known = listeners.get(channel);
      if (known) known.push(listener);
      else {
        listeners.set(channel, [listener]);
        // Already connected: listen on the new channel too (a failure reconnects, listening on all).
        client?.query(`LISTEN "${channel}"`).catch(() => undefined);
      }
      if (!started) {
        started = true;
        void connect();
      }
    },
    onConnected(listener) {
      connected.push(listener);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = undefined;
      current?.removeAllListeners('end');
      await current?.end().catch(() => undefined);
    },
  };
}
