import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// Topics and topic fan-out through the public API, on a real Herald (both stores).

let h: TestHerald;

beforeAll(async () => {
  h = await startTestHerald();
  const inApp = await h.api('PUT', '/v1/workflows/notice', { steps: [{ type: 'in_app', body: 'hello {{ data.n }}' }] });
  expect(inApp.status).toBe(200);
});

afterAll(async () => {
  await h.close();
});

let unique = 0;
const uniqueKey = (prefix: string) => `${prefix}-${++unique}`;

/** Creates subscribers through the API, a few dozen requests at a time. */
async function createSubscribers(ids: readonly string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const res = await h.api('PUT', `/v1/subscribers/${encodeURIComponent(id)}`, { name: id });
        if (res.status !== 200) throw new Error(`PUT subscriber ${id}: ${res.status} ${res.text}`);
      }
    }),
  );
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);

/** Every page of a list, following nextCursor. */
async function everyPage<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const res: { status: number; body: any } = await h.api(
      'GET',
      cursor === null ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`,
    );
    expect(res.status).toBe(200);
    items.push(...(res.body.items as T[]));
    cursor = res.body.nextCursor;
  } while (cursor !== null);
  return items;
}

/** Waits for the trigger's fan-out to end; answers the trigger. */
async function fannedOut(triggerId: string) {
  return waitFor(
    async () => {
      const res = await h.api('GET', `/v1/triggers/${triggerId}?limit=1`);
      return res.body.fanout?.state === 'done' ? res.body : undefined;
    },
    { what: 'the fan-out to end' },
  );
}

/** Every run of a trigger (the trigger view pages its runs). */
interface Run {
  subscriberId: string;
  state: string;
  messages: { id: string }[];
}

async function runsOf(triggerId: string): Promise<Run[]> {
  const runs: Run[] = [];
  let cursor: string | null = null;
  do {
    const res: { body: any } = await h.api(
      'GET',
      `/v1/triggers/${triggerId}?limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    runs.push(...res.body.runs);
    cursor = res.body.nextCursor;
  } while (cursor !== null);
  return runs;
}

describe('topics', () => {
  it('creates, renames, reads, lists and deletes topics', async () => {
    const key = uniqueKey('crud');
    const created = await h.api('PUT', `/v1/topics/${key}`, {});
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key, name: key });
    const renamed = await h.api('PUT', `/v1/topics/${key}`, { name: 'Project watchers' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ key, name: 'Project watchers', createdAt: created.body.createdAt });
    // No body, or no name: the name stays.
    expect((await h.api('PUT', `/v1/topics/${key}`)).body.name).toBe('Project watchers');
    expect((await h.api('GET', `/v1/topics/${key}`)).body).toEqual({ ...renamed.body, subscriberCount: 0 });

    expectProblem(await h.api('PUT', '/v1/topics/not%20a%20key', {}), 400);
    expectProblem(await h.api('PUT', `/v1/topics/${key}`, { name: '' }), 422, 'VALIDATION_FAILED');
    expectProblem(await h.api('PUT', `/v1/topics/${key}`, { nick: 'x' }), 422, 'VALIDATION_FAILED');

    const more = [uniqueKey('list'), uniqueKey('list'), uniqueKey('list')];
    for (const other of more) expect((await h.api('PUT', `/v1/topics/${other}`, {})).status).toBe(201);
    const firstPage = await h.api('GET', '/v1/topics?limit=2');
    expect(firstPage.body.items).toHaveLength(2);
    expect(firstPage.body.nextCursor).toBe(firstPage.body.items[1].key);
    const listed = (await everyPage<{ key: string }>('/v1/topics?limit=2')).map((topic) => topic.key);
    expect(listed).toEqual([...listed].sort());
    for (const k of [key, ...more]) expect(listed).toContain(k);
    expectProblem(await h.api('GET', '/v1/topics?cursor=not%20a%20key'), 400);

    expect((await h.api('DELETE', `/v1/topics/${key}`)).status).toBe(204);
    expectProblem(await h.api('GET', `/v1/topics/${key}`), 404, 'TOPIC_NOT_FOUND');
    expectProblem(await h.api('DELETE', `/v1/topics/${key}`), 404, 'TOPIC_NOT_FOUND');
  });

  it('adds and removes 10,000 subscribers a call, idempotently, and pages them', { timeout: 120_000 }, async () => {
    const members = ids(uniqueKey('m'), 10_000);
    await createSubscribers(members);
    const key = uniqueKey('big');
    // Adding creates the topic, as it does at Knock and Novu.
    const added = await h.api('POST', `/v1/topics/${key}/subscribers`, { subscriberIds: members });
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ added: 10_000, topicCreated: true });
    const again = await h.api('POST', `/v1/topics/${key}/subscribers`, { subscriberIds: [...members].reverse() });
    expect(again.body).toEqual({ added: 0, topicCreated: false });
    expect((await h.api('GET', `/v1/topics/${key}`)).body.subscriberCount).toBe(10_000);

    const tooMany = await h.api('POST', `/v1/topics/${key}/subscribers`, { subscriberIds: [...members, 'one-more'] });
    expectProblem(tooMany, 422, 'VALIDATION_FAILED');
    expectProblem(await h.api('POST', `/v1/topics/${key}/subscribers`, { subscriberIds: [] }), 422);

    const page = await h.api('GET', `/v1/topics/${key}/subscribers?limit=3`);
    expect(page.body.items.map((m: { subscriberId: string }) => m.subscriberId)).toEqual(members.slice(0, 3));
    expect(page.body.items[0].addedAt).toEqual(expect.any(Number));
    const listed = await everyPage<{ subscriberId: string }>(`/v1/topics/${key}/subscribers?limit=1000`);
    expect(listed.map((m) => m.subscriberId)).toEqual(members);
    expect((await h.api('GET', `/v1/subscribers/${members[42]}`)).body.topics).toEqual([key]);

    const half = members.slice(0, 5000);
    const removed = await h.api('DELETE', `/v1/topics/${key}/subscribers`, {
      subscriberIds: [...half, 'not-a-member'],
    });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ removed: 5000 });
    expect((await h.api('DELETE', `/v1/topics/${key}/subscribers`, { subscriberIds: half })).body).toEqual({
      removed: 0,
    });
    expect((await h.api('GET', `/v1/topics/${key}`)).body.subscriberCount).toBe(5000);
    expect((await h.api('GET', `/v1/subscribers/${members[42]}`)).body.topics).toEqual([]);
    expectProblem(
      await h.api('DELETE', `/v1/topics/${uniqueKey('none')}/subscribers`, { subscriberIds: ['x'] }),
      404,
      'TOPIC_NOT_FOUND',
    );
    expectProblem(await h.api('GET', `/v1/topics/${uniqueKey('none')}/subscribers`), 404, 'TOPIC_NOT_FOUND');
  });

  it('refuses ids that name no subscriber, adding none of the call', async () => {
    const [ann, bob] = [uniqueKey('ann'), uniqueKey('bob')];
    await createSubscribers([ann, bob]);
    const key = uniqueKey('strict');
    const res = await h.api('POST', `/v1/topics/${key}/subscribers`, { subscriberIds: [ann, 'ghost-x', bob] });
    expectProblem(res, 422, 'UNKNOWN_SUBSCRIBERS');
    expect(res.body.errors).toEqual([{ path: '/subscriberIds', message: 'no subscriber "ghost-x"' }]);
    expect(res.body.detail).toContain('nothing was added');
    // Not added, and the topic not created.
    expectProblem(await h.api('GET', `/v1/topics/${key}`), 404, 'TOPIC_NOT_FOUND');
    expect((await h.api('GET', `/v1/subscribers/${ann}`)).body.topics).toEqual([]);
  });

  it("removes a deleted subscriber's memberships", async () => {
    const [ann, bob] = [uniqueKey('ann'), uniqueKey('bob')];
    await createSubscribers([ann, bob]);
    const [t1, t2] = [uniqueKey('t'), uniqueKey('t')];
    await h.api('POST', `/v1/topics/${t1}/subscribers`, { subscriberIds: [ann, bob] });
    await h.api('POST', `/v1/topics/${t2}/subscribers`, { subscriberIds: [ann] });
    expect((await h.api('GET', `/v1/subscribers/${ann}`)).body.topics).toEqual([t1, t2]);
    expect((await h.api('DELETE', `/v1/subscribers/${ann}`)).status).toBe(204);
    expect((await h.api('GET', `/v1/topics/${t1}`)).body.subscriberCount).toBe(1);
    expect((await h.api('GET', `/v1/topics/${t2}`)).body.subscriberCount).toBe(0);
    // Created again, they are a member of nothing.
    await createSubscribers([ann]);
    expect((await h.api('GET', `/v1/subscribers/${ann}`)).body.topics).toEqual([]);
  });
});

describe('triggers to topics', () => {
  it('reaches each subscriber once, however often named, and leaves the actor out', async () => {
    const people = ids(uniqueKey('p'), 30);
    await createSubscribers(people);
    const [a, b] = [uniqueKey('a'), uniqueKey('b')];
    await h.api('POST', `/v1/topics/${a}/subscribers`, { subscriberIds: people.slice(0, 20) });
    await h.api('POST', `/v1/topics/${b}/subscribers`, { subscriberIds: people.slice(10, 25) });
    const actor = people[3]!;
    const res = await h.api('POST', '/v1/workflows/notice/trigger', {
      // Topics overlapping each other and the direct recipients, one topic twice.
      to: [{ topic: a }, people[12], { topic: b }, people[27], { topic: a }, people[27]],
      actor,
      data: { n: 1 },
    });
    expect(res.status).toBe(202);
    expect(Object.keys(res.body)).toEqual(['triggerId']);
    await fannedOut(res.body.triggerId);
    const runs = await runsOf(res.body.triggerId);
    const expected = [...people.slice(0, 25), people[27]!].filter((id) => id !== actor).sort();
    expect(runs.map((run) => run.subscriberId)).toEqual(expected);
    expect(runs.every((run) => run.messages.length === 1)).toBe(true);
    const trigger = (await h.api('GET', `/v1/triggers/${res.body.triggerId}?limit=1`)).body;
    expect(trigger).toMatchObject({
      actor,
      fanout: { topics: [a, b], state: 'done', recipients: expected.length, finishedAt: expect.any(Number) },
    });
    // Delivered: one message each, none to the actor.
    const messages = await waitFor(
      async () => {
        const items = await everyPage<{ subscriberId: string; status: string }>(
          `/v1/messages?triggerId=${res.body.triggerId}&limit=100`,
        );
        return items.length === expected.length && items.every((m) => m.status === 'sent') ? items : undefined;
      },
      { what: 'every message sent' },
    );
    expect(messages.map((m) => m.subscriberId).sort()).toEqual(expected);
  });

  it('leaves the actor out of direct recipients too, and creates or updates an actor given as an object', async () => {
    const [ann, bob, actor] = [uniqueKey('ann'), uniqueKey('bob'), uniqueKey('actor')];
    await createSubscribers([ann, bob]);
    const res = await h.api('POST', '/v1/workflows/notice/trigger', {
      to: [ann, bob],
      actor: { subscriberId: ann, name: 'Ann Actor' },
    });
    expect(res.status).toBe(202);
    expect(res.body.messageIds).toHaveLength(1);
    const trigger = (await h.api('GET', `/v1/triggers/${res.body.triggerId}`)).body;
    expect(trigger.runs.map((run: { subscriberId: string }) => run.subscriberId)).toEqual([bob]);
    expect(trigger).toMatchObject({ actor: ann, fanout: null });
    expect((await h.api('GET', `/v1/subscribers/${ann}`)).body.name).toBe('Ann Actor');
    // An actor who is not a subscriber yet is created by an object, and only left out by an id.
    const fresh = await h.api('POST', '/v1/workflows/notice/trigger', { to: bob, actor: { subscriberId: actor } });
    expect(fresh.status).toBe(202);
    expect((await h.api('GET', `/v1/subscribers/${actor}`)).status).toBe(200);
    const byId = await h.api('POST', '/v1/workflows/notice/trigger', { to: bob, actor: uniqueKey('nobody') });
    expect(byId.status).toBe(202);
    // Everyone left out: accepted, with nothing to send.
    const alone = await h.api('POST', '/v1/workflows/notice/trigger', { to: [ann], actor: ann });
    expect(alone.status).toBe(202);
    expect(alone.body.messageIds).toEqual([]);
  });

  it('refuses a topic that does not exist, committing nothing', async () => {
    const [ann] = [uniqueKey('ann')];
    await createSubscribers([ann]);
    const known = uniqueKey('known');
    await h.api('PUT', `/v1/topics/${known}`, {});
    const ghost = uniqueKey('ghost');
    const res = await h.api('POST', '/v1/workflows/notice/trigger', { to: [ann, { topic: known }, { topic: ghost }] });
    expectProblem(res, 422, 'UNKNOWN_TOPICS');
    expect(res.body.errors).toEqual([{ path: '/to', message: `no topic "${ghost}"` }]);
    expect((await h.api('GET', `/v1/messages?subscriberId=${ann}`)).body.items).toEqual([]);

    const badKey = await h.api('POST', '/v1/workflows/notice/trigger', { to: { topic: 'no spaces' } });
    expectProblem(badKey, 422, 'VALIDATION_FAILED');
    const tooMany = Array.from({ length: 21 }, (_, i) => ({ topic: `${known}-${i}` }));
    const refused = await h.api('POST', '/v1/workflows/notice/trigger', { to: tooMany });
    expectProblem(refused, 422, 'VALIDATION_FAILED');
    expect(refused.body.errors).toEqual([{ path: '/to', message: 'names 21 topics; at most 20' }]);
  });

  it('answers a repeat with the same Idempotency-Key with the first triggerId, fanning out once', async () => {
    const people = ids(uniqueKey('idem'), 5);
    await createSubscribers(people);
    const key = uniqueKey('idem-topic');
    await h.api('POST', `/v1/topics/${key}/subscribers`, { subscriberIds: people });
    const body = { to: { topic: key }, data: { n: 2 } };
    const headers = { 'idempotency-key': uniqueKey('k') };
    const first = await h.api('POST', '/v1/workflows/notice/trigger', body, headers);
    const second = await h.api('POST', '/v1/workflows/notice/trigger', body, headers);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    await fannedOut(first.body.triggerId);
    expect(await runsOf(first.body.triggerId)).toHaveLength(5);
    const log = await h.api('GET', `/v1/messages?subscriberId=${people[0]}`);
    expect(log.body.items).toHaveLength(1);
  });

  it('starts scheduled runs for the members, which a cancellation ends', async () => {
    const people = ids(uniqueKey('later'), 4);
    await createSubscribers(people);
    const key = uniqueKey('later-topic');
    await h.api('POST', `/v1/topics/${key}/subscribers`, { subscriberIds: people });
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const cancellationKey = uniqueKey('cancel');
    const res = await h.api('POST', '/v1/workflows/notice/trigger', { to: { topic: key }, sendAt, cancellationKey });
    await fannedOut(res.body.triggerId);
    const runs = await runsOf(res.body.triggerId);
    expect(runs.map((run) => run.state)).toEqual(Array(4).fill('scheduled'));
    const canceled = await h.api('POST', '/v1/triggers/cancel', { cancellationKey });
    expect(canceled.body).toEqual({ runs: 4, messages: 4 });
  });
});
