import { describe, expect, it } from 'vitest';
import type { SubscriberPreferences } from '../../../src/core/preferences.js';
import { readEmailCursor, type SubscriberSearch } from '../../../src/core/subscriber-search.js';
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
        preferences: null,
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

    it('replaces preferences whole and keeps them through a put of the subscriber', async () => {
      const { store, environmentId: env, close } = await open();
      expect(await store.putSubscriberPreferences(env, 'nobody', { channels: { sms: false } }, T0)).toBeUndefined();
      await store.putSubscriber(env, 'ann', { email: 'ann@example.com' }, T0);
      const first: SubscriberPreferences = {
        channels: { sms: false },
        categories: { billing: { channels: { email: false } } },
        quietHours: { start: '22:00', end: '08:00' },
      };
      const saved = await store.putSubscriberPreferences(env, 'ann', first, T0 + 1);
      expect(saved).toMatchObject({ subscriberId: 'ann', preferences: first, updatedAt: T0 + 1 });
      // Replaced whole: what the second document leaves out is gone.
      const second: SubscriberPreferences = { workflows: { digest: { channels: { in_app: false } } } };
      await store.putSubscriberPreferences(env, 'ann', second, T0 + 2);
      expect((await store.getSubscriber(env, 'ann'))?.preferences).toEqual(second);
      expect(await store.putSubscriberPreferences('env_other', 'ann', first, T0)).toBeUndefined();
      // A put of the subscriber's fields leaves the preferences alone.
      await store.putSubscriber(env, 'ann', { email: 'ann@example.org' }, T0 + 3);
      expect((await store.getSubscriber(env, 'ann'))?.preferences).toEqual(second);
      await close();
    });

    it('turns one workflow channel off, keeping the rest of the document', async () => {
      const { store, environmentId: env, close } = await open();
      expect(await store.turnOffWorkflowChannel(env, 'nobody', 'digest', 'email', T0)).toBeUndefined();
      await store.putSubscriber(env, 'bob', { email: 'bob@example.com' }, T0);
      // From no preferences at all.
      expect(await store.turnOffWorkflowChannel(env, 'bob', 'digest', 'email', T0 + 1)).toEqual({
        workflows: { digest: { channels: { email: false } } },
      });
      await store.putSubscriberPreferences(
        env,
        'bob',
        { channels: { push: false }, workflows: { digest: { channels: { in_app: true } } } },
        T0 + 2,
      );
      const expected = {
        channels: { push: false },
        workflows: { digest: { channels: { in_app: true, email: false } }, news: { channels: { email: false } } },
      };
      // Two at once: neither loses the other's change.
      await Promise.all([
        store.turnOffWorkflowChannel(env, 'bob', 'digest', 'email', T0 + 3),
        store.turnOffWorkflowChannel(env, 'bob', 'news', 'email', T0 + 3),
      ]);
      const bob = await store.getSubscriber(env, 'bob');
      expect(bob?.preferences).toEqual(expected);
      expect(bob?.updatedAt).toBe(T0 + 3);
      // Again: nothing more changes.
      expect(await store.turnOffWorkflowChannel(env, 'bob', 'news', 'email', T0 + 4)).toEqual(expected);
      await close();
    });

    it('hands a claimed job the subscriber with their preferences as they are at the claim', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 1);
      const preferences: SubscriberPreferences = { channels: { email: false } };
      await store.putSubscriberPreferences(environmentId, 's0', preferences, T0);
      const [job] = await store.claimJobs('w1', 1, T0, LEASE);
      expect(job?.subscriber?.preferences).toEqual(preferences);
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

    it('lists subscribers by id and finds them by id prefix or email prefix, page by page, in byte order', async () => {
      const { store, environmentId: env, close } = await open();
      const people: [string, string | null][] = [
        ['ann', 'Ann@Example.com'],
        ['anna', 'anna@example.com'],
        ['an\u{10FFFF}', null],
        ['Anton', 'ANTON@example.org'],
        ['bob', 'bob@example.com'],
        ['élise', 'élise@example.com'],
        ['émile', 'Émile@example.com'],
        ['f', 'ann.f@example.net'],
      ];
      for (const [id, email] of people) await store.putSubscriber(env, id, { email }, T0);
      await store.putSubscriber('env_other', 'ann-elsewhere', { email: 'ann@elsewhere.com' }, T0);

      const all = async (search: Omit<SubscriberSearch, 'after' | 'limit'>) => {
        const ids: string[] = [];
        let after: SubscriberSearch['after'];
        for (;;) {
          const page = await store.listSubscribers(env, { ...search, limit: 2, ...(after && { after }) });
          expect(page.items.length).toBeLessThanOrEqual(2);
          ids.push(...page.items.map((s) => s.subscriberId));
          if (page.nextCursor === null) return ids;
          after = search.by === 'id' ? { key: page.nextCursor, id: page.nextCursor } : readEmailCursor(page.nextCursor);
        }
      };
      // Byte order: upper case before lower, U+10FFFF (F4 8F BF BF) after ASCII, é (C3 A9) before it.
      expect(await all({ by: 'id', prefix: '' })).toEqual([
        'Anton',
        'ann',
        'anna',
        'an\u{10FFFF}',
        'bob',
        'f',
        'élise',
        'émile',
      ]);
      expect(await all({ by: 'id', prefix: 'an' })).toEqual(['ann', 'anna', 'an\u{10FFFF}']);
      expect(await all({ by: 'id', prefix: 'ann' })).toEqual(['ann', 'anna']);
      expect(await all({ by: 'id', prefix: 'é' })).toEqual(['élise', 'émile']);
      expect(await all({ by: 'id', prefix: 'an\u{10FFFF}' })).toEqual(['an\u{10FFFF}']);
      expect(await all({ by: 'id', prefix: 'zz' })).toEqual([]);
      // By email: ASCII letters without case, then id; no email, no match.
      expect(await all({ by: 'email', prefix: 'an' })).toEqual(['f', 'ann', 'anna', 'Anton']);
      expect(await all({ by: 'email', prefix: 'ann@' })).toEqual(['ann']);
      expect(await all({ by: 'email', prefix: 'é' })).toEqual(['élise']);
      const first = await store.listSubscribers(env, { by: 'email', prefix: 'ann@', limit: 5 });
      expect(first).toEqual({ items: [await store.getSubscriber(env, 'ann')], nextCursor: null });
      await close();
    });
  });
}
