import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Store } from '../../core/store.js';
import type { SqliteStoreOptions } from './sqlite-store.js';
import {
  deserializeError,
  STORE_METHODS,
  type LocalMember,
  type StoreMethod,
  type StoreReply,
  type StoreRequest,
} from './thread-protocol.js';

export interface ThreadedSqliteStoreOptions extends SqliteStoreOptions {
  /** Called if the SQLite thread dies: nothing more can be written, so the process should stop. */
  onFatal?: (error: Error) => void;
}

/** The thread's script; when running from TypeScript sources (tests), its compiled copy in dist/. */
function threadScript(): URL {
  const here = new URL('./sqlite-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL(here.href.replace('/src/store/', '/dist/store/'));
}

/**
 * The SQLite store running in its own thread, behind the same Store interface. With
 * `synchronous=FULL` every commit waits for an fsync (about 2 ms here); in the main thread that
 * wait stopped HTTP and SMTP work for a third of the time under load. Calls cost one message
 * each way (structured clone), far less than the waits they take off the main thread.
 */
export async function createThreadedSqliteStore(options: ThreadedSqliteStoreOptions): Promise<Store> {
  const { onFatal, ...storeOptions } = options;
  const worker = new Worker(threadScript(), { workerData: storeOptions });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  let nextId = 0;
  let dead: Error | undefined;
  let closing = false;

  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message: { ready: boolean; error?: Parameters<typeof deserializeError>[0] }) => {
      if (message.ready) resolve();
      else reject(deserializeError(message.error!));
    });
    worker.once('error', reject);
  });

  const fail = (error: Error) => {
    if (dead) return;
    dead = error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
    if (!closing) onFatal?.(error);
  };
  worker.on('message', (reply: StoreReply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(deserializeError(reply.error));
  });
  worker.on('error', (error) => fail(error));
  worker.on('exit', (code) =>
    fail(Object.assign(new Error(`the SQLite thread exited (${code})`), { code: 'SQLITE_THREAD_EXITED' })),
  );

  const call = (method: StoreRequest['method'], args: unknown[]): Promise<unknown> => {
    if (dead) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args } satisfies StoreRequest);
    });
  };

  const local: Pick<Store, LocalMember> = { dialect: 'sqlite' };
  const forwarded = Object.fromEntries(
    STORE_METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)]),
  ) as Pick<Store, StoreMethod>;
  // Typed as Store: a required member that thread-protocol.ts neither forwards nor answers locally
  // would fail here too.
  const store: Store = {
    ...local,
    ...forwarded,
    async close() {
      if (dead) return;
      closing = true;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      await call('close', []);
      await exited;
    },
  };
  return store;
}
