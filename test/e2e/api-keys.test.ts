import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { call, startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

let h: TestHerald;
beforeAll(async () => {
  // Last use is written every 100 ms here instead of every minute, so the test can see it.
  h = await startTestHerald({}, { auth: { usageFlushMs: 100 } });
});
afterAll(async () => {
  await h.close();
});

const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function createKey(name: string) {
  const res = await h.api('POST', '/v1/api-keys', { name });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; prefix: string; key: string; createdAt: number };
}

describe('API keys', () => {
  it('lists the configured key by id, name and prefix, never the key or its hash', async () => {
    const res = await h.api('GET', '/v1/api-keys');
    expect(res.status).toBe(200);
    const configured = res.body.items.find((key: { name: string }) => key.name === 'HERALD_API_KEY');
    expect(configured).toMatchObject({
      id: expect.stringMatching(/^key_/),
      name: 'HERALD_API_KEY',
      prefix: TEST_API_KEY.slice(0, 11),
      createdAt: expect.any(Number),
    });
    expect(Object.keys(configured).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix']);
    expect(res.text).not.toContain(TEST_API_KEY);
  });

  it('creates a key (201) that is shown once, works at once, and is listed by its prefix', async () => {
    const before = Date.now();
    const created = await createKey('billing service');
    expect(created).toMatchObject({ name: 'billing service', lastUsedAt: null });
    expect(created.key).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 11));
    expect(created.createdAt).toBeGreaterThanOrEqual(before);
    expect((await call(h.url + '/v1/workflows', 'GET', undefined, as(created.key))).status).toBe(200);
    const list = await h.api('GET', '/v1/api-keys');
    expect(list.body.items.map((key: { id: string }) => key.id)).toContain(created.id);
    expect(list.text).not.toContain(created.key);
  });

  it('refuses a key without a proper name (422)', async () => {
    for (const body of [{}, { name: '' }, { name: 'a\nb' }, { name: 'x'.repeat(101) }, { name: 'ok', extra: 1 }]) {
      expectProblem(await h.api('POST', '/v1/api-keys', body), 422, 'VALIDATION_FAILED');
    }
  });

  it('records when a key was last used, in batches off the request path', async () => {
    const created = await createKey('last use');
    const used = Date.now();
    for (let i = 0; i < 5; i++) await call(h.url + '/v1/workflows', 'GET', undefined, as(created.key));
    const lastUsedAt = await waitFor(
      async () => {
        const list = await h.api('GET', '/v1/api-keys');
        return list.body.items.find((key: { id: string }) => key.id === created.id).lastUsedAt as number | null;
      },
      { what: 'lastUsedAt' },
    );
    expect(lastUsedAt).toBeGreaterThanOrEqual(used);
  });

  it('revokes a key at once, even one this process has just trusted (204), then 404', async () => {
    const created = await createKey('to revoke');
    expect((await call(h.url + '/v1/workflows', 'GET', undefined, as(created.key))).status).toBe(200); // cached now
    const revoked = await h.api('DELETE', `/v1/api-keys/${created.id}`);
    expect(revoked.status).toBe(204);
    expectProblem(await call(h.url + '/v1/workflows', 'GET', undefined, as(created.key)), 401, 'UNAUTHORIZED');
    expect((await h.api('GET', '/v1/api-keys')).body.items.map((key: { id: string }) => key.id)).not.toContain(
      created.id,
    );
    expectProblem(await h.api('DELETE', `/v1/api-keys/${created.id}`), 404, 'API_KEY_NOT_FOUND');
    expectProblem(await h.api('DELETE', '/v1/api-keys/key_unknown'), 404, 'API_KEY_NOT_FOUND');
  });

  it('lets a key revoke itself; it is refused from the next request on', async () => {
    const created = await createKey('self');
    const res = await call(h.url + `/v1/api-keys/${created.id}`, 'DELETE', undefined, as(created.key));
    expect(res.status).toBe(204);
    expectProblem(await call(h.url + '/v1/api-keys', 'GET', undefined, as(created.key)), 401, 'UNAUTHORIZED');
  });

  it("refuses to revoke the environment's last key (409), which keeps working", async () => {
    const alone = await startTestHerald();
    try {
      const [only] = (await alone.api('GET', '/v1/api-keys')).body.items;
      const res = await alone.api('DELETE', `/v1/api-keys/${only.id}`);
      expectProblem(res, 409, 'LAST_API_KEY');
      expect(res.body.detail).toMatch(/create another first/);
      expect((await alone.api('GET', '/v1/api-keys')).status).toBe(200);
    } finally {
      await alone.close();
    }
  });

  it('needs an API key itself', async () => {
    expectProblem(await call(h.url + '/v1/api-keys', 'GET'), 401, 'UNAUTHORIZED');
    expectProblem(await call(h.url + '/v1/api-keys', 'POST', { name: 'x' }), 401, 'UNAUTHORIZED');
  });
});
