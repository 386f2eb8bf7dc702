import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/core/store.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from '../../src/store/sqlite/threaded-sqlite-store.js';
import Database from 'better-sqlite3';
import { describeStoreContracts } from './contracts/index.js';
import { describeRepeatedVersionNumbers } from './contracts/workflows.js';

function onTempFile(create: (path: string) => Store | Promise<Store>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
    const path = join(dir, 'herald.db');
    const store = await create(path);
    return {
      store,
      path,
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

// A second connection on the file writes what an older Herald left (the store's own is idle).
describeRepeatedVersionNumbers(
  'sqlite',
  onTempFile((path) => createSqliteStore({ path })),
  async ({ path }, row) => {
    const db = new Database(path);
    try {
      db.prepare(
        `INSERT INTO workflow_versions (id, environment_id, key, name, version, steps, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(row.id, row.environmentId, row.key, row.name, row.version, row.steps, row.createdAt);
      db.prepare(
        `INSERT INTO workflows (environment_id, key, name, version, version_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(row.environmentId, row.key, row.name, row.version, row.id, row.createdAt, row.createdAt);
    } finally {
      db.close();
    }
  },
);
