import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
  const store = createSqliteStore({ path: join(dir, 'herald.db') });
  return {
    store,
    environmentId: await store.defaultEnvironmentId(),
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
