import type { Store, TemplateStore } from '../core/store.js';
import type { TemplateAssets } from '../core/template-assets.js';

/** The TemplateStore writes: each changes its environment's assets. */
const WRITES = [
  'putLayout',
  'deleteLayout',
  'putPartial',
  'deletePartial',
  'putTranslation',
  'deleteTranslation',
] as const satisfies readonly (keyof TemplateStore)[];

/**
 * Keeps each environment's template assets in memory for a short while, so a send costs a map
 * lookup, not a read of every layout, partial and translation. Writes through this store drop the
 * environment's entry at once (before and after, so a read racing the write cannot keep the old
 * one); writes in other processes do when the store announces them (PostgreSQL NOTIFY), and the
 * short lifetime bounds staleness if an announcement is lost. While cached, the same object is
 * answered: render threads are given it once per revision.
 */
export function withCachedTemplateAssets(store: Store, ttlMs = 2_000, now = () => Date.now()): Store {
  const cache = new Map<string, { assets: TemplateAssets; until: number }>();
  // Bumped by every invalidation: a read that started before one must not cache what it got.
  let generation = 0;
  const forget = (environmentId: string | undefined) => {
    generation++;
    if (environmentId === undefined) cache.clear();
    else cache.delete(environmentId);
  };
  store.onTemplateAssetsChanged?.(forget);
  const writes = Object.fromEntries(
    WRITES.map((method) => [
      method,
      async (environmentId: string, ...rest: unknown[]) => {
        forget(environmentId);
        try {
          return await (store[method] as (env: string, ...args: unknown[]) => Promise<unknown>)(environmentId, ...rest);
        } finally {
          forget(environmentId);
        }
      },
    ]),
  ) as Pick<Store, (typeof WRITES)[number]>;
  return {
    ...store,
    ...writes,
    async getTemplateAssets(environmentId: string) {
      const hit = cache.get(environmentId);
      if (hit && hit.until > now()) return hit.assets;
      const readAt = generation;
      const assets = await store.getTemplateAssets(environmentId);
      if (readAt !== generation) return assets;
      if (hit?.assets.revision === assets.revision) {
        // Unchanged: keep the object render threads already have.
        hit.until = now() + ttlMs;
        return hit.assets;
      }
      if (cache.size >= 10_000) cache.clear();
      cache.set(environmentId, { assets, until: now() + ttlMs });
      return assets;
    },
  };
}
