import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { addUser, newBrowser, OWNER, setUpOwner, signIn, type Browser } from '../support/dashboard.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

// /v1/users: owners manage the dashboard's users; the instance always keeps an enabled owner.

let h: TestHerald;
let owner: Browser;
let ownerId: string;
beforeAll(async () => {
  h = await startTestHerald();
  owner = await setUpOwner(h);
  ownerId = (await owner.call('GET', '/dashboard/api/session')).body.user.id;
});
afterAll(async () => {
  await h?.close();
});

const login = (email: string, password: string) =>
  newBrowser(h).call('POST', '/dashboard/api/login', { email, password });

describe('users', () => {
  it('creates users with a role (201), emails compared without case, never showing a password hash', async () => {
    const res = await owner.call('POST', '/v1/users', {
      email: 'Ann@Example.com',
      role: 'admin',
      password: 'twelve chars',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^usr_/),
      email: 'ann@example.com',
      role: 'admin',
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
      disabledAt: null,
    });
    const taken = await owner.call('POST', '/v1/users', {
      email: 'ANN@example.com',
      role: 'viewer',
      password: 'twelve chars',
    });
    expectProblem(taken, 409, 'EMAIL_TAKEN');
    const list = await owner.call('GET', '/v1/users');
    expect(list.body.items.map((user: { email: string }) => user.email)).toEqual([OWNER.email, 'ann@example.com']);
    expect(list.text).not.toMatch(/scrypt|password/i);
    expect((await login('ANN@EXAMPLE.COM', 'twelve chars')).status).toBe(200);
  });

  it('refuses short passwords, unknown roles and malformed emails (422)', async () => {
    for (const body of [
      { email: 'b@example.com', role: 'admin', password: 'elevenchars' },
      { email: 'b@example.com', role: 'superuser', password: 'twelve chars' },
      { email: 'not an email', role: 'admin', password: 'twelve chars' },
      { email: 'b@example.com', role: 'admin', password: 'twelve chars', extra: true },
    ]) {
      expectProblem(await owner.call('POST', '/v1/users', body), 422, 'VALIDATION_FAILED');
    }
    expectProblem(await owner.call('PATCH', `/v1/users/${ownerId}`, {}), 422, 'VALIDATION_FAILED');
  });

  it('a new password ends the user’s sessions and replaces the old one', async () => {
    const user = await addUser(owner, 'carol@example.com', 'viewer');
    const browser = await signIn(h, user);
    const changed = await owner.call('PATCH', `/v1/users/${user.id}`, { password: 'a brand new password' });
    expect(changed.status, changed.text).toBe(200);
    expectProblem(await browser.call('GET', '/v1/topics'), 401, 'NOT_SIGNED_IN');
    expectProblem(await login(user.email, user.password), 401, 'LOGIN_FAILED');
    expect((await login(user.email, 'a brand new password')).status).toBe(200);
  });

  it('disabling ends the sessions and refuses logins until enabled again', async () => {
    const user = await addUser(owner, 'dan@example.com', 'admin');
    const browser = await signIn(h, user);
    const disabled = await owner.call('PATCH', `/v1/users/${user.id}`, { disabled: true });
    expect(disabled.body.disabledAt).toEqual(expect.any(Number));
    expectProblem(await browser.call('GET', '/dashboard/api/session'), 401, 'NOT_SIGNED_IN');
    expectProblem(await login(user.email, user.password), 401, 'LOGIN_FAILED');
    expect((await owner.call('PATCH', `/v1/users/${user.id}`, { disabled: false })).body.disabledAt).toBeNull();
    expect((await login(user.email, user.password)).status).toBe(200);
  });

  it('never removes, demotes or disables the last enabled owner (409)', async () => {
    for (const change of [{ role: 'admin' }, { role: 'viewer' }, { disabled: true }]) {
      const res = await owner.call('PATCH', `/v1/users/${ownerId}`, change);
      expectProblem(res, 409, 'LAST_OWNER');
    }
    expectProblem(await owner.call('DELETE', `/v1/users/${ownerId}`), 409, 'LAST_OWNER');
    // A disabled owner does not count.
    const idle = await addUser(owner, 'idle-owner@example.com', 'owner');
    await owner.call('PATCH', `/v1/users/${idle.id}`, { disabled: true });
    expectProblem(await owner.call('PATCH', `/v1/users/${ownerId}`, { role: 'admin' }), 409, 'LAST_OWNER');
    // With a second enabled owner, the first may step down.
    await owner.call('PATCH', `/v1/users/${idle.id}`, { disabled: false });
    const second = await signIn(h, idle);
    const demoted = await owner.call('PATCH', `/v1/users/${ownerId}`, { role: 'admin' });
    expect(demoted.status, demoted.text).toBe(200);
    expectProblem(await owner.call('GET', '/v1/users'), 403, 'FORBIDDEN');
    expect((await second.call('PATCH', `/v1/users/${ownerId}`, { role: 'owner' })).status).toBe(200);
  });

  it('of two owners demoting each other at once, one stays', async () => {
    for (const user of await h.herald.store.listUsers()) {
      if (user.role === 'owner' && user.id !== ownerId)
        await owner.call('PATCH', `/v1/users/${user.id}`, { role: 'admin' });
    }
    const other = await addUser(owner, 'rival@example.com', 'owner');
    const rival = await signIn(h, other);
    const [a, b] = await Promise.all([
      owner.call('PATCH', `/v1/users/${other.id}`, { role: 'viewer' }),
      rival.call('PATCH', `/v1/users/${ownerId}`, { role: 'viewer' }),
    ]);
    // One wins. The other is refused: 409 when its check saw the winner's change, or 403 when the
    // winner's change came first and the loser is no longer an owner when its request starts.
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const owners = (await h.herald.store.listUsers()).filter((user) => user.role === 'owner' && !user.disabledAt);
    expect(owners).toHaveLength(1);
    // Put things back for the tests after.
    if (a.status !== 200) await rival.call('PATCH', `/v1/users/${ownerId}`, { role: 'owner' });
  });

  it('deletes a user with their sessions (204), then 404', async () => {
    const user = await addUser(owner, 'erin@example.com', 'viewer');
    const browser = await signIn(h, user);
    expect((await owner.call('DELETE', `/v1/users/${user.id}`)).status).toBe(204);
    expectProblem(await browser.call('GET', '/v1/topics'), 401, 'NOT_SIGNED_IN');
    expectProblem(await owner.call('DELETE', `/v1/users/${user.id}`), 404, 'USER_NOT_FOUND');
    expectProblem(await owner.call('PATCH', `/v1/users/${user.id}`, { role: 'admin' }), 404, 'USER_NOT_FOUND');
    expectProblem(await owner.call('DELETE', '/v1/users/not-an-id'), 400, 'INVALID_REQUEST');
  });
});
