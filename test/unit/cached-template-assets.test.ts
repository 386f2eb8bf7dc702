import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import { withCachedTemplateAssets } from '../../src/store/cached-template-assets.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function open(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'herald-cache-'));
  dirs.push(dir);
  return createSqliteStore({ path: join(dir, 'herald.db') });
}

const layout = { name: 'l', html: '{{ content }}', text: null, variables: {} };

it('answers the same object while cached, and sees its own writes at once', async () => {
  let now = 0;
  const store = withCachedTemplateAssets(open(), 1_000, () => now);
  const env = await store.defaultEnvironmentId();
  const none = await store.getTemplateAssets(env);
  expect(none.revision).toBe('0');
  expect(await store.getTemplateAssets(env)).toBe(none);
  for (const write of [
    () => store.putPartial(env, 'p', { name: 'p', template: 'x' }, 1),
    () => store.putLayout(env, 'l', layout, 1),
    () => store.putTranslation(env, 'en', { hi: 'Hi' }, 1),
    () => store.deleteTranslation(env, 'en'),
    () => store.deleteLayout(env, 'l'),
    () => store.deletePartial(env, 'p'),
  ]) {
    const before = await store.getTemplateAssets(env);
    await write();
    expect((await store.getTemplateAssets(env)).revision).not.toBe(before.revision);
  }
  // Expired but unchanged: read again, and the object render threads already have is kept.
  const kept = await store.getTemplateAssets(env);
  now = 1_001;
  expect(await store.getTemplateAssets(env)).toBe(kept);
  await store.close();
});

it('notices a change made elsewhere once its entry expires', async () => {
  const inner = open();
  let now = 0;
  const store = withCachedTemplateAssets(inner, 1_000, () => now);
  const env = await store.defaultEnvironmentId();
  expect((await store.getTemplateAssets(env)).partials).toEqual({});
  await inner.putPartial(env, 'p', { name: 'p', template: 'elsewhere' }, 1);
  expect((await store.getTemplateAssets(env)).partials).toEqual({}); // still the cached answer
  now = 1_001;
  expect((await store.getTemplateAssets(env)).partials).toEqual({ p: 'elsewhere' });
  await store.close();
});
