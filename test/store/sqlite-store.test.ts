import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/core/store.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from '../../src/store/sqlite/threaded-sqlite-store.js';
import { describeInboxContract } from './contracts/inbox.js';
import { describeMessageLogContract } from './contracts/delivery-log.js';
import { describeRunsContract } from './contracts/runs.js';
import { describeStoreContract } from './contracts/jobs.js';

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
describeStoreContract(
  'sqlite (in process)',
  onTempFile((path) => createSqliteStore({ path })),
);
describeStoreContract(
  'sqlite (own thread)',
  onTempFile((path) => createThreadedSqliteStore({ path })),
);
describeInboxContract(
  'sqlite (in process)',
  onTempFile((path) => createSqliteStore({ path })),
);
describeInboxContract(
  'sqlite (own thread)',
  onTempFile((path) => createThreadedSqliteStore({ path })),
);
describeMessageLogContract(
  'sqlite (in process)',
  onTempFile((path) => createSqliteStore({ path })),
);
describeMessageLogContract(
  'sqlite (own thread)',
  onTempFile((path) => createThreadedSqliteStore({ path })),
);
describeRunsContract(
  'sqlite (in process)',
  onTempFile((path) => createSqliteStore({ path })),
);
describeRunsContract(
  'sqlite (own thread)',
  onTempFile((path) => createThreadedSqliteStore({ path })),
);
