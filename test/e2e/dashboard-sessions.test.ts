import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../../src/core/sessions.js';
import { expectProblem } from '../support/expect-problem.js';
import { addUser, newBrowser, OWNER, setUpOwner, signIn, type Browser } from '../support/dashboard.js';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { testClock } from '../support/test-clock.js';

// Dashboard sessions through the HTTP API: first-run setup, login, logout, expiry, cookies.

const clock = testClock();
let h: TestHerald;
let owner: Browser;
beforeAll(async () => {
  h = await startTestHerald({}, { clock });
  owner = await setUpOwner(h);
});
afterAll(async () => {
  await h?.close();
});

describe('first-run setup', () => {
  it('creates exactly one owner however many setups race, then refuses (409)', async () => {
    const fresh = await startTestHerald();
    try {
      const state = await newBrowser(fresh).call('GET', '/dashboard/api/state');
      expect(state.body).toEqual({ setupRequired: true, signedIn: false });
      const attempts = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          newBrowser(fresh).call('POST', '/dashboard/api/setup', {
            email: `first${i}@example.com`,
            password: OWNER.password,
          }),
        ),
      );
      expect(attempts.map((res) => res.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const res of attempts.filter((r) => r.status === 409)) expectProblem(res, 409, 'SETUP_DONE');
      const won = attempts.find((res) => res.status === 201)!;
      expect(won.body.user).toMatchObject({ role: 'owner', email: expect.stringMatching(/^first\d@example\.com$/) });
      expect((await newBrowser(fresh).call('GET', '/dashboard/api/state')).body.setupRequired).toBe(false);
      // The winner is signed in at once.
      expect(won.headers.get('set-cookie')).toMatch(/^herald_session=[\w-]{43};/);
    } finally {
      await fresh.close();
    }
  });

  it('refuses a short password (422) and a setup from another origin (403)', async () => {
    const fresh = await startTestHerald();
    try {
      const short = await newBrowser(fresh).call('POST', '/dashboard/api/setup', { email: 'a@b.c', password: 'short' });
      expectProblem(short, 422, 'VALIDATION_FAILED');
      const foreign = await newBrowser(fresh, 'https://evil.example').call('POST', '/dashboard/api/setup', OWNER);
      expectProblem(foreign, 403, 'CSRF_REFUSED');
      expect(foreign.body.detail).toMatch(/Origin check failed: https:\/\/evil\.example is not Herald's own origin/);
      expect((await newBrowser(fresh).call('GET', '/dashboard/api/state')).body.setupRequired).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});

describe('login', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie for the whole site and answers who is signed in', async () => {
    const browser = newBrowser(h);
    const res = await browser.call('POST', '/dashboard/api/login', {
      email: ' Owner@Example.COM ',
      password: OWNER.password,
    });
    expect(res.status, res.text).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^herald_session=[\w-]{43}; Max-Age=43200; HttpOnly; SameSite=Lax; Path=\/$/);
    expect(res.body).toEqual({
      user: { id: expect.stringMatching(/^usr_/), email: OWNER.email, role: 'owner' },
      csrfToken: expect.stringMatching(/^[\w-]{43}$/),
      expiresAt: expect.any(Number),
    });
    const session = await browser.call('GET', '/dashboard/api/session');
    expect(session.status).toBe(200);
    expect(session.body).toEqual(res.body);
    expect((await browser.call('GET', '/dashboard/api/state')).body).toEqual({ setupRequired: false, signedIn: true });
  });

  it('makes a new session at every login and ends the one the browser came with', async () => {
    const browser = await signIn(h, OWNER);
    const first = browser.cookie!;
    const again = await browser.call('POST', '/dashboard/api/login', OWNER);
    expect(again.status).toBe(200);
    expect(browser.cookie).not.toBe(first);
    const old = await call(h.url + '/dashboard/api/session', 'GET', undefined, { cookie: `herald_session=${first}` });
    expectProblem(old, 401, 'NOT_SIGNED_IN');
    expect((await browser.call('GET', '/dashboard/api/session')).status).toBe(200);
  });

  it('answers a wrong email and a wrong password alike (401), a disabled account too', async () => {
    const disabled = await addUser(owner, 'gone@example.com', 'admin');
    expect((await owner.call('PATCH', `/v1/users/${disabled.id}`, { disabled: true })).status).toBe(200);
    const answers = [
      await newBrowser(h).call('POST', '/dashboard/api/login', {
        email: 'nobody@example.com',
        password: OWNER.password,
      }),
      await newBrowser(h).call('POST', '/dashboard/api/login', { email: OWNER.email, password: 'wrong password!' }),
      await newBrowser(h).call('POST', '/dashboard/api/login', { email: disabled.email, password: disabled.password }),
    ];
    for (const res of answers) {
      expectProblem(res, 401, 'LOGIN_FAILED');
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    const bodies = answers.map(({ body: { requestId: _r, ...rest } }) => rest);
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it('says 401 without a session, and clears a cookie that no longer opens one', async () => {
    expectProblem(await newBrowser(h).call('GET', '/dashboard/api/session'), 401, 'NOT_SIGNED_IN');
    const stale = await call(h.url + '/dashboard/api/session', 'GET', undefined, { cookie: 'herald_session=made-up' });
    expectProblem(stale, 401, 'NOT_SIGNED_IN');
    expect(stale.headers.get('set-cookie')).toMatch(/^herald_session=; Max-Age=0;/);
  });
});

describe('logout', () => {
  it('ends this session only, and needs the CSRF token', async () => {
    const a = await signIn(h, OWNER);
    const b = await signIn(h, OWNER);
    const token = a.cookie;
    const forged = await a.call('POST', '/dashboard/api/logout', undefined, { 'x-csrf-token': '' });
    expectProblem(forged, 403, 'CSRF_REFUSED');
    const out = await a.call('POST', '/dashboard/api/logout');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^herald_session=; Max-Age=0;/);
    const ended = await call(h.url + '/v1/workflows', 'GET', undefined, { cookie: `herald_session=${token}` });
    expectProblem(ended, 401, 'NOT_SIGNED_IN');
    expect((await b.call('GET', '/dashboard/api/session')).status).toBe(200);
  });

  it('everywhere: ends every session of the user and no one else’s', async () => {
    const other = await addUser(owner, 'everywhere@example.com', 'admin');
    const [a, b, c] = [await signIn(h, other), await signIn(h, other), await signIn(h, OWNER)];
    const token = a.cookie;
    expect((await a.call('POST', '/dashboard/api/logout-everywhere')).status).toBe(204);
    expect((await b.call('GET', '/dashboard/api/session')).status).toBe(401);
    expect((await call(h.url + '/v1/workflows', 'GET', undefined, { cookie: `herald_session=${token}` })).status).toBe(
      401,
    );
    expect((await c.call('GET', '/dashboard/api/session')).status).toBe(200);
    expectProblem(await b.call('POST', '/dashboard/api/logout-everywhere'), 401, 'NOT_SIGNED_IN');
  });
});

describe('expiry', () => {
  it('ends a session idle for 30 minutes; use keeps it alive', async () => {
    const browser = await signIn(h, OWNER);
    clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await browser.call('GET', '/v1/workflows')).status).toBe(200); // use: last seen now
    clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await browser.call('GET', '/dashboard/api/session')).status).toBe(200);
    clock.advance(SESSION_IDLE_MS + 1000);
    expectProblem(await browser.call('GET', '/v1/workflows'), 401, 'NOT_SIGNED_IN');
    expect((await browser.call('GET', '/dashboard/api/session')).status).toBe(401);
  });

  it('ends a session 12 hours after login however much it is used', async () => {
    const browser = await signIn(h, OWNER);
    const steps = Math.ceil(SESSION_ABSOLUTE_MS / (SESSION_IDLE_MS / 2));
    for (let i = 1; i < steps; i++) {
      clock.advance(SESSION_IDLE_MS / 2);
      expect((await browser.call('GET', '/dashboard/api/session')).status, `after ${i * 15} min`).toBe(200);
    }
    clock.advance(SESSION_IDLE_MS / 2);
    expect((await browser.call('GET', '/dashboard/api/session')).status).toBe(401);
  });
});

describe('with an https --public-url', () => {
  it('marks the cookie Secure and takes the public origin as its own', async () => {
    const behindProxy = await startTestHerald({ 'public-url': 'https://herald.example.com' });
    try {
      const setup = await newBrowser(behindProxy, 'https://herald.example.com').call(
        'POST',
        '/dashboard/api/setup',
        OWNER,
      );
      expect(setup.status, setup.text).toBe(201);
      expect(setup.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Lax; Path=\/; Secure$/);
      const local = await newBrowser(behindProxy).call('POST', '/dashboard/api/login', OWNER);
      expectProblem(local, 403, 'CSRF_REFUSED');
      expect(local.body.detail).toContain("is not Herald's own origin https://herald.example.com");
    } finally {
      await behindProxy.close();
    }
  });
});
