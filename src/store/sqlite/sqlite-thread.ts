import { parentPort, workerData } from 'node:worker_threads';
import type { Store } from '../../core/store.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { serializeError, type StoreReply, type StoreRequest } from './thread-protocol.js';

/**
 * The SQLite thread: owns the only connection. Requests arriving in one turn of this thread's
 * event loop are committed by the group-commit writer in one transaction; the fsync blocks this
 * thread, never the one serving HTTP and SMTP.
 */
const port = parentPort!;
let store: Store;
try {
  store = createSqliteStore(workerData as SqliteStoreOptions);
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: serializeError(error) });
  process.exit(1);
}

port.on('message', (request: StoreRequest) => {
  const method = store[request.method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
  Promise.resolve()
    .then(() => {
      // An optional Store method placed as `call` that this store does not have.
      if (typeof method !== 'function') throw new Error(`the SQLite store has no ${request.method}`);
      return method.apply(store, request.args);
    })
    .then(
      (value) => port.postMessage({ id: request.id, ok: true, value } satisfies StoreReply),
      (error: unknown) =>
        port.postMessage({ id: request.id, ok: false, error: serializeError(error) } satisfies StoreReply),
    )
    .finally(() => {
      if (request.method === 'close') port.close();
    });
});
