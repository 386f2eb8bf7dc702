import type { InboxSettings } from '../core/inbox.js';
import { isSealed, type SecretBox } from '../core/secret-box.js';
import type { Store } from '../core/store.js';

/** The associated data an environment's sealed inbox secret is bound to (see secret-box.ts). */
const boundTo = (environmentId: string) => `inbox-secret:${environmentId}`;

/**
 * Keeps inbox secrets sealed at rest: whoever reads the database cannot make subscriber hashes or
 * inbox tokens with them. Every write through this store seals the secret; every read opens it, so
 * callers see the secret as before. A secret still stored in plain text (written before Herald
 * sealed them, or by a process of the previous version during an upgrade) is sealed when read.
 */
export function withSealedInboxSecrets(store: Store, box: SecretBox): Store {
  const open = async (environmentId: string, settings: InboxSettings | undefined) => {
    if (!settings) return undefined;
    if (isSealed(settings.secret)) return { ...settings, secret: box.open(settings.secret, boundTo(environmentId)) };
    await store.replaceInboxSecret(environmentId, settings.secret, box.seal(settings.secret, boundTo(environmentId)));
    return settings;
  };
  const sealed = (environmentId: string, create: { secret: string; now: number }) => ({
    ...create,
    secret: box.seal(create.secret, boundTo(environmentId)),
  });
  return {
    ...store,
    async getInboxSettings(environmentId, create) {
      return (await open(environmentId, await store.getInboxSettings(environmentId, sealed(environmentId, create))))!;
    },
    async findInboxSettings(environmentId) {
      return open(environmentId, await store.findInboxSettings(environmentId));
    },
    async updateInboxSettings(environmentId, change, create) {
      const sealedChange =
        change.secret === undefined ? change : { ...change, secret: box.seal(change.secret, boundTo(environmentId)) };
      const settings = await store.updateInboxSettings(environmentId, sealedChange, sealed(environmentId, create));
      return (await open(environmentId, settings))!;
    },
  };
}

/**
 * Seals every inbox secret still stored in plain text, at start. A rotation that lands meanwhile
 * wins (the replacement is conditional). Returns how many were sealed.
 */
export async function sealStoredInboxSecrets(store: Store, box: SecretBox): Promise<number> {
  let count = 0;
  for (const { environmentId, secret } of await store.listInboxSecrets()) {
    if (isSealed(secret)) continue;
    if (await store.replaceInboxSecret(environmentId, secret, box.seal(secret, boundTo(environmentId)))) count++;
  }
  return count;
}
