import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import type { MessageFilter, Store, TriggerPlan } from '../../../src/core/store.js';
import type { Message } from '../../../src/core/types.js';
import {
  inline,
  LEASE,
  logPlan,
  seedMessages,
  seedWorkflow,
  sent,
  T0,
  workflowVersion,
  type OpenStore,
} from './fixtures.js';

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

/** The delivery log (DeliveryLogStore): pages, the seq-ordered log (`GET /v1/messages?since=`), retention and dev mail. */
export function describeDeliveryLogContract(name: string, open: OpenStore) {
  describe(`${name} store: delivery log`, () => {
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

    it('prunes finished messages past retention in bounded batches, and later those that were unfinished', async () => {
      const { store, environmentId: env, close } = await open();
      const DAY = 86_400_000;
      await seedMessages(store, env, 5, T0);
      await seedMessages(store, env, 1, T0 + 1);
      const [retrying, failed, ...sentJobs] = await store.claimJobs('w1', 5, T0, LEASE);
      await store.completeJobs([
        ...sentJobs.map((job) => sent(job, T0 + 5, '250 ok', 'old', 5)),
        {
          jobId: failed!.jobId,
          workerId: 'w1',
          messageId: failed!.messageId,
          at: T0 + 5,
          attempts: [{ outcome: 'failed', detail: '550 no such user', durationMs: 5 }],
          status: 'failed',
          reason: '550 no such user',
        },
        {
          jobId: retrying!.jobId,
          workerId: 'w1',
          messageId: retrying!.messageId,
          at: T0 + 5,
          attempts: [{ outcome: 'retry', detail: '451 later', durationMs: 5 }],
          status: 'retrying',
          reason: '451 later',
          retryAt: T0 + 2 * DAY,
        },
      ]);
      // A day later: the message made at T0 + 1 is in flight, a new one is sent.
      await seedMessages(store, env, 1, T0 + DAY);
      const [inFlight, recent] = await store.claimJobs('w1', 2, T0 + DAY, LEASE);
      await store.completeJobs([sent(recent!, T0 + DAY, '250 ok', 'new', 5)]);
      const mail = (messageId: string, at: number) => ({
        id: newId('mail', at),
        environmentId: env,
        messageId,
        from: 'a@example.com',
        to: 'b@example.com',
        subject: 's',
        html: null,
        text: 't',
        headers: {},
        createdAt: at,
      });
      await store.addDevMail(mail(sentJobs[0]!.messageId, T0 + 5));
      await store.addDevMail(mail(recent!.messageId, T0 + DAY));
      const finishedOld = [...sentJobs, failed!].map((job) => job.messageId);
      const prunedCount = async () =>
        (await Promise.all(finishedOld.map((id) => store.getMessage(env, id)))).filter((m) => m?.attempts.length === 0)
          .length;

      // Six messages were made before T0 + 1000; each batch walks at most two.
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await prunedCount()).toBeLessThanOrEqual(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(0);
      expect(await prunedCount()).toBe(4);

      for (const job of sentJobs) {
        expect(await store.getMessage(env, job.messageId)).toMatchObject({
          status: 'sent',
          recipient: null,
          subject: null,
          content: null,
          attempts: [],
          attemptCount: 1,
          sentAt: T0 + 5,
        });
      }
      expect(await store.getMessage(env, failed!.messageId)).toMatchObject({
        status: 'failed',
        reason: '550 no such user',
        attempts: [],
        attemptCount: 1,
      });
      // Unfinished and recent messages keep everything.
      expect((await store.getMessage(env, retrying!.messageId))?.attempts).toHaveLength(1);
      expect(await store.getMessage(env, inFlight!.messageId)).toMatchObject({ status: 'sending' });
      expect(await store.getMessage(env, recent!.messageId)).toMatchObject({
        subject: 'new',
        content: { html: null, text: 'body of new' },
        attempts: [{ outcome: 'sent' }],
      });
      expect((await store.listDevMail(env, 10)).items.map((m) => m.messageId)).toEqual([recent!.messageId]);

      // Once the messages the walk passed unfinished have finished, the next batch prunes them.
      const late = await store.claimJobs('w1', 5, T0 + 2 * DAY, LEASE);
      expect(late.map((job) => job.messageId).sort()).toEqual([inFlight!.messageId, retrying!.messageId].sort());
      await store.completeJobs(late.map((job) => sent(job, T0 + 2 * DAY, '250 ok', 'late', 5)));
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(0);
      for (const job of late) {
        expect(await store.getMessage(env, job.messageId)).toMatchObject({
          status: 'sent',
          content: null,
          attempts: [],
        });
      }
      expect((await store.getMessage(env, recent!.messageId))?.attempts).toHaveLength(1);
      await close();
    });

    it('lists messages newest first and pages without repeats', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 3, T0);
      await seedMessages(store, environmentId, 2, T0 + 1_000);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listMessages(environmentId, { limit: 2, cursor });
        seen.push(...page.items.map((m) => m.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toHaveLength(5);
      expect([...seen].sort().reverse()).toEqual(seen);
      await close();
    });

    it('marks a test trigger and its messages, hands the mark to the claim, and filters the log on it', async () => {
      const { store, environmentId: env, close } = await open();
      const plans = [
        await logPlan(store, env, inline('a', 'b'), T0),
        await logPlan(store, env, inline('c'), T0 + 1, { test: true }),
        await logPlan(store, env, inline('d'), T0 + 2),
        await logPlan(store, env, inline('e', 'f'), T0 + 3, { test: true }),
      ];
      for (const plan of plans) await store.commitTrigger(plan);
      const ids = (marked: boolean) =>
        plans
          .filter((plan) => (plan.test === true) === marked)
          .flatMap((plan) => plan.messages.map((m) => m.id))
          .sort()
          .reverse(); // newest first: by id
      const pages = async (filter: Omit<MessageFilter, 'limit' | 'cursor'>) => {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listMessages(env, { ...filter, limit: 2, cursor });
          seen.push(...page.items.map((m) => m.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return seen;
      };
      expect(await pages({ test: true })).toEqual(ids(true));
      expect(await pages({ test: false })).toEqual(ids(false));
      expect(await pages({ test: true, subscriberId: 'e' })).toEqual([plans[3]!.messages[0]!.id]);
      expect(await pages({ test: false, triggerId: plans[1]!.triggerId })).toEqual([]);
      expect((await store.getMessage(env, plans[1]!.messages[0]!.id))?.test).toBe(true);
      expect((await store.getMessage(env, plans[0]!.messages[0]!.id))?.test).toBe(false);
      expect((await store.getTrigger(env, plans[3]!.triggerId, { limit: 10 }))?.test).toBe(true);
      expect((await store.getTrigger(env, plans[2]!.triggerId, { limit: 10 }))?.test).toBe(false);
      const claimed = await store.claimJobs('w1', 10, T0 + 10, LEASE);
      expect(new Map(claimed.map((job) => [job.messageId, job.test]))).toEqual(
        new Map(plans.flatMap((plan) => plan.messages.map((m) => [m.id, plan.test === true]))),
      );
      await close();
    });

    it('lists messages by workflow and by channel, alone and combined, across pages', async () => {
      const { store, environmentId: env, close } = await open();
      const w = (await seedWorkflow(store, env)).versionId;
      const v = await store.putWorkflow(
        env,
        { key: 'v', name: 'V', steps: [{ type: 'sms', text: 't' }], versionId: newId('wfv', T0) },
        T0,
      );
      // Triggers of w (email) and v (sms, then in_app) alternate, so every filter skips rows between its own.
      for (let i = 0; i < 6; i++) {
        const [workflowKey, workflowVersionId] = i % 2 === 0 ? ['w', w] : ['v', v.versionId];
        const channels = i % 2 === 0 ? (['email'] as const) : (['sms', 'in_app'] as const);
        const at = T0 + i * 1_000;
        await store.commitTrigger({
          environmentId: env,
          triggerId: newId('trg', at),
          workflowKey,
          workflowVersionId,
          dataJson: '{}',
          recipients: ['s0', 's1'].map((subscriberId) => ({ subscriberId, fields: {} })),
          messages: ['s0', 's1'].flatMap((subscriberId) =>
            channels.map((channel, stepIndex) => ({
              id: newId('msg', at),
              subscriberId,
              stepIndex,
              channel,
              status: 'queued' as const,
            })),
          ),
          runs: [],
          start: { state: 'completed', stepIndex: channels.length, dueAt: null },
          sendAt: null,
          cancellationKey: null,
          createdAt: at,
        });
      }
      const all = (await store.listMessages(env, { limit: 100 })).items;
      expect(all).toHaveLength(18);
      const walk = async (filter: Omit<MessageFilter, 'limit' | 'cursor'>) => {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listMessages(env, { ...filter, limit: 2, cursor });
          seen.push(...page.items.map((m) => m.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return seen;
      };
      const cases: [Omit<MessageFilter, 'limit' | 'cursor'>, (m: Message) => boolean][] = [
        [{ workflow: 'w' }, (m) => m.workflowKey === 'w'],
        [{ workflow: 'v' }, (m) => m.workflowKey === 'v'],
        [{ channel: 'sms' }, (m) => m.channel === 'sms'],
        [{ channel: 'in_app', subscriberId: 's1' }, (m) => m.channel === 'in_app' && m.subscriberId === 's1'],
        [{ workflow: 'v', channel: 'in_app' }, (m) => m.workflowKey === 'v' && m.channel === 'in_app'],
        [{ workflow: 'v', status: 'queued' }, (m) => m.workflowKey === 'v'],
        [{ workflow: 'w', channel: 'sms' }, () => false],
        [{ workflow: 'v', status: 'sent' }, () => false],
      ];
      for (const [filter, wanted] of cases) {
        expect(await walk(filter), JSON.stringify(filter)).toEqual(all.filter(wanted).map((m) => m.id));
      }
      expect((await store.listMessages('env_other', { workflow: 'w', channel: 'email', limit: 10 })).items).toEqual([]);
      await close();
    });

    it('scopes data by environment', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 1);
      expect(await store.getMessage('env_other', plan.messages[0]!.id)).toBeUndefined();
      expect((await store.listMessages('env_other', { limit: 10 })).items).toEqual([]);
      expect(await store.getWorkflow('env_other', 'w')).toBeUndefined();
      await close();
    });
  });
}
