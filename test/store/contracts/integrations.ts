import { describe, expect, it } from 'vitest';
import type { CircuitSnapshot, StoredIntegration } from '../../../src/core/store.js';
import { T0, type OpenStore } from './fixtures.js';

function integration(env: string, id: string, extra: Partial<StoredIntegration> = {}): StoredIntegration {
  return {
    environmentId: env,
    id,
    channel: 'email',
    provider: 'smtp',
    config: { host: 'smtp.example.com', port: 587 },
    sealedSecrets: 'sealed:secret',
    priority: 10,
    enabled: true,
    rateLimit: null,
    circuit: null,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

/** Integrations and what sends learn about them (IntegrationStore). */
export function describeIntegrationsContract(name: string, open: OpenStore) {
  describe(`${name} store: integrations`, () => {
    it('creates, replaces, lists and deletes integrations, keeping createdAt and the circuit', async () => {
      const { store, environmentId: env, close } = await open();
      const main = integration(env, 'smtp-main', { rateLimit: { limit: 5, intervalMs: 1_000 } });
      expect(await store.putIntegration(main)).toEqual({ integration: main, created: true });
      await store.putIntegration(integration(env, 'smtp-backup', { priority: 20, enabled: false }));
      await store.putIntegration(integration(env, 'sms', { channel: 'sms', provider: 'twilio', priority: 1 }));

      const circuit: CircuitSnapshot = {
        state: 'open',
        consecutiveFailures: 5,
        openedAt: T0 + 5,
        lastFailure: '421 try later',
        updatedAt: T0 + 5,
      };
      await store.recordCircuit(env, 'smtp-main', circuit);
      const replaced = await store.putIntegration(
        integration(env, 'smtp-main', { priority: 30, sealedSecrets: null, createdAt: T0 + 9, updatedAt: T0 + 9 }),
      );
      expect(replaced).toEqual({
        integration: integration(env, 'smtp-main', { priority: 30, sealedSecrets: null, circuit, updatedAt: T0 + 9 }),
        created: false,
      });
      expect(await store.getIntegration(env, 'smtp-main')).toEqual(replaced.integration);
      expect(await store.getIntegration('env_other', 'smtp-main')).toBeUndefined();
      // By channel, priority and id.
      expect((await store.listIntegrations(env)).map((i) => [i.id, i.enabled])).toEqual([
        ['smtp-backup', false],
        ['smtp-main', true],
        ['sms', true],
      ]);
      expect(await store.listIntegrations('env_other')).toEqual([]);

      expect(await store.deleteIntegration('env_other', 'sms')).toBe(false);
      expect(await store.deleteIntegration(env, 'sms')).toBe(true);
      expect(await store.deleteIntegration(env, 'sms')).toBe(false);
      expect(await store.getIntegration(env, 'sms')).toBeUndefined();
      await close();
    });

    it('removes the push devices a provider reported gone, and only those', async () => {
      const { store, environmentId: env, close } = await open();
      const webPush = (endpoint: string) => ({ endpoint, keys: { p256dh: 'p', auth: 'a' } });
      await store.putSubscriber(
        env,
        'ann',
        {
          push: {
            fcm: ['f1', 'f2', 'f3'],
            webPush: [webPush('https://push.example/1'), webPush('https://push.example/2')],
          },
        },
        T0,
      );
      await store.removePushDevices(env, 'ann', 'fcm', ['f1', 'f3', 'f-unknown']);
      await store.removePushDevices(env, 'ann', 'webPush', ['https://push.example/2']);
      await store.removePushDevices(env, 'ann', 'apns', ['a1']);
      await store.removePushDevices(env, 'nobody', 'fcm', ['f2']);
      await store.removePushDevices('env_other', 'ann', 'fcm', ['f2']);
      expect((await store.getSubscriber(env, 'ann'))?.push).toEqual({
        fcm: ['f2'],
        webPush: [webPush('https://push.example/1')],
      });
      await close();
    });
  });
}
