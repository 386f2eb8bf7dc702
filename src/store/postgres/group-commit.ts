import type pg from 'pg';

type Operation<T> = (client: pg.PoolClient) => Promise<T>;

interface Pending {
  operation: Operation<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** How often one operation is tried again after PostgreSQL chose it as a deadlock victim. */
const DEADLOCK_RETRIES = 3;

/**
 * Group commit on PostgreSQL: operations queued during one turn of the event loop run in one
 * transaction on one pooled connection, with one commit (one fsync); each caller's promise settles
 * only after that commit. Every operation runs in its own savepoint, so one failing operation rolls
 * back alone. Batches from later turns run concurrently on other connections of the pool.
 */
export class PostgresGroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly pool: pg.Pool) {}

  run<T>(operation: Operation<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ operation, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: requests parsed in this I/O phase join the same batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Waits for everything queued or in flight; used before closing the pool. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      if (this.queue.length > 0) this.flush();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const done = this.commit(batch).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async commit(batch: Pending[]): Promise<void> {
    const results: { ok: boolean; value: unknown }[] = [];
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      for (const item of batch) results.push(await this.runInSavepoint(client, item.operation));
      await client.query('COMMIT');
    } catch (error) {
      // The transaction itself failed (connection lost, disk full, commit refused): nothing in it
      // is committed, so every caller hears about it; none is answered as if it were durable.
      if (client) await client.query('ROLLBACK').catch(() => undefined);
      client?.release(error instanceof Error ? error : true);
      for (const item of batch) item.reject(error);
      return;
    }
    client.release();
    batch.forEach((item, i) => {
      const result = results[i]!;
      if (result.ok) item.resolve(result.value);
      else item.reject(result.value);
    });
  }

  private async runInSavepoint(client: pg.PoolClient, operation: Operation<unknown>) {
    for (let attempt = 0; ; attempt++) {
      await client.query('SAVEPOINT op');
      try {
        const value = await operation(client);
        await client.query('RELEASE op');
        return { ok: true, value };
      } catch (error) {
        await client.query('ROLLBACK TO op');
        await client.query('RELEASE op');
        // Concurrent batches can lock the same subscribers in opposite orders; rolling back to the
        // savepoint releases this operation's locks, so the other batch goes on and a retry succeeds.
        if (isDeadlock(error) && attempt < DEADLOCK_RETRIES) continue;
        return { ok: false, value: error };
      }
    }
  }
}

function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '40P01';
}
