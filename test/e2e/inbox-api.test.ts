import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboxToken } from '../../src/core/inbox-credentials.js';
import { expectProblem } from '../support/expect-problem.js';
import { call, startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';
import { deliverInApp, inboxClient, inboxSecret, type InboxClient } from '../support/inbox.js';

let h: TestHerald;
let secret: string;
beforeAll(async () => {
  h = await startTestHerald();
  await h.api('PUT', '/v1/workflows/order-shipped', {
    steps: [
      {
        type: 'in_app',
        title: 'Order {{ data.order }} shipped',
        body: 'Hi {{ subscriber.name }}, it is on its way.',
        actionUrl: '{{ data.url }}',
        avatarUrl: 'https://cdn.example.com/{{ data.order }}.png',
        data: { order: '{{ data.order }}', label: 'order {{ data.order }}' },
      },
    ],
  });
  await h.api('PUT', '/v1/workflows/note', { steps: [{ type: 'in_app', body: 'Note {{ data.n }}' }] });
  secret = await inboxSecret(h);
});
afterAll(async () => {
  await h.close();
});

let unique = 0;
const someone = async (prefix: string) => inboxClient(h, `${prefix}-${++unique}`, secret);

describe('in_app steps', () => {
  it('become an inbox item with the rendered fields, and a sent message whose id is the item id', async () => {
    const alice = await someone('alice');
    await h.api('PUT', `/v1/subscribers/${alice.subscriberId}`, { name: 'Alice' });
    const id = await deliverInApp(h, 'order-shipped', alice.subscriberId, {
      order: 42,
      url: 'https://shop.example/o/42',
    });
    const items = await alice.call('GET', '/v1/inbox/items');
    expect(items.status).toBe(200);
    expect(items.body).toEqual({
      items: [
        {
          id,
          workflowKey: 'order-shipped',
          title: 'Order 42 shipped',
          body: 'Hi Alice, it is on its way.',
          actionUrl: 'https://shop.example/o/42',
          avatarUrl: 'https://cdn.example.com/42.png',
          data: { order: 42, label: 'order 42' },
          createdAt: expect.any(Number),
          seenAt: null,
          readAt: null,
          archivedAt: null,
        },
      ],
      nextCursor: null,
    });
    const message = (await h.api('GET', `/v1/messages/${id}`)).body;
    expect(message).toMatchObject({ channel: 'in_app', status: 'sent', recipient: alice.subscriberId });
    expect(message.attempts).toEqual([expect.objectContaining({ outcome: 'sent', provider: 'in_app' })]);
  });

  it('drops action links that are not http(s) or relative', async () => {
    const bob = await someone('bob');
    await deliverInApp(h, 'order-shipped', bob.subscriberId, { order: 1, url: 'javascript:alert(1)' });
    await deliverInApp(h, 'order-shipped', bob.subscriberId, { order: 2, url: ' java\tscript:alert(1)' });
    await deliverInApp(h, 'order-shipped', bob.subscriberId, { order: 3, url: '/orders/3' });
    const items = (await bob.call('GET', '/v1/inbox/items')).body.items;
    expect(items.map((item: any) => item.actionUrl)).toEqual(['/orders/3', null, null]);
  });

  it('refuses a template that does not parse, on save', async () => {
    const res = await h.api('PUT', '/v1/workflows/broken-inbox', { steps: [{ type: 'in_app', body: '{{ oops' }] });
    expectProblem(res, 422, 'TEMPLATE_INVALID');
    expect(res.body.errors[0].path).toBe('/steps/0/body');
  });
});

describe('subscriber credentials', () => {
  it('accepts the right hash and refuses a wrong or missing one with 401', async () => {
    const carol = await someone('carol');
    expect((await carol.call('GET', '/v1/inbox/counts')).status).toBe(200);
    const wrong = await carol.call('GET', '/v1/inbox/counts', { 'x-herald-subscriber-hash': '0'.repeat(64) });
    expectProblem(wrong, 401, 'INBOX_UNAUTHORIZED');
    const other = await someone('dave');
    const borrowed = await carol.call('GET', '/v1/inbox/counts', { 'x-herald-subscriber-hash': other.hash });
    expectProblem(borrowed, 401, 'INBOX_UNAUTHORIZED');
    expectProblem(await call(`${h.url}/v1/inbox/counts`, 'GET'), 401, 'INBOX_UNAUTHORIZED');
    // The API key is not a subscriber credential.
    expectProblem(await h.api('GET', '/v1/inbox/counts'), 401, 'INBOX_UNAUTHORIZED');
  });

  it('says what to send instead when given an API key, something else or nothing', async () => {
    // An API key, as a developer trying the inbox with curl would send it: the answer names it,
    // says what the inbox takes and where to get it, and does not echo the key.
    const withKey = await h.api('GET', '/v1/inbox/items');
    expectProblem(withKey, 401, 'INBOX_UNAUTHORIZED');
    expect(withKey.body.detail).toMatch(/do not take an API key/);
    for (const named of [
      'X-Herald-Subscriber-Hash',
      'GET /v1/inbox/settings',
      'POST /v1/subscribers/{id}/inbox-token',
    ]) {
      expect(withKey.body.detail).toContain(named);
    }
    expect(withKey.text).not.toContain(TEST_API_KEY);
    const stream = await call(`${h.url}/v1/inbox/stream?token=${TEST_API_KEY}`, 'GET');
    expectProblem(stream, 401, 'INBOX_UNAUTHORIZED');
    expect(stream.body.detail).toMatch(/do not take an API key/);

    const notAToken = await call(`${h.url}/v1/inbox/counts`, 'GET', undefined, { authorization: 'Bearer abc.def' });
    expectProblem(notAToken, 401, 'INBOX_UNAUTHORIZED');
    expect(notAToken.body.detail).toMatch(/not an inbox token .*POST \/v1\/subscribers\/\{id\}\/inbox-token/);
    const nothing = await call(`${h.url}/v1/inbox/counts`, 'GET');
    expect(nothing.body.detail).toMatch(/X-Herald-Subscriber-Id with X-Herald-Subscriber-Hash/);
  });

  it('reads a percent-encoded subscriber id header, for ids beyond Latin-1', async () => {
    const id = `日本-${++unique}`;
    const client = await inboxClient(h, id, secret);
    await deliverInApp(h, 'note', id, { n: 1 });
    const res = await client.call('GET', '/v1/inbox/items', { 'x-herald-subscriber-id': encodeURIComponent(id) });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
  });

  it('issues short-lived tokens that work as Bearer credentials', async () => {
    const erin = await someone('erin');
    await h.api('PUT', `/v1/subscribers/${erin.subscriberId}`, { name: 'Erin' });
    await deliverInApp(h, 'note', erin.subscriberId, { n: 1 });
    const issued = await h.api('POST', `/v1/subscribers/${erin.subscriberId}/inbox-token`, { expiresIn: 600 });
    expect(issued.status).toBe(200);
    expect(issued.body.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    expect(issued.body.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    const items = await call(`${h.url}/v1/inbox/items`, 'GET', undefined, {
      authorization: `Bearer ${issued.body.token}`,
    });
    expect(items.status).toBe(200);
    expect(items.body.items).toHaveLength(1);
    // Without a body: one hour.
    const byDefault = await h.api('POST', `/v1/subscribers/${erin.subscriberId}/inbox-token`);
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.expiresAt - Date.now()).toBeGreaterThan(3_590_000);
  });

  it('refuses expired, tampered and over-long tokens, and tokens for unknown subscribers', async () => {
    const frank = await someone('frank');
    await h.api('PUT', `/v1/subscribers/${frank.subscriberId}`, { name: 'Frank' });
    const environmentId = await h.herald.store.defaultEnvironmentId();
    const expired = createInboxToken(secret, {
      environmentId,
      subscriberId: frank.subscriberId,
      expiresAt: Date.now() - 1,
    });
    const asBearer = (token: string) =>
      call(`${h.url}/v1/inbox/counts`, 'GET', undefined, { authorization: `Bearer ${token}` });
    const res = await asBearer(expired);
    expectProblem(res, 401, 'INBOX_UNAUTHORIZED');
    expect(res.body.detail).toMatch(/expired/);
    const valid = (await h.api('POST', `/v1/subscribers/${frank.subscriberId}/inbox-token`)).body.token as string;
    const [claims, signature] = valid.slice(4).split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims!, 'base64url').toString()), s: 'someone-else' }),
    ).toString('base64url');
    expectProblem(await asBearer(`hit_${forged}.${signature}`), 401, 'INBOX_UNAUTHORIZED');
    expectProblem(await asBearer('hit_nonsense'), 401, 'INBOX_UNAUTHORIZED');
    // A token naming an environment that has no inbox is refused without creating one for it.
    const elsewhere = createInboxToken(secret, {
      environmentId: 'env_made_up',
      subscriberId: frank.subscriberId,
      expiresAt: Date.now() + 60_000,
    });
    expectProblem(await asBearer(elsewhere), 401, 'INBOX_UNAUTHORIZED');
    expect(await h.herald.store.findInboxSettings('env_made_up')).toBeUndefined();
    const tooLong = await h.api('POST', `/v1/subscribers/${frank.subscriberId}/inbox-token`, { expiresIn: 86_401 });
    expectProblem(tooLong, 422, 'VALIDATION_FAILED');
    expectProblem(await h.api('POST', '/v1/subscribers/nobody-here/inbox-token'), 404, 'SUBSCRIBER_NOT_FOUND');
  });

  it('stops accepting old hashes and tokens once the secret is rotated', async () => {
    const local = await startTestHerald();
    try {
      const before = await inboxSecret(local);
      await local.api('PUT', '/v1/subscribers/gina', { name: 'Gina' });
      const gina = await inboxClient(local, 'gina', before);
      const token = (await local.api('POST', '/v1/subscribers/gina/inbox-token')).body.token;
      expect((await gina.call('GET', '/v1/inbox/counts')).status).toBe(200);
      const rotated = await local.api('POST', '/v1/inbox/settings/rotate-secret');
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(before);
      expectProblem(await gina.call('GET', '/v1/inbox/counts'), 401, 'INBOX_UNAUTHORIZED');
      const withToken = await call(`${local.url}/v1/inbox/counts`, 'GET', undefined, {
        authorization: `Bearer ${token}`,
      });
      expectProblem(withToken, 401, 'INBOX_UNAUTHORIZED');
      const fresh = await inboxClient(local, 'gina', rotated.body.secret);
      expect((await fresh.call('GET', '/v1/inbox/counts')).status).toBe(200);
    } finally {
      await local.close();
    }
  });
});

describe('a subscriber only sees their own items', () => {
  it("answers 404 for another subscriber's item and lists none of them", async () => {
    const owner = await someone('owner');
    const intruder = await someone('intruder');
    const id = await deliverInApp(h, 'note', owner.subscriberId, { n: 1 });
    for (const action of ['read', 'unread', 'seen', 'archive', 'unarchive']) {
      expectProblem(await intruder.call('POST', `/v1/inbox/items/${id}/${action}`), 404, 'INBOX_ITEM_NOT_FOUND');
    }
    expect((await intruder.call('GET', '/v1/inbox/items')).body.items).toEqual([]);
    expect((await intruder.call('POST', '/v1/inbox/read-all')).body).toEqual({
      changed: 0,
      counts: { total: 0, unread: 0, unseen: 0 },
    });
    const untouched = (await owner.call('GET', '/v1/inbox/items')).body.items[0];
    expect(untouched).toMatchObject({ id, readAt: null, seenAt: null, archivedAt: null });
    expectProblem(await owner.call('POST', '/v1/inbox/items/msg_unknown/read'), 404, 'INBOX_ITEM_NOT_FOUND');
    expectProblem(await owner.call('POST', `/v1/inbox/items/${id}/delete`), 400);
  });
});

describe('feeds, states and counts', () => {
  async function withItems(count: number): Promise<{ client: InboxClient; ids: string[] }> {
    const client = await someone('feed');
    const ids: string[] = [];
    for (let n = 0; n < count; n++) ids.push(await deliverInApp(h, 'note', client.subscriberId, { n }));
    return { client, ids };
  }

  it('pages newest first with a cursor, without repeats', async () => {
    const { client, ids } = await withItems(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await client.call('GET', `/v1/inbox/items?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((item: any) => item.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    expectProblem(await client.call('GET', '/v1/inbox/items?limit=0'), 400);
    expectProblem(await client.call('GET', '/v1/inbox/items?status=deleted'), 400);
  });

  it('moves an item and its message through every state, with the counts', async () => {
    const { client, ids } = await withItems(2);
    const [id, other] = ids as [string, string];
    const counts = async () => (await client.call('GET', '/v1/inbox/counts')).body;
    const status = async () => (await h.api('GET', `/v1/messages/${id}`)).body.status;
    const act = async (action: string) => {
      const res = await client.call('POST', `/v1/inbox/items/${id}/${action}`);
      expect(res.status).toBe(200);
      return res.body;
    };
    expect(await counts()).toEqual({ total: 2, unread: 2, unseen: 2 });

    let res = await act('seen');
    expect(res.item.seenAt).toEqual(expect.any(Number));
    expect(res.counts).toEqual({ total: 2, unread: 2, unseen: 1 });
    expect(await status()).toBe('seen');

    res = await act('read');
    expect(res.item.readAt).toEqual(expect.any(Number));
    expect(res.counts).toEqual({ total: 2, unread: 1, unseen: 1 });
    expect(await status()).toBe('read');
    const readAt = res.item.readAt;
    expect((await act('read')).item.readAt).toBe(readAt); // again: no change

    res = await act('unread');
    expect(res.item).toMatchObject({ readAt: null, seenAt: expect.any(Number) });
    expect(res.counts).toEqual({ total: 2, unread: 2, unseen: 1 });
    expect(await status()).toBe('seen');

    res = await act('archive');
    expect(res.counts).toEqual({ total: 1, unread: 1, unseen: 1 });
    expect(await status()).toBe('archived');
    expect((await client.call('GET', '/v1/inbox/items')).body.items.map((i: any) => i.id)).toEqual([other]);
    expect((await client.call('GET', '/v1/inbox/items?status=archived')).body.items.map((i: any) => i.id)).toEqual([
      id,
    ]);

    res = await act('unarchive');
    expect(res.counts).toEqual({ total: 2, unread: 2, unseen: 1 });
    expect(await status()).toBe('seen');
    expect((await client.call('GET', '/v1/inbox/items?status=unseen')).body.items.map((i: any) => i.id)).toEqual([
      other,
    ]);
    expect((await client.call('GET', '/v1/inbox/items?status=unread')).body.items).toHaveLength(2);

    // A message read in the inbox is found by its status in the delivery log.
    await act('read');
    const log = await h.api('GET', `/v1/messages?subscriberId=${client.subscriberId}&status=read`);
    expect(log.body.items.map((m: any) => m.id)).toEqual([id]);
  });

  it('marks everything seen, then read, in one call each', async () => {
    const { client, ids } = await withItems(3);
    await client.call('POST', `/v1/inbox/items/${ids[0]}/archive`);
    await client.call('POST', `/v1/inbox/items/${ids[1]}/read`);
    let res = await client.call('POST', '/v1/inbox/seen-all');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ changed: 1, counts: { total: 2, unread: 1, unseen: 0 } });
    res = await client.call('POST', '/v1/inbox/read-all');
    expect(res.body).toEqual({ changed: 1, counts: { total: 2, unread: 0, unseen: 0 } });
    expect((await client.call('POST', '/v1/inbox/read-all')).body.changed).toBe(0);
    const statuses = await Promise.all(ids.map(async (id) => (await h.api('GET', `/v1/messages/${id}`)).body.status));
    expect(statuses).toEqual(['archived', 'read', 'read']);
    // The archived item was left alone.
    const archived = (await client.call('GET', '/v1/inbox/items?status=archived')).body.items[0];
    expect(archived).toMatchObject({ id: ids[0], readAt: null });
  });
});

describe('deleting a subscriber', () => {
  it('erases their inbox', async () => {
    const gone = await someone('gone');
    const id = await deliverInApp(h, 'note', gone.subscriberId, { n: 1 });
    expect((await h.api('DELETE', `/v1/subscribers/${gone.subscriberId}`)).status).toBe(204);
    expect((await gone.call('GET', '/v1/inbox/items')).body.items).toEqual([]);
    expect((await gone.call('GET', '/v1/inbox/counts')).body).toEqual({ total: 0, unread: 0, unseen: 0 });
    expectProblem(await gone.call('POST', `/v1/inbox/items/${id}/read`), 404, 'INBOX_ITEM_NOT_FOUND');
  });
});

describe('CORS and settings', () => {
  it('answers preflights and requests from allowed origins, and refuses others with 403', async () => {
    const put = await h.api('PUT', '/v1/inbox/settings', { allowedOrigins: ['https://app.example.com'] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ secret, allowedOrigins: ['https://app.example.com'], allowedOriginsDefault: false });
    const preflight = await fetch(`${h.url}/v1/inbox/items`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-herald-subscriber-id, x-herald-subscriber-hash',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-herald-subscriber-hash');
    const client = await someone('cors');
    const allowed = await client.call('GET', '/v1/inbox/counts', { origin: 'https://app.example.com' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('vary')).toContain('Origin');
    // A 401 is readable by the page too.
    const denied = await call(`${h.url}/v1/inbox/counts`, 'GET', undefined, { origin: 'https://app.example.com' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const evil = await client.call('GET', '/v1/inbox/counts', { origin: 'https://evil.example' });
    expectProblem(evil, 403, 'ORIGIN_NOT_ALLOWED');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    // The refusal says how to allow the origin.
    expect(evil.body.detail).toContain('https://evil.example');
    expect(evil.body.detail).toContain('PUT /v1/inbox/settings');
    expect(evil.body.detail).toContain('HERALD_INBOX_ORIGINS');
    // Back to the default list (HERALD_INBOX_ORIGINS; empty here, as an API key is set).
    const reset = await h.api('PUT', '/v1/inbox/settings', { allowedOrigins: null });
    expect(reset.body).toMatchObject({ allowedOrigins: [], allowedOriginsDefault: true });
    expectProblem(await h.api('PUT', '/v1/inbox/settings', { allowedOrigins: ['not an origin'] }), 422);
    expectProblem(await call(`${h.url}/v1/inbox/settings`, 'GET'), 401, 'UNAUTHORIZED');
  });

  it('takes its default origins from --inbox-origins', async () => {
    const local = await startTestHerald({ 'inbox-origins': 'https://a.example,https://b.example:8443' });
    try {
      const settings = await local.api('GET', '/v1/inbox/settings');
      expect(settings.body.allowedOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
      const client = await inboxClient(local, 'x', settings.body.secret);
      const res = await client.call('GET', '/v1/inbox/counts', { origin: 'https://b.example:8443' });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://b.example:8443');
    } finally {
      await local.close();
    }
  });
});
