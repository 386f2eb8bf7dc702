import { describe, expect, it } from 'vitest';
import { T0, type OpenStore } from './fixtures.js';

/** Secrets at rest (SecretStore): the sealing key fingerprint and inbox secrets. */
export function describeSecretsContract(name: string, open: OpenStore) {
  describe(`${name} store: secrets`, () => {
    it('keeps the first sealing key fingerprint it is given', async () => {
      const { store, close } = await open();
      expect(await store.claimSealingKey('key-one')).toBe('key-one');
      expect(await store.claimSealingKey('key-two')).toBe('key-one');
      expect(await store.claimSealingKey('key-one')).toBe('key-one');
      await close();
    });

    it('replaces an inbox secret only while it is still the one the caller read', async () => {
      const { store, environmentId, close } = await open();
      await store.getInboxSettings(environmentId, { secret: 'first', now: T0 });
      expect(await store.listInboxSecrets()).toEqual([{ environmentId, secret: 'first' }]);
      expect(await store.replaceInboxSecret(environmentId, 'not-it', 'sealed')).toBe(false);
      expect(await store.replaceInboxSecret('env_other', 'first', 'sealed')).toBe(false);
      expect(await store.replaceInboxSecret(environmentId, 'first', 'sealed')).toBe(true);
      expect((await store.findInboxSettings(environmentId))?.secret).toBe('sealed');
      await close();
    });
  });
}
