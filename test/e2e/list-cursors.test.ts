import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import type { ApiResponse } from '../support/herald.js';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { deliverInApp, inboxClient, type InboxClient } from '../support/inbox.js';
import { waitFor } from '../support/wait-for.js';

// A cursor is the last item's id (or workflow key) from an earlier page. Anything else used to be
// read as a position — `cursor=abc` as "before abc", an empty one as "from the start" — and
// answered a page that looked plausible. Now it is a 400 on every list route that takes one.
let h: TestHerald;
let inbox: InboxClient;
beforeAll(async () => {
  h = await startTestHerald(); // no smtp-url: email goes to the dev mailbox
  for (const key of ['a-flow', 'b-flow', 'c-flow']) {
    await h.api('PUT', `/v1/workflows/${key}`, { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
  }
  await h.api('PUT', '/v1/workflows/note', { steps: [{ type: 'in_app', body: 'Hello' }] });
  await h.api('POST', '/v1/workflows/a-flow/trigger', {
    to: ['x', 'y', 'z'].map((id) => ({ subscriberId: id, email: `${id}@example.com` })),
  });
  for (const key of ['a-topic', 'b-topic']) await h.api('PUT', `/v1/topics/${key}`, {});
  await h.api('POST', '/v1/topics/c-topic/subscribers', { subscriberIds: ['x', 'y', 'z'] });
  inbox = await inboxClient(h, 'reader');
  for (let i = 0; i < 3; i++) await deliverInApp(h, 'note', 'reader');
  await waitFor(async () => (await h.api('GET', '/v1/dev/mail')).body.items.length === 3, { what: 'three dev mails' });
});
afterAll(async () => {
  await h.close();
});

interface ListRoute {
  name: string;
  get(query: string): Promise<ApiResponse>;
  malformed: string[];
}

const otherIds = [newId('trg'), newId('mail'), newId('msg').toUpperCase()];
const routes: ListRoute[] = [
  {
    name: 'GET /v1/messages',
    get: (query) => h.api('GET', `/v1/messages?${query}`),
    malformed: ['', 'abc', 'msg_', 'msg_123', `${newId('msg')}x`, newId('dm'), ...otherIds],
  },
  {
    name: 'GET /v1/workflows',
    get: (query) => h.api('GET', `/v1/workflows?${query}`),
    malformed: ['', '-a', 'a b', 'a/b', 'k'.repeat(101), '%00'],
  },
  {
    name: 'GET /v1/topics',
    get: (query) => h.api('GET', `/v1/topics?${query}`),
    malformed: ['', '-a', 'a b', 'k'.repeat(101), '%00'],
  },
  {
    name: 'GET /v1/topics/{key}/subscribers',
    get: (query) => h.api('GET', `/v1/topics/c-topic/subscribers?${query}`),
    malformed: ['', '\u0000', 'a\tb', 'k'.repeat(256)],
  },
  {
    name: 'GET /v1/dev/mail',
    get: (query) => h.api('GET', `/v1/dev/mail?${query}`),
    malformed: ['', 'abc', newId('msg'), newId('mail').slice(0, -1)],
  },
  {
    name: 'GET /v1/inbox/items',
    get: (query) => inbox.call('GET', `/v1/inbox/items?${query}`),
    malformed: ['', 'abc', newId('trg'), newId('msg').toUpperCase()],
  },
];

describe.each(routes)('$name', (route) => {
  it('pages with the cursors it hands out', async () => {
    const ids = new Set<string>();
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await route.get(
        `limit=1${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(res.status, res.text).toBe(200);
      for (const item of res.body.items) ids.add(item.id ?? item.key ?? item.subscriberId);
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    expect(ids.size).toBeGreaterThanOrEqual(3);
  });

  it.each(route.malformed)('answers 400 for cursor=%j', async (cursor) => {
    const res = await route.get(`cursor=${encodeURIComponent(cursor)}`);
    expectProblem(res, 400, 'INVALID_REQUEST');
    expect(res.body.errors).toEqual([{ path: '/cursor', message: expect.any(String) }]);
  });
});
