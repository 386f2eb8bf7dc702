import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import type { RecipientUpsert, Store, TriggerPlan } from '../../../src/core/store.js';
import type { OpenedStore } from './jobs.js';

const T0 = 1_800_000_000_000;

async function workflowVersion(store: Store, env: string): Promise<string> {
  const workflow =
    (await store.getWorkflow(env, 'log')) ??
    (await store.putWorkflow(
      env,
      { key: 'log', name: 'Log', steps: [{ type: 'email', subject: 's', text: 't' }], versionId: newId('wfv', T0) },
      T0,
    ));
  return workflow.versionId;
}

/** A plan with one message per recipient; its ids carry the time `at`. */
export async function logPlan(
  store: Store,
  env: string,
  recipients: RecipientUpsert[],
  at = T0,
  extra: Partial<TriggerPlan> = {},
): Promise<TriggerPlan> {
  return {
    environmentId: env,
    triggerId: newId('trg', at),
    workflowKey: 'log',
    workflowVersionId: await workflowVersion(store, env),
    dataJson: '{}',
    recipients,
    messages: recipients.map((r) => ({
      id: newId('msg', at),
      subscriberId: r.subscriberId,
      stepIndex: 0,
      channel: 'email' as const,
      status: 'queued' as const,
    })),
    runs: recipients.map((r) => ({ id: newId('run', at), subscriberId: r.subscriberId })),
    start: { state: 'completed', stepIndex: 1, dueAt: null },
    sendAt: null,
    cancellationKey: null,
    createdAt: at,
    ...extra,
  };
}

/** Recipients with fields: created by the trigger itself. */
export const inline = (...ids: string[]): RecipientUpsert[] =>
  ids.map((subscriberId) => ({ subscriberId, fields: {} }));

/** Reads the whole log after `since`, `limit` at a time. */
export async function readLog(store: Store, env: string, since = 0, limit = 2) {
  const items: { id: string; seq: number | null }[] = [];
  for (;;) {
    const page = await store.listMessagesSince(env, since, limit);
    items.push(...page.items.map(({ id, seq }) => ({ id, seq })));
    if (page.items.length === 0) expect(page.nextSince).toBe(since);
    since = page.nextSince;
    if (page.items.length < limit) return { items, since };
  }
}

/** The message log (`GET /v1/messages?since=`) and the existence check on bare recipients, on every store. */
export function describeMessageLogContract(name: string, open: () => Promise<OpenedStore>) {
  describe(`${name} store: message log`, () => {
    it('numbers messages in commit order, whatever their ids, and follows the log from any seq', async () => {
      const { store, environmentId: env, close } = await open();
      expect(await store.messageLogHead(env)).toBe(0);
      expect(await store.listMessagesSince(env, 0, 10)).toEqual({ items: [], nextSince: 0 });
      // Committed in this order; the second and third carry earlier times, so their ids sort first.
      const plans = [
        await logPlan(store, env, inline('a', 'b'), T0 + 10),
        await logPlan(store, env, inline('c'), T0 + 5),
        await logPlan(store, env, inline('d', 'e', 'f'), T0),
      ];
      for (const plan of plans) await store.commitTrigger(plan);
      const committed = plans.flatMap((plan) => plan.messages.map((m) => m.id));

      const { items, since } = await readLog(store, env);
      expect(items.map((m) => m.id)).toEqual(committed);
      const seqs = items.map((m) => m.seq!);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
      expect(since).toBe(seqs.at(-1));
      expect(await store.messageLogHead(env)).toBe(since);
      // From the middle, and from the end.
      expect((await readLog(store, env, seqs[2]!, 10)).items.map((m) => m.id)).toEqual(committed.slice(3));
      expect(await store.listMessagesSince(env, since, 10)).toEqual({ items: [], nextSince: since });
      // Every message read elsewhere carries its seq.
      expect((await store.getMessage(env, committed[0]!))?.seq).toBe(seqs[0]);
      expect((await store.listMessages(env, { limit: 10 })).items.map((m) => m.seq).sort()).toEqual([...seqs].sort());

      const later = await logPlan(store, env, inline('g'), T0 - 1_000);
      await store.commitTrigger(later);
      expect((await store.listMessagesSince(env, since, 10)).items.map((m) => m.id)).toEqual([later.messages[0]!.id]);
      // Another environment's log is its own.
      expect(await store.listMessagesSince('env_other', 0, 10)).toEqual({ items: [], nextSince: 0 });
      expect(await store.messageLogHead('env_other')).toBe(0);
      await close();
    });

    it('gives a follower every message exactly once while triggers commit concurrently', async () => {
      const { store, environmentId: env, close } = await open();
      await workflowVersion(store, env);
      const plans: TriggerPlan[] = [];
      let writing = true;
      const writers = Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; i < 25; i++) {
          // Ids from a clock that runs backwards: id order is the reverse of commit order.
          const plan = await logPlan(store, env, inline(`w${w}-${i % 3}`, `x${i}`), T0 - i * 10 - w);
          plans.push(plan);
          await store.commitTrigger(plan);
        }
      });
      const seen: { id: string; seq: number | null }[] = [];
      const follow = (async () => {
        let since = 0;
        for (;;) {
          const done = !writing;
          const page = await store.listMessagesSince(env, since, 7);
          seen.push(...page.items.map(({ id, seq }) => ({ id, seq })));
          since = page.nextSince;
          if (done && page.items.length === 0) return;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await Promise.all(writers);
      writing = false;
      await follow;

      const all = plans.flatMap((plan) => plan.messages.map((m) => m.id));
      expect(seen.map((m) => m.id).sort()).toEqual([...all].sort());
      expect(new Set(seen.map((m) => m.id)).size).toBe(seen.length);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq!).toBeGreaterThan(seen[i - 1]!.seq!);
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
