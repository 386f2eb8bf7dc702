/**
 * Holds job outcomes for a few milliseconds and then records them in the same event-loop turn,
 * so the store's group commit writes them in one transaction: one fsync for a batch of sends
 * instead of one for nearly every send (SMTP replies arrive spread over many turns).
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
  record(item: T): Promise<void>;
}

export function createCompletionBatcher<T>(options: CompletionBatcherOptions<T>): CompletionBatcher<T> {
  let pending: { item: T; resolve(): void; reject(error: unknown): void }[] = [];
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    // All in one turn: the store's writer commits them together, each in its own savepoint.
    for (const entry of batch) options.record(entry.item).then(entry.resolve, entry.reject);
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
