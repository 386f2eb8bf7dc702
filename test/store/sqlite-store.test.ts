import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/core/store.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from '../../src/store/sqlite/threaded-sqlite-store.js';
import { describeStoreContracts } from './contracts/index.js';

function onTempFile(create: (path: string) => Store | Promise<Store>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
    const store = await create(join(dir, 'herald.db'));
    return {
      store,
      environmentId: await store.defaultEnvironmentId(),
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

// The implementation itself, and the same behind the thread boundary Herald runs it with.
describeStoreContracts(
  'sqlite (in process)',
  onTempFile((path) => createSqliteStore({ path })),
);
describeStoreContracts(
  'sqlite (own thread)',
  onTempFile((path) => createThreadedSqliteStore({ path })),
);
