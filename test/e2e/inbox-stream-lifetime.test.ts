import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriberHash } from '../../src/core/inbox-credentials.js';
import { expectProblem } from '../support/expect-problem.js';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { deliverInApp, inboxSecret } from '../support/inbox.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';

// How long an inbox stream lives: no longer than the credentials that opened it (a rotated secret,
// an expired token), and never in unbounded numbers (per subscriber, per process).

/** The test clock runs this far ahead of real time, so a token can expire without a minute's wait. */
let clockOffsetMs = 0;
const clock = { now: () => Date.now() + clockOffsetMs };

let h: TestHerald;
const open: SseClient[] = [];
beforeAll(async () => {
  h = await startTestHerald({}, { clock });
  await h.api('PUT', '/v1/workflows/note', { steps: [{ type: 'in_app', body: 'Note {{ data.n }}' }] });
});
afterAll(async () => {
  for (const client of open) client.close();
  await h?.close();
});

let unique = 0;
const newId = () => `lifetime-${++unique}`;

async function streamWith(url: string, query: Record<string, string>, headers: Record<string, string> = {}) {
  const client = await openSse(`${url}/v1/inbox/stream?${new URLSearchParams(query)}`, headers);
  open.push(client);
  return client;
}

/** Opens a stream with a subscriber hash and waits for its first event. */
async function hashStream(subscriberId: string, secret: string, url = h.url) {
  const client = await streamWith(url, { subscriberId, subscriberHash: subscriberHash(secret, subscriberId) });
  expect(client.status).toBe(200);
  await client.waitFor(1, 'counts');
  return client;
}

async function inboxToken(subscriberId: string, expiresIn?: number): Promise<string> {
  await h.api('PUT', `/v1/subscribers/${subscriberId}`, {});
  const res = await h.api('POST', `/v1/subscribers/${subscriberId}/inbox-token`, expiresIn ? { expiresIn } : {});
  expect(res.status, res.text).toBe(200);
  return res.body.token;
}

/** Waits until the server has ended the stream, and returns why it said it did. */
async function endReason(client: SseClient): Promise<string | undefined> {
  await client.waitForEnd();
  return client.events.filter((event) => event.event === 'closed').at(-1)?.data.reason;
}

describe('rotating the inbox secret', () => {
  it('ends every open stream made with the old secret at once, hash and token alike', async () => {
    const old = await inboxSecret(h);
    const hashId = newId();
    const byHash = await hashStream(hashId, old);
    const tokenId = newId();
    const byToken = await streamWith(h.url, { token: await inboxToken(tokenId) });
    await byToken.waitFor(1, 'counts');

    const rotated = await h.api('POST', '/v1/inbox/settings/rotate-secret');
    expect(rotated.status).toBe(200);
    expect(await endReason(byHash)).toBe('revoked');
    expect(await endReason(byToken)).toBe('revoked');

    // The browser's EventSource reconnects with what it had: refused now.
    const again = await streamWith(h.url, { subscriberId: hashId, subscriberHash: subscriberHash(old, hashId) });
    expect(again.status).toBe(401);
    // New credentials open a stream that lives on.
    const fresh = await hashStream(newId(), rotated.body.secret);
    expect(fresh.ended).toBe(false);
  });

  it('leaves streams open when only the allowed origins change', async () => {
    const secret = await inboxSecret(h);
    const id = newId();
    const client = await hashStream(id, secret);
    const put = await h.api('PUT', '/v1/inbox/settings', { allowedOrigins: ['https://app.example.com'] });
    expect(put.status).toBe(200);
    await deliverInApp(h, 'note', id, { n: 1 });
    await client.waitFor(1, 'item.created');
    expect(client.ended).toBe(false);
    expect(client.events.some((event) => event.event === 'closed')).toBe(false);
    await h.api('PUT', '/v1/inbox/settings', { allowedOrigins: null });
  });
});

describe('a token-authenticated stream', () => {
  it("ends at the token's expiry, and the token is then refused", async () => {
    const id = newId();
    const token = await inboxToken(id, 60);
    clockOffsetMs = 59_000; // one second of the token's minute left
    try {
      const client = await streamWith(h.url, { token });
      expect(client.status).toBe(200);
      await client.waitFor(1, 'counts');
      expect(await endReason(client)).toBe('expired');
      const again = await call(`${h.url}/v1/inbox/counts`, 'GET', undefined, { authorization: `Bearer ${token}` });
      expectProblem(again, 401, 'INBOX_UNAUTHORIZED');
      expect(again.body.detail).toMatch(/expired/);
    } finally {
      clockOffsetMs = 0;
    }
  });
});

describe('streams per subscriber', () => {
  it("end the subscriber's oldest past ten, telling it to wait before reconnecting", async () => {
    const secret = await inboxSecret(h);
    const id = newId();
    const clients: SseClient[] = [];
    for (let i = 0; i < 10; i++) clients.push(await hashStream(id, secret));
    expect(clients.some((client) => client.ended)).toBe(false);
    const [oldest, ...rest] = clients;
    const newest = await hashStream(id, secret);
    expect(await endReason(oldest!)).toBe('replaced');
    expect(oldest!.retry).toBe(60_000);
    // The newer ten stay and hear what happens next.
    await deliverInApp(h, 'note', id, { n: 1 });
    for (const client of [...rest, newest]) await client.waitFor(1, 'item.created');
    expect([...rest, newest].some((client) => client.ended)).toBe(false);
  });
});

describe('streams per process', () => {
  let small: TestHerald;
  beforeAll(async () => {
    small = await startTestHerald({ 'inbox-max-streams': '2' });
  });
  afterAll(async () => small?.close());

  const streamCount = async () =>
    Number(/^herald_inbox_streams (\d+)$/m.exec((await call(`${small.url}/metrics`, 'GET')).text)?.[1]);

  it('refuse a new subscriber with 503 and Retry-After once full; a subscriber holding one may swap it', async () => {
    const secret = await inboxSecret(small);
    const a = await hashStream('full-a', secret, small.url);
    const b = await hashStream('full-b', secret, small.url);

    const hash = subscriberHash(secret, 'full-c');
    const refused = await call(
      `${small.url}/v1/inbox/stream?${new URLSearchParams({ subscriberId: 'full-c', subscriberHash: hash })}`,
      'GET',
    );
    expectProblem(refused, 503, 'SERVICE_UNAVAILABLE');
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.body.detail).toMatch(/--inbox-max-streams/);

    // A subscriber that already holds a stream trades its oldest for the new one.
    const a2 = await hashStream('full-a', secret, small.url);
    expect(await endReason(a)).toBe('replaced');
    expect(b.ended).toBe(false);

    // Room again once a page leaves.
    b.close();
    await waitFor(async () => (await streamCount()) === 1, { what: 'the closed stream to be let go' });
    const c = await hashStream('full-c', secret, small.url);
    expect(c.ended || a2.ended).toBe(false);
  });
});
