import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUpOwner, signIn, type Browser } from '../support/dashboard.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

// POST /dashboard/api/frame: the document behind the dashboard's email frames.

let h: TestHerald;
let owner: Browser;
beforeAll(async () => {
  h = await startTestHerald();
  owner = await setUpOwner(h);
});
afterAll(async () => {
  await h?.close();
});

const EMAIL = '<p style="color: rgb(255, 0, 0)">Hello</p><script>alert(1)</script>';

/** Posts the form as the dashboard's hidden form does; `fields` and `headers` override. */
async function postFrame(
  browser: Browser | undefined,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const form = new URLSearchParams({ html: EMAIL, ...(browser?.csrfToken ? { csrf: browser.csrfToken } : {}) });
  for (const [name, value] of Object.entries(fields)) {
    if (value === '') form.delete(name);
    else form.set(name, value);
  }
  const base: Record<string, string> = {
    origin: new URL(h.url).origin,
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (browser?.cookie) base.cookie = `herald_session=${browser.cookie}`;
  const res = await fetch(`${h.url}/dashboard/api/frame`, {
    method: 'POST',
    headers: { ...base, ...headers },
    body: form.toString(),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('POST /dashboard/api/frame', () => {
  it('answers the posted HTML as is, under its own sandboxing policy', async () => {
    const res = await postFrame(owner);
    expect(res.status, res.text).toBe(200);
    expect(res.text).toBe(EMAIL);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(
      "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    );
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('refuses a post without the csrf field, with a wrong one, or from another origin (403)', async () => {
    const missing = await postFrame(owner, { csrf: '' });
    expect(missing.status).toBe(403);
    expect(JSON.parse(missing.text)).toMatchObject({
      code: 'CSRF_REFUSED',
      detail: expect.stringMatching(/csrf field/),
    });
    // A refusal carries the dashboard's own headers, not the frame's.
    expect(missing.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(missing.headers.get('x-frame-options')).toBe('DENY');
    const wrong = await postFrame(owner, { csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(JSON.parse(wrong.text).detail).toMatch(/not this session's token/);
    const foreign = await postFrame(owner, {}, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.text).detail).toMatch(/Origin check failed: https:\/\/evil\.example/);
  });

  it('refuses a post without a session (401)', async () => {
    const res = await postFrame(undefined, { csrf: owner.csrfToken! });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text).code).toBe('NOT_SIGNED_IN');
  });

  it('lets a viewer use it', async () => {
    const viewer = await addUser(owner, 'viewer@example.com', 'viewer');
    const browser = await signIn(h, viewer);
    const res = await postFrame(browser);
    expect(res.status, res.text).toBe(200);
    expect(res.text).toBe(EMAIL);
  });

  it('refuses html longer than 2 MiB (413) and takes 2 MiB exactly', async () => {
    const exact = await postFrame(owner, { html: 'a'.repeat(2 * 1024 * 1024) });
    expect(exact.status).toBe(200);
    const over = await postFrame(owner, { html: 'a'.repeat(2 * 1024 * 1024 + 1) });
    expect(over.status).toBe(413);
    expect(JSON.parse(over.text)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', detail: expect.stringMatching(/2 MiB/) });
    // A body too large even for the encoding's worst case is refused before it is read.
    const huge = await postFrame(owner, { html: '<'.repeat(3 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    // The route's own limit (its form may carry 2 MiB of HTML encoded), not the API's 1 MiB.
    expect(JSON.parse(huge.text).detail).toMatch(/larger than 6\.0 MiB/);
  });
});
