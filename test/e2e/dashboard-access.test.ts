import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { addUser, OWNER, setUpOwner, signIn, type Browser } from '../support/dashboard.js';
import { call, startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';

// The dashboard calls the same /v1 routes as scripts, authenticated by its session cookie: what a
// cookie may do (CSRF and Origin checks) and what each role may do.

let h: TestHerald;
let owner: Browser;
let admin: Browser;
let viewer: Browser;
beforeAll(async () => {
  h = await startTestHerald();
  owner = await setUpOwner(h);
  admin = await signIn(h, await addUser(owner, 'admin@example.com', 'admin'));
  viewer = await signIn(h, await addUser(owner, 'viewer@example.com', 'viewer'));
});
afterAll(async () => {
  await h?.close();
});

const topic = (name: string) => ({ name });

describe('a session cookie on /v1', () => {
  it('acts on the default environment, the one API keys of the default environment see', async () => {
    const put = await owner.call('PUT', '/v1/topics/from-dashboard', topic('From the dashboard'));
    expect(put.status, put.text).toBe(201);
    const seen = await h.api('GET', '/v1/topics/from-dashboard');
    expect(seen.body).toMatchObject({ key: 'from-dashboard', name: 'From the dashboard' });
    expect((await owner.call('GET', '/v1/topics/from-dashboard')).status).toBe(200);
  });

  it('reads without a CSRF token or Origin (GET)', async () => {
    const res = await owner.call('GET', '/v1/topics', undefined, { origin: '', 'x-csrf-token': '' });
    expect(res.status).toBe(200);
  });

  it('changes nothing without the session’s X-CSRF-Token (403 naming the check)', async () => {
    const missing = await owner.call('PUT', '/v1/topics/no-token', topic('x'), { 'x-csrf-token': '' });
    expectProblem(missing, 403, 'CSRF_REFUSED');
    expect(missing.body.detail).toMatch(/^CSRF token check failed: send the X-CSRF-Token header/);
    const wrong = await owner.call('PUT', '/v1/topics/no-token', topic('x'), { 'x-csrf-token': admin.csrfToken! });
    expectProblem(wrong, 403, 'CSRF_REFUSED');
    expect(wrong.body.detail).toBe("CSRF token check failed: X-CSRF-Token is not this session's token");
    expect((await h.api('GET', '/v1/topics/no-token')).status).toBe(404);
  });

  it('changes nothing from another origin, or with no Origin and no Referer (403 naming the check)', async () => {
    const foreign = await owner.call('DELETE', '/v1/topics/from-dashboard', undefined, {
      origin: 'http://evil.example',
    });
    expectProblem(foreign, 403, 'CSRF_REFUSED');
    expect(foreign.body.detail).toBe(
      `Origin check failed: http://evil.example is not Herald's own origin ${new URL(h.url).origin}`,
    );
    const none = await owner.call('DELETE', '/v1/topics/from-dashboard', undefined, { origin: '' });
    expectProblem(none, 403, 'CSRF_REFUSED');
    expect(none.body.detail).toMatch(/^Origin check failed: the request has no Origin or Referer header/);
    const badReferer = await owner.call('DELETE', '/v1/topics/from-dashboard', undefined, {
      origin: '',
      referer: 'http://evil.example/page',
    });
    expectProblem(badReferer, 403, 'CSRF_REFUSED');
    expect((await h.api('GET', '/v1/topics/from-dashboard')).status).toBe(200);
  });

  it("takes a Referer of Herald's own origin when Origin is absent", async () => {
    const res = await owner.call('PUT', '/v1/topics/by-referer', topic('Referer'), {
      origin: '',
      referer: `${h.url}/dashboard/topics`,
    });
    expect(res.status, res.text).toBe(201);
  });

  it('leaves API keys as they were: an Authorization header wins over a cookie, with no CSRF check', async () => {
    const res = await call(h.url + '/v1/topics/by-key', 'PUT', topic('Key'), {
      authorization: `Bearer ${TEST_API_KEY}`,
      cookie: `herald_session=${viewer.cookie}`,
      origin: 'http://evil.example',
    });
    expect(res.status, res.text).toBe(201);
    expectProblem(await call(h.url + '/v1/topics', 'GET'), 401, 'UNAUTHORIZED');
    expectProblem(
      await call(h.url + '/v1/topics', 'GET', undefined, { authorization: 'Bearer hk_nope' }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('answers 401 NOT_SIGNED_IN for a cookie that opens no session', async () => {
    const res = await call(h.url + '/v1/topics', 'GET', undefined, { cookie: 'herald_session=expired-or-forged' });
    expectProblem(res, 401, 'NOT_SIGNED_IN');
  });
});

describe('roles', () => {
  it('viewer: reads only', async () => {
    expect((await viewer.call('GET', '/v1/topics')).status).toBe(200);
    expect((await viewer.call('HEAD', '/v1/topics')).status).toBe(200);
    expect((await viewer.call('GET', '/v1/audit')).status).toBe(200);
    for (const [method, path, body] of [
      ['PUT', '/v1/topics/viewer', topic('v')],
      ['DELETE', '/v1/topics/from-dashboard', undefined],
      ['POST', '/v1/api-keys', { name: 'viewer key' }],
      ['PUT', '/v1/inbox/settings', { allowedOrigins: [] }],
    ] as const) {
      const res = await viewer.call(method, path, body);
      expectProblem(res, 403, 'FORBIDDEN');
      expect(res.body.detail).toContain('Viewers may only read (GET)');
    }
    expectProblem(await viewer.call('GET', '/v1/users'), 403, 'FORBIDDEN');
  });

  it('admin: everything but users', async () => {
    expect((await admin.call('PUT', '/v1/topics/admin', topic('a'))).status).toBe(201);
    const key = await admin.call('POST', '/v1/api-keys', { name: 'made by an admin' });
    expect(key.status).toBe(201);
    expect((await admin.call('DELETE', `/v1/api-keys/${key.body.id}`)).status).toBe(204);
    for (const [method, body] of [
      ['GET', undefined],
      ['POST', { email: 'x@example.com', role: 'owner', password: OWNER.password }],
    ] as const) {
      const res = await admin.call(method, '/v1/users', body);
      expectProblem(res, 403, 'FORBIDDEN');
      expect(res.body.detail).toBe('Only owners manage users; you are signed in as admin');
    }
  });

  it('owner: everything, users included', async () => {
    expect((await owner.call('GET', '/v1/users')).status).toBe(200);
    expect((await owner.call('PUT', '/v1/topics/owner', topic('o'))).status).toBe(201);
  });

  it('API keys manage everything they did, but not dashboard users', async () => {
    const res = await h.api('GET', '/v1/users');
    expectProblem(res, 403, 'FORBIDDEN');
    expect(res.body.detail).toMatch(/API keys belong to one environment/);
    expect((await h.api('GET', '/v1/audit')).status).toBe(200);
    expect((await h.api('PUT', '/v1/topics/key', topic('k'))).status).toBe(201);
  });

  it('a role change applies to the next request', async () => {
    const promoted = await addUser(owner, 'promoted@example.com', 'viewer');
    const browser = await signIn(h, promoted);
    expectProblem(await browser.call('PUT', '/v1/topics/promoted', topic('p')), 403, 'FORBIDDEN');
    expect((await owner.call('PATCH', `/v1/users/${promoted.id}`, { role: 'admin' })).status).toBe(200);
    expect((await browser.call('PUT', '/v1/topics/promoted', topic('p'))).status).toBe(201);
  });
});
