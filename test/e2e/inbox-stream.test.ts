import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { deliverInApp, inboxClient, inboxSecret } from '../support/inbox.js';
import { openSse, type SseClient } from '../support/sse-client.js';

let h: TestHerald;
let secret: string;
const open: SseClient[] = [];
beforeAll(async () => {
  h = await startTestHerald({ 'inbox-heartbeat': '200ms' });
  await h.api('PUT', '/v1/workflows/note', { steps: [{ type: 'in_app', title: 'Note', body: 'Note {{ data.n }}' }] });
  secret = await inboxSecret(h);
});
afterAll(async () => {
  for (const client of open) client.close();
  await h.close();
});

let unique = 0;
async function subscriber() {
  return inboxClient(h, `streamer-${++unique}`, secret);
}

async function stream(subscriberId: string, hash: string, headers: Record<string, string> = {}) {
  const query = new URLSearchParams({ subscriberId, subscriberHash: hash });
  const client = await openSse(`${h.url}/v1/inbox/stream?${query}`, headers);
  open.push(client);
  return client;
}

describe('GET /v1/inbox/stream', () => {
  it("starts with the counts, then sends every new item to each of the subscriber's clients", async () => {
    const sub = await subscriber();
    await deliverInApp(h, 'note', sub.subscriberId, { n: 0 });
    const first = await stream(sub.subscriberId, sub.hash);
    const second = await stream(sub.subscriberId, sub.hash);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/event-stream/);
    for (const client of [first, second]) {
      const [counts] = await client.waitFor(1, 'counts');
      expect(counts).toEqual({ id: '1', event: 'counts', data: { counts: { total: 1, unread: 1, unseen: 1 } } });
    }
    const id = await deliverInApp(h, 'note', sub.subscriberId, { n: 1 });
    for (const client of [first, second]) {
      const [created] = await client.waitFor(1, 'item.created');
      expect(created!.id).toBe('2');
      expect(created!.data).toEqual({
        item: expect.objectContaining({ id, body: 'Note 1', title: 'Note', readAt: null }),
        counts: { total: 2, unread: 2, unseen: 2 },
      });
    }
    // State changes and bulk actions reach them too.
    await sub.call('POST', `/v1/inbox/items/${id}/read`);
    await sub.call('POST', '/v1/inbox/read-all');
    for (const client of [first, second]) {
      const [updated] = await client.waitFor(1, 'item.updated');
      expect(updated).toMatchObject({ id: '3', data: { item: { id, readAt: expect.any(Number) } } });
      expect(updated!.data.counts).toEqual({ total: 2, unread: 1, unseen: 1 });
      const [read] = await client.waitFor(1, 'items.read');
      expect(read).toMatchObject({
        id: '4',
        data: { counts: { total: 2, unread: 0, unseen: 0 }, at: expect.any(Number) },
      });
    }
  });

  it('resumes from Last-Event-ID with exactly the events missed, then continues live', async () => {
    const sub = await subscriber();
    const client = await stream(sub.subscriberId, sub.hash);
    await client.waitFor(1, 'counts');
    const a = await deliverInApp(h, 'note', sub.subscriberId, { n: 1 });
    await client.waitFor(1, 'item.created');
    client.close();
    const lastEventId = client.events.at(-1)!.id!;
    expect(lastEventId).toBe('1');

    // Missed while disconnected: two items and a state change.
    const b = await deliverInApp(h, 'note', sub.subscriberId, { n: 2 });
    const c = await deliverInApp(h, 'note', sub.subscriberId, { n: 3 });
    await sub.call('POST', `/v1/inbox/items/${a}/archive`);

    const resumed = await stream(sub.subscriberId, sub.hash, { 'last-event-id': lastEventId });
    const replayed = await resumed.waitFor(3, undefined);
    await resumed.waitFor(4);
    const withIds = resumed.events.filter((event) => event.id !== undefined);
    expect(withIds.map((event) => [event.id, event.event, event.data.item?.id])).toEqual([
      ['2', 'item.created', b],
      ['3', 'item.created', c],
      ['4', 'item.updated', a],
    ]);
    // The counts it opens with carry no id: Last-Event-ID stays where the replay leaves it.
    expect(replayed[0]).toMatchObject({ event: 'counts', id: undefined });

    const d = await deliverInApp(h, 'note', sub.subscriberId, { n: 4 });
    await resumed.waitFor(2, 'item.created');
    const live = resumed.events.filter((event) => event.id !== undefined);
    expect(live.map((event) => event.id)).toEqual(['2', '3', '4', '5']);
    expect(live.at(-1)!.data.item.id).toBe(d);
  });

  it('sends heartbeats while idle', async () => {
    const sub = await subscriber();
    const client = await stream(sub.subscriberId, sub.hash);
    await client.waitFor(1, 'counts');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(Number(/^herald_inbox_streams (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    const start = client.comments;
    const deadline = Date.now() + 10_000;
    while (client.comments < start + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(client.comments).toBeGreaterThanOrEqual(start + 2);
  });

  it('answers reset when it cannot resume from the given id', async () => {
    const sub = await subscriber();
    await deliverInApp(h, 'note', sub.subscriberId, { n: 1 });
    const client = await stream(sub.subscriberId, sub.hash, { 'last-event-id': '999' });
    const [reset] = await client.waitFor(1, 'reset');
    expect(reset).toEqual({ id: '1', event: 'reset', data: { counts: { total: 1, unread: 1, unseen: 1 } } });
  });

  it('takes a token in the query, and refuses wrong credentials with 401 before streaming', async () => {
    const sub = await subscriber();
    await h.api('PUT', `/v1/subscribers/${sub.subscriberId}`, { name: 'Streamer' });
    const { token } = (await h.api('POST', `/v1/subscribers/${sub.subscriberId}/inbox-token`)).body;
    const withToken = await openSse(`${h.url}/v1/inbox/stream?token=${encodeURIComponent(token)}`);
    open.push(withToken);
    expect(withToken.status).toBe(200);
    await withToken.waitFor(1, 'counts');
    const wrong = await openSse(
      `${h.url}/v1/inbox/stream?subscriberId=${sub.subscriberId}&subscriberHash=${'0'.repeat(64)}`,
    );
    expect(wrong.status).toBe(401);
    const none = await call(`${h.url}/v1/inbox/stream`, 'GET');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('INBOX_UNAUTHORIZED');
  });
});
