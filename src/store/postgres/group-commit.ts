import type pg from 'pg';
import { inTransactionCommittedBy, isDeadlock } from './connection.js';

/**
 * Writes a batch of items in the caller's transaction; returns, per item, the error that kept it
 * out (written items get undefined), and whether it committed the transaction itself (with its
 * last statement). Throwing fails the whole transaction.
 */
export type BatchWrite<Item> = (
  client: pg.PoolClient,
  items: Item[],
) => Promise<{ refused: (Error | undefined)[]; committed: boolean }>;

interface Pending<Item> {
  item: Item;
  resolve(): void;
  reject(error: unknown): void;
}

/** How often a batch is tried again after PostgreSQL chose it as a deadlock victim. */
const DEADLOCK_RETRIES = 3;

/**
 * Group commit on PostgreSQL: items queued during one turn of the event loop are written together
 * by `write` — a few multi-row statements for the whole batch — in one transaction on one pooled
 * connection, with one commit (one WAL flush). Each caller's promise settles only after that
 * commit. Batches from later turns run concurrently on other connections of the pool.
 *
 * If the batch fails for any reason but a deadlock, nothing of it was committed, and each item is
 * then written in a transaction of its own: one bad item costs only itself. (When the database is
 * down those fail fast too, and every caller hears why.)
 */
export class PostgresGroupCommit<Item> {
  private queue: Pending<Item>[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly write: BatchWrite<Item>,
  ) {}

  run(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
    const done = this.commitBatch(batch).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async commitBatch(batch: Pending<Item>[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const refused = await this.commit(batch.map((entry) => entry.item));
        batch.forEach((entry, i) => (refused[i] ? entry.reject(refused[i]) : entry.resolve()));
        return;
      } catch (error) {
        // Concurrent batches can lock the same subscribers in opposite orders; the victim's
        // rollback lets the other go on, and a retry then succeeds.
        if (isDeadlock(error) && attempt < DEADLOCK_RETRIES) continue;
        if (batch.length === 1) {
          batch[0]!.reject(error);
          return;
        }
        await Promise.all(batch.map((entry) => this.commitBatch([entry])));
        return;
      }
    }
  }

  /** One transaction; on failure nothing of it is committed and its connection is closed. */
  private commit(items: Item[]): Promise<(Error | undefined)[]> {
    return inTransactionCommittedBy(this.pool, async (client) => {
      const { refused, committed } = await this.write(client, items);
      return { value: refused, committed };
    });
  }
}
