import { describe, expect, it } from 'vitest';
import type { InboxCounts, InboxEvent, InboxItem } from '../../../src/core/inbox.js';
import { newId } from '../../../src/core/ids.js';
import type { ClaimedJob, JobCompletion, Store } from '../../../src/core/store.js';
import type { OpenStore } from './fixtures.js';

const T0 = 1_800_000_000_000;
const LEASE = 30_000;

async function inboxWorkflow(store: Store, env: string) {
  return (
    (await store.getWorkflow(env, 'inbox')) ??
    (await store.putWorkflow(
      env,
      { key: 'inbox', name: 'Inbox', steps: [{ type: 'in_app', body: 'Hello' }], versionId: newId('wfv', T0) },
      T0,
    ))
  );
}

/**
 * Triggers one in-app message per entry of `subscriberIds`, each at its own millisecond from `at`
 * (so their ids sort in that order), and claims them. Jobs come back in id order.
 */
export async function claimInApp(store: Store, env: string, subscriberIds: string[], at = T0): Promise<ClaimedJob[]> {
  const workflow = await inboxWorkflow(store, env);
  for (const [i, subscriberId] of subscriberIds.entries()) {
    await store.commitTrigger({
      environmentId: env,
      triggerId: newId('trg', at + i),
      workflowKey: 'inbox',
      workflowVersionId: workflow.versionId,
      dataJson: '{}',
      recipients: [{ subscriberId, fields: { name: subscriberId } }],
      messages: [{ id: newId('msg', at + i), subscriberId, stepIndex: 0, channel: 'in_app', status: 'queued' }],
      runs: [{ id: newId('run', at + i), subscriberId }],
      start: { state: 'completed', stepIndex: 1, dueAt: null },
      sendAt: null,
      cancellationKey: null,
      createdAt: at + i,
    });
  }
  const jobs = await store.claimJobs('w1', subscriberIds.length, at + subscriberIds.length, LEASE);
  expect(jobs).toHaveLength(subscriberIds.length);
  return jobs.sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
}

/** The completion a worker records for an in-app step: the message is sent with its item. */
export function inAppSent(job: ClaimedJob, at: number, body = 'Hello', workerId = 'w1'): JobCompletion {
  const subscriberId = job.subscriber!.subscriberId;
  return {
    jobId: job.jobId,
    workerId,
    messageId: job.messageId,
    at,
    attempts: [
      { outcome: 'sent', detail: 'added to the inbox', durationMs: 0, integrationId: null, provider: 'in_app' },
    ],
    status: 'sent',
    reason: null,
    recipient: subscriberId,
    subject: 'Hi',
    content: { html: null, text: body },
    inboxItem: {
      environmentId: job.environmentId,
      subscriberId,
      item: {
        id: job.messageId,
        workflowKey: job.workflowKey,
        title: 'Hi',
        body,
        actionUrl: '/orders/1',
        avatarUrl: null,
        data: { order: 1 },
        createdAt: at,
      },
    },
  };
}

/** Adds one item per entry of `subscriberIds`, in one batch; returns the items' ids and the events. */
async function addItems(store: Store, env: string, subscriberIds: string[], at = T0) {
  const jobs = await claimInApp(store, env, subscriberIds, at);
  const events = await store.completeJobs(jobs.map((job) => inAppSent(job, at + 100)));
  return { ids: jobs.map((job) => job.messageId), events };
}

const counts = (total: number, unread: number, unseen: number): InboxCounts => ({ total, unread, unseen });

/** The inbox part of the Store contract: items, their states and counts, events and settings. */
export function describeInboxContract(name: string, open: OpenStore) {
  describe(`${name} store: in-app inbox`, () => {
    it('adds an item with the first event of its feed, and only once', async () => {
      const { store, environmentId: env, close } = await open();
      const [job] = await claimInApp(store, env, ['alice']);
      // w1's lease runs out mid-delivery and w2 takes the job over.
      const [again] = await store.claimJobs('w2', 1, T0 + LEASE + 10, LEASE);
      expect(again?.jobId).toBe(job!.jobId);

      const events = await store.completeJobs([inAppSent(job!, T0 + 100)]);
      const item: InboxItem = {
        id: job!.messageId,
        workflowKey: 'inbox',
        title: 'Hi',
        body: 'Hello',
        actionUrl: '/orders/1',
        avatarUrl: null,
        data: { order: 1 },
        createdAt: T0 + 100,
        seenAt: null,
        readAt: null,
        archivedAt: null,
      };
      const created: InboxEvent = {
        environmentId: env,
        subscriberId: 'alice',
        seq: 1,
        type: 'item.created',
        item,
        counts: counts(1, 1, 1),
        at: T0 + 100,
      };
      expect(events).toEqual([created]);
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(1, 1, 1), seq: 1 });
      expect(await store.listInboxItems(env, 'alice', { status: 'all', limit: 10 })).toEqual({
        items: [item],
        nextCursor: null,
      });
      expect(await store.listInboxEvents(env, 'alice', 0, 10)).toEqual([created]);
      expect(await store.getMessage(env, job!.messageId)).toMatchObject({ status: 'sent', attemptCount: 1 });
      await store.changeInboxItem(env, 'alice', item.id, 'read', T0 + 200);

      // w2 delivers it again: the item is there already, and the message keeps following it.
      expect(await store.completeJobs([inAppSent(again!, T0 + 300, 'Hello again', 'w2')])).toEqual([]);
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(1, 0, 0), seq: 2 });
      const items = await store.listInboxItems(env, 'alice', { status: 'all', limit: 10 });
      expect(items.items).toMatchObject([{ id: item.id, body: 'Hello', readAt: T0 + 200 }]);
      const message = await store.getMessage(env, job!.messageId);
      expect(message).toMatchObject({ status: 'read', attemptCount: 1 });
      expect(message?.attempts).toHaveLength(1);
      expect(await store.queueStats(T0 + 10 * LEASE)).toEqual({ depth: 0, oldestDueAgeMs: 0 });
      await close();
    });

    it('adds a message completed twice in one batch once', async () => {
      const { store, environmentId: env, close } = await open();
      const [job] = await claimInApp(store, env, ['alice']);
      const events = await store.completeJobs([inAppSent(job!, T0 + 100), inAppSent(job!, T0 + 101, 'Twice', 'w2')]);
      expect(events.map((event) => [event.seq, event.item?.body])).toEqual([[1, 'Hello']]);
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(1, 1, 1), seq: 1 });
      expect(await store.getMessage(env, job!.messageId)).toMatchObject({ status: 'sent', attemptCount: 1 });
      await close();
    });

    it('gives items of one batch consecutive seqs per subscriber, each with its own counts', async () => {
      const { store, environmentId: env, close } = await open();
      await addItems(store, env, ['alice']);
      const { ids, events } = await addItems(store, env, ['alice', 'bob', 'alice', 'alice'], T0 + 1_000);
      expect(events.map((event) => [event.subscriberId, event.seq, event.item?.id, event.counts])).toEqual([
        ['alice', 2, ids[0], counts(2, 2, 2)],
        ['bob', 1, ids[1], counts(1, 1, 1)],
        ['alice', 3, ids[2], counts(3, 3, 3)],
        ['alice', 4, ids[3], counts(4, 4, 4)],
      ]);
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(4, 4, 4), seq: 4 });
      expect(await store.getInboxCounts(env, 'bob')).toEqual({ counts: counts(1, 1, 1), seq: 1 });
      expect(await store.listInboxEvents(env, 'alice', 1, 10)).toEqual(
        events.filter((e) => e.subscriberId === 'alice'),
      );
      await close();
    });

    it('moves an item through every action, with its counts, events and message status', async () => {
      const { store, environmentId: env, close } = await open();
      const {
        ids: [id],
      } = await addItems(store, env, ['alice']);
      let seq = 1;
      let at = T0 + 1_000;
      const step = async (
        action: 'read' | 'unread' | 'seen' | 'archive' | 'unarchive',
        expected: { states: Pick<InboxItem, 'seenAt' | 'readAt' | 'archivedAt'>; counts: InboxCounts; status: string },
        changes: boolean,
      ) => {
        at += 1;
        const result = await store.changeInboxItem(env, 'alice', id!, action, at);
        expect(result?.item).toMatchObject({ id, ...expected.states });
        expect(result?.counts).toEqual(expected.counts);
        if (changes) {
          seq += 1;
          expect(result?.event).toEqual({
            environmentId: env,
            subscriberId: 'alice',
            seq,
            type: 'item.updated',
            item: result!.item,
            counts: expected.counts,
            at,
          });
        } else {
          expect(result?.event).toBeNull();
        }
        expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: expected.counts, seq });
        expect((await store.getMessage(env, id!))?.status).toBe(expected.status);
        return at;
      };
      const seenAt = await step(
        'seen',
        { states: { seenAt: T0 + 1_001, readAt: null, archivedAt: null }, counts: counts(1, 1, 0), status: 'seen' },
        true,
      );
      await step(
        'seen',
        { states: { seenAt, readAt: null, archivedAt: null }, counts: counts(1, 1, 0), status: 'seen' },
        false,
      );
      await step(
        'unread',
        { states: { seenAt, readAt: null, archivedAt: null }, counts: counts(1, 1, 0), status: 'seen' },
        false,
      );
      const readAt = await step(
        'read',
        { states: { seenAt, readAt: T0 + 1_004, archivedAt: null }, counts: counts(1, 0, 0), status: 'read' },
        true,
      );
      await step(
        'read',
        { states: { seenAt, readAt, archivedAt: null }, counts: counts(1, 0, 0), status: 'read' },
        false,
      );
      await step(
        'unarchive',
        { states: { seenAt, readAt, archivedAt: null }, counts: counts(1, 0, 0), status: 'read' },
        false,
      );
      const archivedAt = await step(
        'archive',
        { states: { seenAt, readAt, archivedAt: T0 + 1_007 }, counts: counts(0, 0, 0), status: 'archived' },
        true,
      );
      await step(
        'archive',
        { states: { seenAt, readAt, archivedAt }, counts: counts(0, 0, 0), status: 'archived' },
        false,
      );
      await step(
        'unarchive',
        { states: { seenAt, readAt, archivedAt: null }, counts: counts(1, 0, 0), status: 'read' },
        true,
      );
      await step(
        'unread',
        { states: { seenAt, readAt: null, archivedAt: null }, counts: counts(1, 1, 0), status: 'seen' },
        true,
      );
      // Archived while unread: it leaves every count, and comes back unread.
      await step(
        'archive',
        { states: { seenAt, readAt: null, archivedAt: T0 + 1_011 }, counts: counts(0, 0, 0), status: 'archived' },
        true,
      );
      await step(
        'unarchive',
        { states: { seenAt, readAt: null, archivedAt: null }, counts: counts(1, 1, 0), status: 'seen' },
        true,
      );

      // Reading an unseen item marks it seen too.
      const {
        ids: [fresh],
      } = await addItems(store, env, ['alice'], T0 + 2_000);
      seq += 1;
      const read = await store.changeInboxItem(env, 'alice', fresh!, 'read', T0 + 3_000);
      expect(read?.item).toMatchObject({ seenAt: T0 + 3_000, readAt: T0 + 3_000, archivedAt: null });
      expect(read?.counts).toEqual(counts(2, 1, 0));
      expect(read?.event?.seq).toBe(seq + 1);

      const events = await store.listInboxEvents(env, 'alice', 0, 100);
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: seq + 1 }, (_, i) => i + 1));
      expect(events.at(-1)).toEqual(read?.event);
      await close();
    });

    it("finds no item for another subscriber's id, an unknown id or another environment", async () => {
      const { store, environmentId: env, close } = await open();
      const {
        ids: [aliceItem],
      } = await addItems(store, env, ['alice', 'bob']);
      expect(await store.changeInboxItem(env, 'bob', aliceItem!, 'read', T0 + 1_000)).toBeUndefined();
      expect(await store.changeInboxItem(env, 'carol', aliceItem!, 'read', T0 + 1_000)).toBeUndefined();
      expect(await store.changeInboxItem(env, 'alice', newId('msg', T0), 'read', T0 + 1_000)).toBeUndefined();
      expect(await store.changeInboxItem('env_other', 'alice', aliceItem!, 'read', T0 + 1_000)).toBeUndefined();
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(1, 1, 1), seq: 1 });
      expect(await store.getInboxCounts(env, 'bob')).toEqual({ counts: counts(1, 1, 1), seq: 1 });
      expect(await store.getInboxCounts('env_other', 'alice')).toEqual({ counts: counts(0, 0, 0), seq: 0 });
      expect((await store.listInboxItems('env_other', 'alice', { status: 'all', limit: 10 })).items).toEqual([]);
      expect(await store.listInboxEvents('env_other', 'alice', 0, 10)).toEqual([]);
      expect((await store.getMessage(env, aliceItem!))?.status).toBe('sent');
      await close();
    });

    it('marks every item not archived read, or seen, as one event', async () => {
      const { store, environmentId: env, close } = await open();
      const nothing = await store.changeAllInboxItems(env, 'alice', 'read', T0);
      expect(nothing).toEqual({ changed: 0, counts: counts(0, 0, 0), event: null });

      const {
        ids: [unseen, seen, archived],
      } = await addItems(store, env, ['alice', 'alice', 'alice', 'bob']);
      await store.changeInboxItem(env, 'alice', seen!, 'seen', T0 + 1_000);
      await store.changeInboxItem(env, 'alice', archived!, 'archive', T0 + 1_001);
      expect((await store.getInboxCounts(env, 'alice')).counts).toEqual(counts(2, 2, 1));

      const read = await store.changeAllInboxItems(env, 'alice', 'read', T0 + 2_000);
      const readAll: InboxEvent = {
        environmentId: env,
        subscriberId: 'alice',
        seq: 6,
        type: 'items.read',
        item: null,
        counts: counts(2, 0, 0),
        at: T0 + 2_000,
      };
      expect(read).toEqual({ changed: 2, counts: counts(2, 0, 0), event: readAll });
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(2, 0, 0), seq: 6 });
      expect(await store.listInboxEvents(env, 'alice', 5, 10)).toEqual([readAll]);
      const byId = new Map(
        (await store.listInboxItems(env, 'alice', { status: 'all', limit: 10 })).items.map((item) => [item.id, item]),
      );
      expect(byId.get(unseen!)).toMatchObject({ seenAt: T0 + 2_000, readAt: T0 + 2_000 });
      expect(byId.get(seen!)).toMatchObject({ seenAt: T0 + 1_000, readAt: T0 + 2_000 });
      const [archivedItem] = (await store.listInboxItems(env, 'alice', { status: 'archived', limit: 10 })).items;
      expect(archivedItem).toMatchObject({ id: archived, seenAt: null, readAt: null, archivedAt: T0 + 1_001 });
      const statuses = async (ids: string[]) =>
        Promise.all(ids.map(async (id) => (await store.getMessage(env, id))?.status));
      expect(await statuses([unseen!, seen!, archived!])).toEqual(['read', 'read', 'archived']);
      expect(await store.changeAllInboxItems(env, 'alice', 'read', T0 + 2_001)).toEqual({
        changed: 0,
        counts: counts(2, 0, 0),
        event: null,
      });
      expect(await store.changeAllInboxItems(env, 'alice', 'seen', T0 + 2_002)).toMatchObject({
        changed: 0,
        event: null,
      });

      const {
        ids: [later, laterToo],
      } = await addItems(store, env, ['alice', 'alice'], T0 + 3_000);
      await store.changeInboxItem(env, 'alice', laterToo!, 'read', T0 + 3_500);
      await store.changeInboxItem(env, 'alice', laterToo!, 'unread', T0 + 3_501);
      expect((await store.getInboxCounts(env, 'alice')).counts).toEqual(counts(4, 2, 1));
      const seenAll = await store.changeAllInboxItems(env, 'alice', 'seen', T0 + 4_000);
      expect(seenAll).toEqual({
        changed: 1,
        counts: counts(4, 2, 0),
        event: {
          environmentId: env,
          subscriberId: 'alice',
          seq: 11,
          type: 'items.seen',
          item: null,
          counts: counts(4, 2, 0),
          at: T0 + 4_000,
        },
      });
      expect(await statuses([later!, laterToo!])).toEqual(['seen', 'seen']);
      const [laterItem] = (await store.listInboxItems(env, 'alice', { status: 'unread', limit: 1 })).items;
      expect(laterItem).toMatchObject({ id: laterToo, seenAt: T0 + 3_500, readAt: null });
      // Bob's inbox is his own.
      expect(await store.getInboxCounts(env, 'bob')).toEqual({ counts: counts(1, 1, 1), seq: 1 });
      await close();
    });

    it('lists items by filter, newest first, in pages without repeats', async () => {
      const { store, environmentId: env, close } = await open();
      const { ids } = await addItems(store, env, ['alice', 'alice', 'alice', 'alice', 'alice']);
      const newestFirst = [...ids].reverse();
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listInboxItems(env, 'alice', { status: 'all', limit: 2, cursor });
        pages.push(page.items.map((item) => item.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);

      await store.changeInboxItem(env, 'alice', ids[0]!, 'read', T0 + 1_000);
      await store.changeInboxItem(env, 'alice', ids[1]!, 'seen', T0 + 1_000);
      await store.changeInboxItem(env, 'alice', ids[2]!, 'archive', T0 + 1_000);
      const list = async (status: 'all' | 'unread' | 'unseen' | 'archived', limit = 10, after?: string) =>
        (await store.listInboxItems(env, 'alice', { status, limit, cursor: after })).items.map((item) => item.id);
      expect(await list('all')).toEqual([ids[4], ids[3], ids[1], ids[0]]);
      expect(await list('unread')).toEqual([ids[4], ids[3], ids[1]]);
      expect(await list('unseen')).toEqual([ids[4], ids[3]]);
      expect(await list('archived')).toEqual([ids[2]]);
      expect(await list('unread', 10, ids[3])).toEqual([ids[1]]);
      const first = await store.listInboxItems(env, 'alice', { status: 'unseen', limit: 1 });
      expect(first.nextCursor).toBe(ids[4]);
      const second = await store.listInboxItems(env, 'alice', { status: 'unseen', limit: 1, cursor: ids[4] });
      expect(second.items.map((item) => item.id)).toEqual([ids[3]]);
      expect(second.nextCursor).toBeNull();
      expect((await store.listInboxItems(env, 'bob', { status: 'all', limit: 10 })).items).toEqual([]);
      await close();
    });

    it('keeps events gapless from 1, resumable after any seq', async () => {
      const { store, environmentId: env, close } = await open();
      const created = await addItems(store, env, ['alice', 'alice', 'alice']);
      const returned = [...created.events];
      for (const [i, id] of created.ids.entries()) {
        returned.push((await store.changeInboxItem(env, 'alice', id, 'seen', T0 + 1_000 + i))!.event!);
      }
      returned.push((await store.changeAllInboxItems(env, 'alice', 'read', T0 + 2_000)).event!);
      const all = await store.listInboxEvents(env, 'alice', 0, 100);
      expect(all.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(all).toEqual(returned);
      expect(await store.listInboxEvents(env, 'alice', 3, 100)).toEqual(all.slice(3));
      expect(await store.listInboxEvents(env, 'alice', 3, 2)).toEqual(all.slice(3, 5));
      expect(await store.listInboxEvents(env, 'alice', 7, 100)).toEqual([]);
      await close();
    });

    it('prunes old events in bounded batches and keeps the seq going', async () => {
      const { store, environmentId: env, close } = await open();
      await addItems(store, env, ['alice', 'alice', 'bob']);
      for (const subscriberId of ['alice', 'bob']) {
        await store.changeAllInboxItems(env, subscriberId, 'read', T0 + 10_000);
      }
      // Three item.created at T0 + 100, two items.read at T0 + 10,000.
      expect(await store.pruneInboxEvents(T0 + 10_000, 2)).toBe(2);
      expect(await store.pruneInboxEvents(T0 + 10_000, 2)).toBe(1);
      expect(await store.pruneInboxEvents(T0 + 10_000, 2)).toBe(0);
      expect((await store.listInboxEvents(env, 'alice', 0, 10)).map((event) => [event.seq, event.type])).toEqual([
        [3, 'items.read'],
      ]);
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(2, 0, 0), seq: 3 });
      const {
        ids: [id],
      } = await addItems(store, env, ['alice'], T0 + 20_000);
      expect((await store.changeInboxItem(env, 'alice', id!, 'read', T0 + 20_500))?.event?.seq).toBe(5);
      expect(await store.pruneInboxEvents(T0 + 30_000, 100)).toBe(4);
      expect(await store.listInboxEvents(env, 'alice', 0, 10)).toEqual([]);
      await close();
    });

    it('creates the inbox settings once, and changes and resets them', async () => {
      const { store, environmentId: env, close } = await open();
      expect(await store.findInboxSettings(env)).toBeUndefined();
      const first = await Promise.all([
        store.getInboxSettings(env, { secret: 's1', now: T0 }),
        store.getInboxSettings(env, { secret: 's2', now: T0 + 1 }),
      ]);
      expect(first[0]).toEqual(first[1]);
      const { secret } = first[0];
      expect(['s1', 's2']).toContain(secret);
      expect(await store.getInboxSettings(env, { secret: 's3', now: T0 + 2 })).toEqual(first[0]);
      expect(await store.findInboxSettings(env)).toEqual(first[0]);

      const origins = ['https://app.example.com', 'http://localhost:5173'];
      expect(await store.updateInboxSettings(env, { allowedOrigins: origins }, { secret: 's4', now: T0 + 10 })).toEqual(
        {
          secret,
          allowedOrigins: origins,
          updatedAt: T0 + 10,
        },
      );
      expect(await store.updateInboxSettings(env, { secret: 'rotated' }, { secret: 's5', now: T0 + 20 })).toEqual({
        secret: 'rotated',
        allowedOrigins: origins,
        updatedAt: T0 + 20,
      });
      expect(await store.updateInboxSettings(env, { allowedOrigins: null }, { secret: 's6', now: T0 + 30 })).toEqual({
        secret: 'rotated',
        allowedOrigins: null,
        updatedAt: T0 + 30,
      });
      expect(await store.getInboxSettings(env, { secret: 's7', now: T0 + 40 })).toEqual({
        secret: 'rotated',
        allowedOrigins: null,
        updatedAt: T0 + 30,
      });
      // Changed before it was ever read: created with the given secret, then changed.
      expect(
        await store.updateInboxSettings(
          'env_other',
          { allowedOrigins: ['https://a.example'] },
          { secret: 'o1', now: T0 },
        ),
      ).toEqual({ secret: 'o1', allowedOrigins: ['https://a.example'], updatedAt: T0 });
      await close();
    });

    it("erases a deleted subscriber's inbox, and adds no item for a subscriber deleted mid-delivery", async () => {
      const { store, environmentId: env, close } = await open();
      const {
        ids: [aliceItem, bobItem],
      } = await addItems(store, env, ['alice', 'bob']);
      await store.changeInboxItem(env, 'alice', aliceItem!, 'read', T0 + 1_000);
      expect(await store.deleteSubscriber(env, 'alice')).toBe(true);
      expect((await store.listInboxItems(env, 'alice', { status: 'all', limit: 10 })).items).toEqual([]);
      expect(await store.getInboxCounts(env, 'alice')).toEqual({ counts: counts(0, 0, 0), seq: 0 });
      expect(await store.listInboxEvents(env, 'alice', 0, 10)).toEqual([]);
      expect(await store.changeInboxItem(env, 'alice', aliceItem!, 'unread', T0 + 2_000)).toBeUndefined();
      expect(await store.changeAllInboxItems(env, 'alice', 'seen', T0 + 2_000)).toEqual({
        changed: 0,
        counts: counts(0, 0, 0),
        event: null,
      });
      expect((await store.listInboxItems(env, 'bob', { status: 'all', limit: 10 })).items.map((i) => i.id)).toEqual([
        bobItem,
      ]);
      expect(await store.getInboxCounts(env, 'bob')).toEqual({ counts: counts(1, 1, 1), seq: 1 });

      // Carol is deleted while her item is being delivered: the delivery must not bring it back.
      const [job] = await claimInApp(store, env, ['carol'], T0 + 5_000);
      await store.deleteSubscriber(env, 'carol');
      expect(await store.completeJobs([inAppSent(job!, T0 + 5_100)])).toEqual([]);
      expect((await store.listInboxItems(env, 'carol', { status: 'all', limit: 10 })).items).toEqual([]);
      expect(await store.getInboxCounts(env, 'carol')).toEqual({ counts: counts(0, 0, 0), seq: 0 });
      expect(await store.getMessage(env, job!.messageId)).toMatchObject({
        status: 'sent',
        recipient: null,
        subject: null,
        content: null,
      });
      await close();
    });
  });
}
