import type { Store } from '../core/store.js';
import type { Workflow } from '../core/types.js';

/**
 * Keeps workflows read by key in memory, so a trigger does not wait on the database for the
 * workflow it names. Saves and deletes through this store invalidate the entry at once; saves in
 * other processes do when the store announces them (PostgreSQL NOTIFY), and the short lifetime
 * bounds staleness if an announcement is lost.
 */
export function withCachedWorkflows(store: Store, ttlMs = 2_000, now = () => Date.now()): Store {
  const cache = new Map<string, { workflow: Workflow | undefined; until: number }>();
  const slot = (environmentId: string, key: string) => `${environmentId}\u0000${key}`;
  // Bumped by every invalidation: a read that started before one must not cache what it got.
  let generation = 0;
  store.onWorkflowChanged?.((change) => {
    generation++;
    if (change) cache.delete(slot(change.environmentId, change.key));
    else cache.clear();
  });
  return {
    ...store,
    async getWorkflow(environmentId: string, key: string) {
      const id = slot(environmentId, key);
      const hit = cache.get(id);
      if (hit && hit.until > now()) return hit.workflow;
      const readAt = generation;
      const workflow = await store.getWorkflow(environmentId, key);
      if (readAt !== generation) return workflow;
      if (cache.size >= 10_000) cache.clear();
      cache.set(id, { workflow, until: now() + ttlMs });
      return workflow;
    },
    async putWorkflow(...args: Parameters<Store['putWorkflow']>) {
      cache.delete(slot(args[0], args[1].key));
      const workflow = await store.putWorkflow(...args);
      cache.delete(slot(args[0], args[1].key));
      return workflow;
    },
    async deleteWorkflow(environmentId: string, key: string) {
      cache.delete(slot(environmentId, key));
      const deleted = await store.deleteWorkflow(environmentId, key);
      cache.delete(slot(environmentId, key));
      return deleted;
    },
  };
}
