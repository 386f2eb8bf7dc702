import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import { T0, type OpenStore } from './fixtures.js';

/** A key registration as core/api-keys.ts makes one, for a made-up hash. */
function keyInput(env: string, name: string, createdAt: number) {
  return {
    id: newId('key', createdAt),
    environmentId: env,
    name,
    prefix: `hk_${name}`,
    hash: randomBytes(32).toString('hex'),
    createdAt,
  };
}

/** API keys (ApiKeyStore): registered by hash, revoked but never the last, last use moved forward. */
export function describeApiKeysContract(name: string, open: OpenStore) {
  describe(`${name} store: API keys`, () => {
    it('registers API keys by hash, lists them without it, and never brings a revoked one back', async () => {
      const { store, environmentId, close } = await open();
      const a = keyInput(environmentId, 'a', T0);
      const b = keyInput(environmentId, 'b', T0 + 1);
      const added = await store.addApiKey(a);
      expect(added).toEqual({
        status: 'added',
        key: { id: a.id, environmentId, name: 'a', prefix: 'hk_a', createdAt: T0, lastUsedAt: null },
      });
      // The same hash again (HERALD_API_KEY on every start) keeps the first registration.
      expect(await store.addApiKey({ ...a, id: newId('key', T0 + 5), name: 'again' })).toEqual({
        status: 'exists',
        key: added.key,
      });
      await store.addApiKey(b);
      expect(await store.findApiKeyByHash(a.hash)).toEqual({ id: a.id, environmentId });
      expect((await store.listApiKeys(environmentId)).map((key) => key.id)).toEqual([a.id, b.id]);
      expect(JSON.stringify(await store.listApiKeys(environmentId))).not.toContain(a.hash);
      expect(await store.listApiKeys('env_other')).toEqual([]);

      expect(await store.revokeApiKey('env_other', a.id, T0 + 2)).toBe('not_found');
      expect(await store.revokeApiKey(environmentId, a.id, T0 + 2)).toBe('revoked');
      expect(await store.revokeApiKey(environmentId, a.id, T0 + 3)).toBe('not_found');
      expect(await store.findApiKeyByHash(a.hash)).toBeUndefined();
      expect((await store.listApiKeys(environmentId)).map((key) => key.id)).toEqual([b.id]);
      expect((await store.addApiKey({ ...a, id: newId('key', T0 + 4) })).status).toBe('revoked');
      expect(await store.findApiKeyByHash(a.hash)).toBeUndefined();
      await close();
    });

    it("never revokes an environment's last API key, even when revocations race", async () => {
      const { store, environmentId, close } = await open();
      const keys = Array.from({ length: 8 }, (_, i) => keyInput(environmentId, `k${i}`, T0 + i));
      for (const key of keys) await store.addApiKey(key);
      // Reads in parallel first, so a pooled store has a connection ready for each revocation.
      await Promise.all(keys.map(() => store.listApiKeys(environmentId)));
      const outcomes = await Promise.all(keys.map((key) => store.revokeApiKey(environmentId, key.id, T0 + 10)));
      expect(outcomes.filter((outcome) => outcome === 'revoked')).toHaveLength(7);
      expect(outcomes.filter((outcome) => outcome === 'last_key')).toHaveLength(1);
      expect(await store.listApiKeys(environmentId)).toHaveLength(1);
      expect(await store.revokeApiKey(environmentId, 'key_none', T0 + 11)).toBe('not_found');
      await close();
    });

    it('moves the last use of API keys forward, never back', async () => {
      const { store, environmentId, close } = await open();
      const a = keyInput(environmentId, 'a', T0);
      const b = keyInput(environmentId, 'b', T0);
      await store.addApiKey(a);
      await store.addApiKey(b);
      await store.recordApiKeyUse([]);
      await store.recordApiKeyUse([
        { id: a.id, at: T0 + 500 },
        { id: b.id, at: T0 + 100 },
        { id: 'key_gone', at: T0 },
      ]);
      await store.recordApiKeyUse([{ id: a.id, at: T0 + 200 }]);
      const lastUsed = Object.fromEntries((await store.listApiKeys(environmentId)).map((k) => [k.name, k.lastUsedAt]));
      expect(lastUsed).toEqual({ a: T0 + 500, b: T0 + 100 });
      await close();
    });
  });
}
