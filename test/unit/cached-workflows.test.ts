import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import { withCachedWorkflows } from '../../src/store/cached-workflows.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function open(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'herald-cache-'));
  dirs.push(dir);
  return createSqliteStore({ path: join(dir, 'herald.db') });
}

const steps = (subject: string) => [{ type: 'email' as const, subject, text: 't' }];

it('sees its own saves and deletes at once', async () => {
  const store = withCachedWorkflows(open());
  const env = await store.defaultEnvironmentId();
  await store.putWorkflow(env, { key: 'w', name: 'w', steps: steps('one'), versionId: 'wfv_1' }, 1);
  expect((await store.getWorkflow(env, 'w'))?.steps[0]).toMatchObject({ subject: 'one' });
  await store.putWorkflow(env, { key: 'w', name: 'w', steps: steps('two'), versionId: 'wfv_2' }, 2);
  expect((await store.getWorkflow(env, 'w'))?.steps[0]).toMatchObject({ subject: 'two' });
  await store.deleteWorkflow(env, 'w');
  expect(await store.getWorkflow(env, 'w')).toBeUndefined();
  await store.close();
});

it('notices a change made elsewhere once its entry expires', async () => {
  const inner = open();
  let now = 0;
  const store = withCachedWorkflows(inner, 1_000, () => now);
  const env = await store.defaultEnvironmentId();
  expect(await store.getWorkflow(env, 'w')).toBeUndefined();
  await inner.putWorkflow(env, { key: 'w', name: 'w', steps: steps('elsewhere'), versionId: 'wfv_1' }, 1);
  expect(await store.getWorkflow(env, 'w')).toBeUndefined(); // still the cached answer
  now = 1_001;
  expect((await store.getWorkflow(env, 'w'))?.steps[0]).toMatchObject({ subject: 'elsewhere' });
  await store.close();
});
