import { describe, expect, it } from 'vitest';
import { LEASE, seedMessages, sent, T0, type OpenStore } from './fixtures.js';

/** Subscribers (SubscriberStore): upserts, reads and erasure. */
export function describeSubscribersContract(name: string, open: OpenStore) {
  describe(`${name} store: subscribers`, () => {
    it('creates a subscriber, replaces its fields on the next put, and keeps it to its environment', async () => {
      const { store, environmentId: env, close } = await open();
      const created = await store.putSubscriber(
        env,
        'ann',
        { email: 'ann@example.com', name: 'Ann', data: { plan: 'pro' }, chat: { slack: 'C123' } },
        T0,
      );
      expect(created).toEqual({
        subscriberId: 'ann',
        email: 'ann@example.com',
        phone: null,
        name: 'Ann',
        locale: null,
        timezone: null,
        data: { plan: 'pro' },
        push: null,
        chat: { slack: 'C123' },
        webhookUrl: null,
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await store.getSubscriber(env, 'ann')).toEqual(created);
      // A put is the whole subscriber: fields it leaves out are cleared.
      const replaced = await store.putSubscriber(env, 'ann', { phone: '+15550100', locale: 'fr' }, T0 + 1);
      expect(replaced).toMatchObject({ email: null, name: null, data: null, chat: null, phone: '+15550100' });
      expect(replaced).toMatchObject({ locale: 'fr', createdAt: T0, updatedAt: T0 + 1 });
      expect(await store.getSubscriber('env_other', 'ann')).toBeUndefined();
      expect(await store.getSubscriber(env, 'bob')).toBeUndefined();
      expect(await store.deleteSubscriber(env, 'bob')).toBe(false);
      expect(await store.deleteSubscriber('env_other', 'ann')).toBe(false);
      await close();
    });

    it('erases a deleted subscriber from the delivery log', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 1);
      const [job] = await store.claimJobs('w1', 1, T0, LEASE);
      await store.completeJobs([sent(job!, T0, '250 ok s0@example.com', 'secret', 1)]);
      expect(await store.deleteSubscriber(environmentId, 's0')).toBe(true);
      const message = await store.getMessage(environmentId, plan.messages[0]!.id);
      expect(message).toMatchObject({ recipient: null, subject: null, status: 'sent', content: null });
      expect(message?.attempts[0]?.detail).toBe('[erased]');
      expect(await store.getSubscriber(environmentId, 's0')).toBeUndefined();
      await close();
    });
  });
}
