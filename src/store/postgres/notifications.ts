import pg from 'pg';

/** The NOTIFY channel for "jobs are due": one per schema, since notifications are per database. */
export function jobsChannel(schema: string | undefined): string {
  return `herald_jobs_${schema ?? 'public'}`;
}

/** The NOTIFY channel for "a workflow was saved or deleted" (payload: `[environmentId, key]`). */
export function workflowsChannel(schema: string | undefined): string {
  return `herald_workflows_${schema ?? 'public'}`;
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
