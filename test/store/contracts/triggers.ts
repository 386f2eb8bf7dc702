import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import type { TriggerPlan } from '../../../src/core/store.js';
import { inline, logPlan, seedWorkflow, T0, type OpenStore } from './fixtures.js';

/** Accepted triggers (TriggerStore): the one commit, its refusals, idempotency records. */
export function describeTriggersContract(name: string, open: OpenStore) {
  describe(`${name} store: triggers`, () => {
    it('keeps an idempotency record for the window only', async () => {
      const { store, environmentId, close } = await open();
      const workflow = await seedWorkflow(store, environmentId);
      const plan: TriggerPlan = {
        environmentId,
        triggerId: newId('trg', T0),
        workflowKey: 'w',
        workflowVersionId: workflow.versionId,
        dataJson: '{}',
        recipients: [],
        messages: [],
        runs: [],
        start: { state: 'completed', stepIndex: 1, dueAt: null },
        sendAt: null,
        cancellationKey: null,
        createdAt: T0,
        idempotency: { key: 'k1', bodyHash: 'h', responseJson: '{"triggerId":"x"}' },
      };
      await store.commitTrigger(plan);
      expect(await store.findIdempotency(environmentId, 'k1', T0)).toEqual({
        bodyHash: 'h',
        responseJson: '{"triggerId":"x"}',
      });
      expect(await store.findIdempotency(environmentId, 'k1', T0 + 1)).toBeUndefined();
      // A second commit with a live key is refused, and nothing of it is written.
      const twin = { ...plan, triggerId: newId('trg', T0) };
      await expect(store.commitTrigger(twin)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT' });
      expect(await store.getTriggerData([twin.triggerId])).toEqual(new Map());
      expect(await store.pruneIdempotency(T0 + 1)).toBe(1);
      await close();
    });

    it('refuses a plan whose bare ids name no subscriber, writing nothing of it', async () => {
      const { store, environmentId: env, close } = await open();
      await store.putSubscriber(env, 'known', {}, T0);
      const plan = await logPlan(
        store,
        env,
        [{ subscriberId: 'ghost-1' }, { subscriberId: 'known' }, ...inline('fresh'), { subscriberId: 'ghost-2' }],
        T0,
        { idempotency: { key: 'k-unknown', bodyHash: 'h', responseJson: '{}' } },
      );
      await expect(store.commitTrigger(plan)).rejects.toMatchObject({
        code: 'UNKNOWN_SUBSCRIBERS',
        status: 422,
        errors: [
          { path: '/to', message: 'no subscriber "ghost-1"' },
          { path: '/to', message: 'no subscriber "ghost-2"' },
        ],
      });
      expect(await store.getSubscriber(env, 'fresh')).toBeUndefined();
      expect(await store.getSubscriber(env, 'ghost-1')).toBeUndefined();
      expect(await store.getTriggerData([plan.triggerId])).toEqual(new Map());
      expect(await store.findIdempotency(env, 'k-unknown', 0)).toBeUndefined();
      expect(await store.messageLogHead(env)).toBe(0);
      expect(await store.claimJobs('w1', 10, T0, 30_000)).toEqual([]);

      // Once they exist, the same plan commits; a bare id creates no one and changes nothing.
      await store.putSubscriber(env, 'ghost-1', { email: 'g1@example.com' }, T0);
      await store.putSubscriber(env, 'ghost-2', {}, T0);
      await store.commitTrigger(plan);
      expect(await store.getSubscriber(env, 'ghost-1')).toMatchObject({ email: 'g1@example.com', updatedAt: T0 });
      expect(await store.getSubscriber(env, 'fresh')).toMatchObject({ subscriberId: 'fresh' });
      expect((await store.listMessagesSince(env, 0, 10)).items).toHaveLength(4);
      // Subscribers are per environment.
      const elsewhere = await logPlan(store, env, [{ subscriberId: 'known' }], T0, { environmentId: 'env_other' });
      await expect(store.commitTrigger(elsewhere)).rejects.toMatchObject({ code: 'UNKNOWN_SUBSCRIBERS' });
      await close();
    });

    it('refuses only the plans with unknown bare ids among triggers committed together', async () => {
      const { store, environmentId: env, close } = await open();
      await store.putSubscriber(env, 'known', {}, T0);
      const good = await logPlan(store, env, [{ subscriberId: 'known' }]);
      const bad = await logPlan(store, env, [{ subscriberId: 'known' }, { subscriberId: 'nobody' }]);
      const alsoGood = await logPlan(store, env, inline('new-one'));
      // Started in one turn: one batch (group commit) on both stores.
      const results = await Promise.allSettled([good, bad, alsoGood].map((plan) => store.commitTrigger(plan)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'UNKNOWN_SUBSCRIBERS' });
      const logged = (await store.listMessagesSince(env, 0, 10)).items.map((m) => m.id);
      expect(logged.sort()).toEqual([good.messages[0]!.id, alsoGood.messages[0]!.id].sort());
      await close();
    });
  });
}
