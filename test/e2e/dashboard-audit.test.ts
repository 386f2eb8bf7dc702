import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_RETENTION_MS } from '../../src/core/audit.js';
import { newId } from '../../src/core/ids.js';
import { startHousekeeping } from '../../src/worker/housekeeping.js';
import { expectProblem } from '../support/expect-problem.js';
import { addUser, newBrowser, OWNER, setUpOwner, signIn, type Browser } from '../support/dashboard.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// The audit log: every successful change through /v1 and every login, logout and user change,
// written after the answer; traffic (triggers, inbox) left out.

let h: TestHerald;
let owner: Browser;
let keyId: string;
beforeAll(async () => {
  h = await startTestHerald();
  owner = await setUpOwner(h);
  keyId = (await h.api('GET', '/v1/api-keys')).body.items[0].id;
});
afterAll(async () => {
  await h?.close();
});

/** The events `query` lists, once `expected` of them are there (they are written after the answer). */
async function events(query: string, expected: number) {
  return waitFor(
    async () => {
      const res = await h.api('GET', `/v1/audit${query}`);
      return res.body.items.length >= expected && res.body.items;
    },
    { what: `${expected} audit events for ${query}` },
  );
}

describe('the audit log', () => {
  it('records a change by an API key: the route pattern, its parameters and the status, no body', async () => {
    expect((await h.api('PUT', '/v1/topics/audited', { name: 'A secret name' })).status).toBe(201);
    const [event] = await events('?action=PUT%20/v1/topics/%7Bkey%7D', 1);
    expect(event).toEqual({
      id: expect.stringMatching(/^aud_/),
      environmentId: 'env_development',
      at: expect.any(Number),
      actor: { type: 'api_key', id: keyId },
      action: 'PUT /v1/topics/{key}',
      target: { key: 'audited' },
      status: 201,
    });
    expect(JSON.stringify(await h.herald.store.listAuditEvents('env_development', { limit: 100 }))).not.toContain(
      'A secret name',
    );
  });

  it('records a change by a signed-in user, with their email', async () => {
    expect((await owner.call('DELETE', '/v1/topics/audited')).status).toBe(204);
    const [event] = await events('?action=DELETE%20/v1/topics/%7Bkey%7D', 1);
    expect(event).toMatchObject({
      actor: { type: 'user', id: expect.stringMatching(/^usr_/), email: OWNER.email },
      target: { key: 'audited' },
      status: 204,
    });
  });

  it('records setup, logins, logouts and user changes as instance-wide events, never a password', async () => {
    const user = await addUser(owner, 'audited@example.com', 'viewer', 'a password to hide');
    const browser = await signIn(h, user);
    await browser.call('POST', '/dashboard/api/logout');
    const again = await signIn(h, user);
    await again.call('POST', '/dashboard/api/logout-everywhere');
    await owner.call('PATCH', `/v1/users/${user.id}`, { password: 'another password to hide' });
    const list = await events(`?actor=${user.id}`, 4);
    expect(list.map((event: any) => event.action)).toEqual([
      'POST /dashboard/api/logout-everywhere',
      'POST /dashboard/api/login',
      'POST /dashboard/api/logout',
      'POST /dashboard/api/login',
    ]);
    expect(list.every((event: any) => event.environmentId === null)).toBe(true);
    const byOwner = await events(`?actor=${encodeURIComponent(OWNER.email.toUpperCase())}`, 4);
    const actions = byOwner.map((event: any) => event.action);
    expect(actions).toEqual(
      expect.arrayContaining(['POST /dashboard/api/setup', 'POST /v1/users', 'PATCH /v1/users/{id}']),
    );
    expect(byOwner.find((event: any) => event.action === 'PATCH /v1/users/{id}')).toMatchObject({
      environmentId: null,
      target: { id: user.id },
      status: 200,
    });
    const everything = JSON.stringify(await h.herald.store.listAuditEvents('env_development', { limit: 100 }));
    expect(everything).not.toContain('password to hide');
  });

  it('leaves out reads, refusals and failures, triggers and inbox traffic', async () => {
    const before = (await h.herald.store.listAuditEvents('env_development', { limit: 100 })).items.length;
    await h.api('GET', '/v1/topics');
    await h.api('PUT', '/v1/topics/bad key', { name: 'x' }); // 400
    await newBrowser(h).call('POST', '/dashboard/api/login', { email: OWNER.email, password: 'wrong password' });
    await h.api('PUT', '/v1/workflows/noted', { steps: [{ type: 'in_app', body: 'Hi' }] });
    await h.api('PUT', '/v1/subscribers/sam', {});
    const trigger = await h.api('POST', '/v1/workflows/noted/trigger', { to: { subscriberId: 'sam' } });
    expect(trigger.status).toBe(202);
    await h.api('POST', '/v1/subscribers/sam/inbox-token', {});
    await h.api('PUT', '/v1/topics/marker', { name: 'the last one' });
    const list = await events('', before + 3);
    expect(list.slice(0, 3).map((event: any) => event.action)).toEqual([
      'PUT /v1/topics/{key}',
      'PUT /v1/subscribers/{subscriberId}',
      'PUT /v1/workflows/{key}',
    ]);
    expect(list).toHaveLength(before + 3);
  });

  it('pages newest first by cursor, filters by action and actor, and viewers may read it', async () => {
    const page1 = await h.api('GET', '/v1/audit?limit=2');
    expect(page1.body.items).toHaveLength(2);
    const page2 = await h.api('GET', `/v1/audit?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items[0].id < page1.body.items[1].id).toBe(true);
    const byKey = await h.api('GET', `/v1/audit?actor=${keyId}&limit=100`);
    expect(byKey.body.items.every((event: any) => event.actor.id === keyId)).toBe(true);
    expectProblem(await h.api('GET', '/v1/audit?cursor=nope'), 400, 'INVALID_REQUEST');
    const viewer = await signIn(h, await addUser(owner, 'reader@example.com', 'viewer'));
    expect((await viewer.call('GET', '/v1/audit')).status).toBe(200);
  });

  it('is pruned by housekeeping after 90 days', async () => {
    const now = Date.now();
    const old = now - AUDIT_RETENTION_MS - 60_000;
    await h.herald.store.addAuditEvents([
      {
        id: newId('aud', old),
        environmentId: null,
        at: old,
        actor: { type: 'cli' },
        action: 'old',
        target: {},
        status: 200,
      },
      {
        id: newId('aud', now),
        environmentId: null,
        at: now,
        actor: { type: 'cli' },
        action: 'new',
        target: {},
        status: 200,
      },
    ]);
    const housekeeping = startHousekeeping(
      { store: h.herald.store, clock: { now: () => now }, logger: pino({ level: 'silent' }) },
      { idempotencyWindowMs: 3_600_000, retentionMs: undefined, firstPassMs: 0 },
    );
    try {
      await waitFor(async () => (await h.api('GET', '/v1/audit?action=old')).body.items.length === 0, {
        what: 'the old event to be pruned',
      });
    } finally {
      await housekeeping.stop();
    }
    expect((await h.api('GET', '/v1/audit?action=new')).body.items).toHaveLength(1);
  });
});
