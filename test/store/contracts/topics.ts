import { describe, expect, it } from 'vitest';
import { FANOUT_PAGE_SIZE, planFanoutPage } from '../../../src/core/fan-out.js';
import { newId } from '../../../src/core/ids.js';
import type { ClaimedFanout } from '../../../src/core/runs.js';
import { planRuns, startOfRuns } from '../../../src/core/run-engine.js';
import type { Store, TriggerPlan } from '../../../src/core/store.js';
import type { Workflow } from '../../../src/core/types.js';
import { LEASE, T0, type OpenStore } from './fixtures.js';
import { saveWorkflow } from './runs.js';

/** Creates subscribers `ids` (with an email), a few hundred at a time. */
export async function createSubscribers(store: Store, env: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 250) {
    await Promise.all(
      ids.slice(i, i + 250).map((id) => store.putSubscriber(env, id, { email: `${id}@example.com` }, T0)),
    );
  }
}

/** `count` ids `<prefix>00000`, `<prefix>00001`, … (byte order is numeric order). */
const ids = (prefix: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(from + i).padStart(5, '0')}`);

/** A trigger as core/trigger-workflow.ts plans one whose `to` names topics (and maybe subscribers directly). */
async function fanoutTrigger(
  store: Store,
  env: string,
  workflow: Workflow,
  topics: string[],
  at: number,
  options: { direct?: string[]; actor?: string; cancellationKey?: string } = {},
): Promise<TriggerPlan> {
  const { start, sendsAtOnce } = startOfRuns(workflow.steps, at, null);
  const { runs, messages } = planRuns(workflow.steps, options.direct ?? [], sendsAtOnce, at);
  const plan: TriggerPlan = {
    environmentId: env,
    triggerId: newId('trg', at),
    workflowKey: workflow.key,
    workflowVersionId: workflow.versionId,
    dataJson: '{}',
    recipients: (options.direct ?? []).map((subscriberId) => ({ subscriberId })),
    messages,
    runs,
    start,
    sendAt: null,
    cancellationKey: options.cancellationKey ?? null,
    actor: options.actor === undefined ? null : { subscriberId: options.actor },
    fanout: { topics },
    createdAt: at,
  };
  await store.commitTrigger(plan);
  return plan;
}

async function claimFanout(store: Store, workerId: string, at: number): Promise<ClaimedFanout | undefined> {
  const timers = await store.claimTimers(workerId, 100, at, LEASE);
  return timers.find((t): t is ClaimedFanout => t.kind === 'fanout');
}

/** Claims the fan-out and writes its pages until it is done; returns how many pages it took. */
async function runFanout(store: Store, workflow: Workflow, at: number): Promise<number> {
  const [version] = await store.getWorkflowVersions([workflow.versionId]);
  for (let pages = 1; ; pages++) {
    const fanout = await claimFanout(store, 'w1', at + pages);
    if (!fanout) throw new Error('no fan-out to claim');
    const page = planFanoutPage(fanout, version, 'w1', at + pages);
    await store.advanceFanouts([page], at + pages);
    if (page.done) return pages;
  }
}

/** Every run of the trigger, by subscriber id. */
async function allRuns(store: Store, env: string, triggerId: string) {
  const runs: { subscriberId: string; messages: { id: string; status: string }[] }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const trigger = await store.getTrigger(env, triggerId, { limit: 1000, cursor });
    runs.push(...trigger!.runs.items);
    if (!trigger!.runs.nextCursor) return runs;
    cursor = trigger!.runs.nextCursor;
  }
}

const webhook = [{ type: 'webhook' as const, url: 'https://example.com/hook' }];

/** Topics (TopicStore) and topic fan-out (RunStore.claimTimers and advanceFanouts) on every store. */
export function describeTopicsContract(name: string, open: OpenStore) {
  describe(`${name} store: topics`, () => {
    it('creates, renames, lists, reads and deletes topics, each environment its own', async () => {
      const { store, environmentId: env, close } = await open();
      expect(await store.putTopic(env, 'b-watchers', undefined, T0)).toEqual({
        topic: { key: 'b-watchers', name: 'b-watchers', createdAt: T0, updatedAt: T0 },
        created: true,
      });
      expect((await store.putTopic(env, 'A', 'Team A', T0 + 1)).created).toBe(true);
      expect(await store.putTopic(env, 'b-watchers', 'Watchers of B', T0 + 2)).toEqual({
        topic: { key: 'b-watchers', name: 'Watchers of B', createdAt: T0, updatedAt: T0 + 2 },
        created: false,
      });
      // No name: an existing topic keeps its own.
      expect((await store.putTopic(env, 'b-watchers', undefined, T0 + 3)).topic).toMatchObject({
        name: 'Watchers of B',
        updatedAt: T0 + 2,
      });
      await store.putTopic(env, 'c', undefined, T0);
      const first = await store.listTopics(env, 2);
      expect(first.items.map((t) => t.key)).toEqual(['A', 'b-watchers']);
      expect(first.nextCursor).toBe('b-watchers');
      expect(await store.listTopics(env, 2, 'b-watchers')).toMatchObject({ items: [{ key: 'c' }], nextCursor: null });
      expect(await store.getTopic(env, 'A')).toEqual({
        key: 'A',
        name: 'Team A',
        createdAt: T0 + 1,
        updatedAt: T0 + 1,
        subscriberCount: 0,
      });
      expect(await store.getTopic('env_other', 'A')).toBeUndefined();
      expect((await store.listTopics('env_other', 10)).items).toEqual([]);
      expect(await store.deleteTopic('env_other', 'A')).toBe(false);
      expect(await store.deleteTopic(env, 'A')).toBe(true);
      expect(await store.deleteTopic(env, 'A')).toBe(false);
      expect(await store.getTopic(env, 'A')).toBeUndefined();
      await close();
    });

    it('adds and removes members idempotently, refusing unknown subscribers whole', async () => {
      const { store, environmentId: env, close } = await open();
      await createSubscribers(store, env, ['ann', 'bob', 'cy']);
      // Unknown ids: nothing is added, and the topic is not created.
      await expect(store.addTopicSubscribers(env, 't', ['ann', 'ghost-1', 'bob', 'ghost-2'], T0)).rejects.toMatchObject(
        {
          code: 'UNKNOWN_SUBSCRIBERS',
          status: 422,
          errors: [
            { path: '/subscriberIds', message: 'no subscriber "ghost-1"' },
            { path: '/subscriberIds', message: 'no subscriber "ghost-2"' },
          ],
        },
      );
      expect(await store.getTopic(env, 't')).toBeUndefined();
      // The first add creates the topic; adding again, or twice in one call, changes nothing.
      expect(await store.addTopicSubscribers(env, 't', ['bob', 'ann', 'bob'], T0)).toEqual({ added: 2, created: true });
      expect(await store.addTopicSubscribers(env, 't', ['ann', 'cy'], T0 + 5)).toEqual({ added: 1, created: false });
      expect(await store.getTopic(env, 't')).toMatchObject({ name: 't', subscriberCount: 3 });
      const page = await store.listTopicSubscribers(env, 't', 2);
      expect(page).toEqual({
        items: [
          { subscriberId: 'ann', addedAt: T0 },
          { subscriberId: 'bob', addedAt: T0 },
        ],
        nextCursor: 'bob',
      });
      expect(await store.listTopicSubscribers(env, 't', 2, 'bob')).toEqual({
        items: [{ subscriberId: 'cy', addedAt: T0 + 5 }],
        nextCursor: null,
      });
      expect(await store.listTopicSubscribers(env, 'none', 2)).toBeUndefined();
      expect(await store.listTopicSubscribers('env_other', 't', 2)).toBeUndefined();
      await store.addTopicSubscribers(env, 'u', ['ann'], T0);
      expect(await store.listSubscriberTopics(env, 'ann')).toEqual(['t', 'u']);
      expect(await store.listSubscriberTopics('env_other', 'ann')).toEqual([]);

      expect(await store.removeTopicSubscribers(env, 't', ['ann', 'ghost', 'ann'])).toEqual({ removed: 1 });
      expect(await store.removeTopicSubscribers(env, 't', ['ann'])).toEqual({ removed: 0 });
      expect(await store.removeTopicSubscribers(env, 'none', ['ann'])).toBeUndefined();
      expect(await store.listSubscriberTopics(env, 'ann')).toEqual(['u']);
      expect((await store.getTopic(env, 't'))?.subscriberCount).toBe(2);
      await close();
    });

    it("deletes a subscriber's memberships with them, and a topic's with it", async () => {
      const { store, environmentId: env, close } = await open();
      await createSubscribers(store, env, ['ann', 'bob']);
      await store.addTopicSubscribers(env, 't', ['ann', 'bob'], T0);
      await store.addTopicSubscribers(env, 'u', ['ann'], T0);
      expect(await store.deleteSubscriber(env, 'ann')).toBe(true);
      expect((await store.getTopic(env, 't'))?.subscriberCount).toBe(1);
      expect((await store.getTopic(env, 'u'))?.subscriberCount).toBe(0);
      expect((await store.listTopicSubscribers(env, 't', 10))?.items.map((m) => m.subscriberId)).toEqual(['bob']);
      // Re-created, they are in no topic.
      await store.putSubscriber(env, 'ann', {}, T0 + 1);
      expect(await store.listSubscriberTopics(env, 'ann')).toEqual([]);
      expect(await store.deleteTopic(env, 't')).toBe(true);
      expect(await store.listSubscriberTopics(env, 'bob')).toEqual([]);
      // The topic comes back empty.
      await store.putTopic(env, 't', undefined, T0 + 2);
      expect((await store.getTopic(env, 't'))?.subscriberCount).toBe(0);
      await close();
    });
  });

  describe(`${name} store: topic fan-out`, () => {
    it('refuses a trigger naming a topic that does not exist, writing nothing of it', async () => {
      const { store, environmentId: env, close } = await open();
      const workflow = await saveWorkflow(store, env, 'hook', webhook);
      await store.putTopic(env, 'known', undefined, T0);
      await store.putSubscriber(env, 'ann', {}, T0);
      const plan = fanoutTrigger(store, env, workflow, ['known', 'ghost-1', 'ghost-2'], T0, { direct: ['ann'] });
      await expect(plan).rejects.toMatchObject({
        code: 'UNKNOWN_TOPICS',
        status: 422,
        errors: [
          { path: '/to', message: 'no topic "ghost-1"' },
          { path: '/to', message: 'no topic "ghost-2"' },
        ],
      });
      expect(await store.claimTimers('w1', 10, T0 + 1, LEASE)).toEqual([]);
      expect(await store.claimJobs('w1', 10, T0 + 1, LEASE)).toEqual([]);
      await close();
    });

    it('starts every member of the topics once, page by page, after the direct recipients', async () => {
      const { store, environmentId: env, close } = await open();
      const workflow = await saveWorkflow(store, env, 'hook', webhook);
      // 1,500 in topic a, 1,000 in topic b of which 500 are in a too: 2,000 members in all.
      const a = ids('m', 1500);
      const b = ids('m', 1000, 1000);
      await createSubscribers(store, env, ids('m', 2000));
      await store.addTopicSubscribers(env, 'a', a, T0);
      await store.addTopicSubscribers(env, 'b', b, T0);
      const plan = await fanoutTrigger(store, env, workflow, ['a', 'b'], T0, { direct: ['m01999', 'm00007'] });
      // The direct recipients' runs and jobs are written with the trigger.
      expect(await store.getTrigger(env, plan.triggerId, { limit: 10 })).toMatchObject({
        actor: null,
        fanout: { topics: ['a', 'b'], state: 'running', recipients: 2, finishedAt: null },
        runs: { items: [{ subscriberId: 'm00007' }, { subscriberId: 'm01999' }] },
      });

      const first = await claimFanout(store, 'w1', T0 + 1);
      expect(first).toMatchObject({
        kind: 'fanout',
        timerId: plan.triggerId,
        triggerId: plan.triggerId,
        environmentId: env,
        workflowKey: 'hook',
        workflowVersionId: workflow.versionId,
        sendAt: null,
        actorId: null,
        cursor: '',
      });
      expect(first!.members).toEqual(ids('m', FANOUT_PAGE_SIZE));
      // Held: no one else claims it until the lease runs out.
      expect(await claimFanout(store, 'w2', T0 + 2)).toBeUndefined();
      const [version] = await store.getWorkflowVersions([workflow.versionId]);
      const page = planFanoutPage(first!, version, 'w1', T0 + 3);
      expect(await store.advanceFanouts([page], T0 + 3)).toEqual({ runs: 999, messages: 999, queued: 999 });
      // The same page again (a worker that lost its lease, or planned from an old cursor) writes nothing.
      expect(await store.advanceFanouts([page], T0 + 4)).toEqual({ runs: 0, messages: 0, queued: 0 });
      expect((await store.getTrigger(env, plan.triggerId, { limit: 1 }))?.fanout).toMatchObject({
        state: 'running',
        recipients: 1001,
      });

      const second = await claimFanout(store, 'w2', T0 + 5);
      expect(second?.cursor).toBe('m00999');
      expect(second?.members).toEqual(ids('m', 1000, 1000));
      const secondPage = planFanoutPage(second!, version, 'w2', T0 + 6);
      expect(secondPage.done).toBe(false);
      await store.advanceFanouts([secondPage], T0 + 6);
      const last = await claimFanout(store, 'w1', T0 + 7);
      expect(last?.members).toEqual([]);
      const lastPage = planFanoutPage(last!, version, 'w1', T0 + 8);
      expect(lastPage.done).toBe(true);
      await store.advanceFanouts([lastPage], T0 + 8);
      expect(await store.claimTimers('w1', 10, T0 + LEASE * 10, LEASE)).toEqual([]);

      const details = await store.getTrigger(env, plan.triggerId, { limit: 1 });
      expect(details?.fanout).toEqual({ topics: ['a', 'b'], state: 'done', recipients: 2000, finishedAt: T0 + 8 });
      const runs = await allRuns(store, env, plan.triggerId);
      expect(runs.map((run) => run.subscriberId)).toEqual(ids('m', 2000));
      expect(runs.every((run) => run.messages.length === 1 && run.messages[0]!.status === 'queued')).toBe(true);
      // One job per member, the direct ones included.
      const jobs = await store.claimJobs('j', 5000, T0 + 10, LEASE);
      expect(new Set(jobs.map((job) => job.subscriber?.subscriberId)).size).toBe(2000);
      expect(jobs).toHaveLength(2000);
      await close();
    });

    it('leaves the actor out, whichever page they fall in', async () => {
      const { store, environmentId: env, close } = await open();
      const workflow = await saveWorkflow(store, env, 'hook', webhook);
      await createSubscribers(store, env, ['ann', 'bob', 'cy']);
      await store.addTopicSubscribers(env, 't', ['ann', 'bob', 'cy'], T0);
      const plan = await fanoutTrigger(store, env, workflow, ['t'], T0, { actor: 'bob' });
      expect(await runFanout(store, workflow, T0)).toBe(1);
      const details = await store.getTrigger(env, plan.triggerId, { limit: 10 });
      expect(details?.actor).toBe('bob');
      expect(details?.fanout).toMatchObject({ state: 'done', recipients: 2 });
      expect(details?.runs.items.map((run) => run.subscriberId)).toEqual(['ann', 'cy']);
      await close();
    });

    it('ends a fan-out of an empty topic at its first page, and stops one that is canceled', async () => {
      const { store, environmentId: env, close } = await open();
      const workflow = await saveWorkflow(store, env, 'hook', webhook);
      await store.putTopic(env, 'empty', undefined, T0);
      const empty = await fanoutTrigger(store, env, workflow, ['empty'], T0);
      expect(await runFanout(store, workflow, T0)).toBe(1);
      expect((await store.getTrigger(env, empty.triggerId, { limit: 1 }))?.fanout).toMatchObject({
        state: 'done',
        recipients: 0,
      });

      await createSubscribers(store, env, ids('c', 1200));
      await store.addTopicSubscribers(env, 'many', ids('c', 1200), T0);
      const plan = await fanoutTrigger(store, env, workflow, ['many'], T0 + 10, { cancellationKey: 'k' });
      const claimed = await claimFanout(store, 'w1', T0 + 11);
      const [version] = await store.getWorkflowVersions([workflow.versionId]);
      await store.advanceFanouts([planFanoutPage(claimed!, version, 'w1', T0 + 12)], T0 + 12);
      const next = await claimFanout(store, 'w1', T0 + 13);
      // Canceled while a worker plans the next page: that page is dropped, and no more come.
      const canceled = await store.cancelRuns(env, 'k', undefined, T0 + 14);
      expect(canceled.runs).toBe(0); // the webhook runs were done at their start; their messages are not
      expect(canceled.messages).toBe(1000);
      expect(await store.advanceFanouts([planFanoutPage(next!, version, 'w1', T0 + 15)], T0 + 15)).toEqual({
        runs: 0,
        messages: 0,
        queued: 0,
      });
      expect(await store.claimTimers('w1', 10, T0 + LEASE * 10, LEASE)).toEqual([]);
      expect((await store.getTrigger(env, plan.triggerId, { limit: 1 }))?.fanout).toMatchObject({
        state: 'canceled',
        recipients: 1000,
        finishedAt: T0 + 14,
      });
      await close();
    });
  });
}
