import pg from 'pg';

/** The NOTIFY channel for "jobs are due": one per schema, since notifications are per database. */
export function jobsChannel(schema: string | undefined): string {
  return `herald_jobs_${schema ?? 'public'}`;
}

export interface JobListener {
  close(): Promise<void>;
}

/**
 * Holds one connection that LISTENs for new jobs and calls `onJobs` for each notification. A lost
 * connection is re-established after a second; meanwhile workers fall back to polling, so a lost
 * notification only delays work, it never loses it.
 */
export function listenForJobs(config: pg.ClientConfig, channel: string, onJobs: () => void): JobListener {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client(config);
    next.on('notification', () => onJobs());
    next.on('error', () => reconnect(next));
    next.on('end', () => reconnect(next));
    try {
      await next.connect();
      await next.query(`LISTEN "${channel}"`);
      client = next;
      if (closed) await next.end();
      else onJobs(); // anything committed while no one was listening
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
  void connect();

  return {
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
