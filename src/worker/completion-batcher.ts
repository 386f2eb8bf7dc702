/**
 * Holds job outcomes for a few milliseconds and records them together: one transaction (one
 * commit, one fsync) for a batch of sends instead of one for nearly every send (SMTP replies
 * arrive spread over many turns).
 */
export interface CompletionBatcher<T> {
  /** Resolves once `item` is recorded (committed), rejects if recording it failed. */
  add(item: T): Promise<void>;
}

export interface CompletionBatcherOptions<T> {
  /** Longest an outcome waits before its batch is recorded. */
  flushAfterMs: number;
  /** A batch this large is recorded at once. */
  maxPending: number;
  /** Records the items in one transaction: all of them, or none. */
  record(items: T[]): Promise<void>;
}

export function createCompletionBatcher<T>(options: CompletionBatcherOptions<T>): CompletionBatcher<T> {
  let pending: { item: T; resolve(): void; reject(error: unknown): void }[] = [];
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    const settleAll = () => batch.forEach((entry) => entry.resolve());
    options.record(batch.map((entry) => entry.item)).then(settleAll, (error: unknown) => {
      if (batch.length === 1) return batch[0]!.reject(error);
      // One bad outcome must not cost the others theirs: record each on its own.
      for (const entry of batch) options.record([entry.item]).then(entry.resolve, entry.reject);
    });
  }

  return {
    add(item) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        if (pending.length >= options.maxPending) flush();
        else timer ??= setTimeout(flush, options.flushAfterMs);
      });
    },
  };
}
