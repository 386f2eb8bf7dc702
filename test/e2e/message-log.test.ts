import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { followLog, triggerConcurrently } from '../support/message-log.js';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald(); // no smtp-url: email goes to the dev mailbox
  await h.api('PUT', '/v1/workflows/tail', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
});
afterAll(async () => {
  await h.close();
});

const trigger = async (to: unknown): Promise<string[]> => {
  const res = await h.api('POST', '/v1/workflows/tail/trigger', { to });
  expect(res.status).toBe(202);
  return res.body.messageIds;
};

describe('GET /v1/messages?since=', () => {
  it('follows the log in commit order from now, a page at a time, each message once', async () => {
    const start = await h.api('GET', '/v1/messages?since=now');
    expect(start.status).toBe(200);
    expect(start.body).toEqual({ items: [], nextSince: expect.any(Number) });
    const since: number = start.body.nextSince;

    const first = await trigger([{ subscriberId: 'log-a' }, { subscriberId: 'log-b' }]);
    const second = await trigger({ subscriberId: 'log-c', email: 'c@example.com' });
    const third = await trigger(['log-a', 'log-c']);
    const committed = [...first, ...second, ...third];

    const page = await h.api('GET', `/v1/messages?since=${since}&limit=2`);
    expect(page.body.items.map((m: any) => m.id)).toEqual(committed.slice(0, 2));
    expect(page.body.nextCursor).toBeUndefined();
    const [a, b] = page.body.items;
    expect(a.seq).toBeGreaterThan(since);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(page.body.nextSince).toBe(b.seq);
    expect(a).toMatchObject({ subscriberId: 'log-a', workflowKey: 'tail', channel: 'email' });

    const rest = await h.api('GET', `/v1/messages?since=${page.body.nextSince}`);
    expect(rest.body.items.map((m: any) => m.id)).toEqual(committed.slice(2));
    const end = rest.body.nextSince;
    expect(await h.api('GET', `/v1/messages?since=${end}`).then((r) => r.body)).toEqual({ items: [], nextSince: end });
    expect((await h.api('GET', '/v1/messages?since=now')).body.nextSince).toBe(end);
    // The seq is on every view of a message.
    expect((await h.api('GET', `/v1/messages/${committed[0]}`)).body.seq).toBe(a.seq);
    // From the start: every message ever accepted, in commit order.
    const all = (await followLog(h.api, { since: 0, until: () => true })).map((m) => m.id);
    expect(all.slice(-committed.length)).toEqual(committed);
  });

  it('gives a follower every message exactly once while several clients trigger at once', async () => {
    const from = (await h.api('GET', '/v1/messages?since=now')).body.nextSince;
    let done = false;
    const follower = followLog(h.api, { since: from, until: () => done });
    const accepted = await triggerConcurrently([h.api], { clients: 6, triggers: 40, workflow: 'tail' });
    done = true;
    const seen = (await follower).map((m) => m.id);
    expect(seen).toHaveLength(accepted.length);
    expect(new Set(seen)).toEqual(new Set(accepted));
  });

  it.each([
    ['since=-1', /since/],
    ['since=abc', /since/],
    ['since=1.5', /since/],
    ['since=', /since/],
    ['since=1234567890123456', /since/],
    ['since=0&cursor=msg_01jd9x0000000000000000000a', /since cannot be combined with cursor/],
    ['since=now&status=sent', /since cannot be combined with status/],
    ['since=5&triggerId=trg_x&subscriberId=a', /since cannot be combined with triggerId, subscriberId/],
  ])('answers 400 for ?%s', async (query, detail) => {
    const res = await h.api('GET', `/v1/messages?${query}`);
    expectProblem(res, 400, 'INVALID_REQUEST');
    expect(res.body.detail).toMatch(detail);
  });
});
