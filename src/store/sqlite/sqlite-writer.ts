import type { Database, Statement } from 'better-sqlite3';

type Operation<T> = (db: Database) => T;

interface Pending {
  operation: Operation<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit for the single SQLite connection. Writes queued during one turn of the event loop
 * run in one transaction with one fsync; each caller's promise settles only after that commit.
 * Every operation runs in its own savepoint, so one failing operation rolls back alone.
 *
 * Operations are synchronous on purpose: nothing else can run on the connection while a batch
 * is open, so reads elsewhere never see uncommitted rows.
 */
export class SqliteWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  constructor(private readonly db: Database) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT op');
    this.release = db.prepare('RELEASE op');
    this.rollbackTo = db.prepare('ROLLBACK TO op');
  }

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

  /** Runs everything still queued; used at shutdown. */
  drain(): void {
    while (this.queue.length > 0) this.flush();
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.begin.run();
      for (const item of batch) {
        this.savepoint.run();
        try {
          results.push({ ok: true, value: item.operation(this.db) });
          this.release.run();
        } catch (error) {
          this.rollbackTo.run();
          this.release.run();
          results.push({ ok: false, value: error });
        }
      }
      this.commit.run();
    } catch (error) {
      // The transaction itself failed (disk full, I/O error, lock timeout): nothing in it is
      // committed, so every caller hears about it; none is answered as if it were durable.
      if (this.db.inTransaction) this.rollback.run();
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const result = results[i]!;
      if (result.ok) item.resolve(result.value);
      else item.reject(result.value);
    });
  }
}
