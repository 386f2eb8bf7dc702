import { expect } from 'vitest';
import { call, type ApiResponse, type TestHerald } from './herald.js';

export const OWNER = { email: 'owner@example.com', password: 'correct horse battery' };

/** A browser's view of Herald: the session cookie it holds and the CSRF token it was given. */
export interface Browser {
  cookie: string | undefined;
  csrfToken: string | undefined;
  /**
   * Calls Herald as the dashboard does: the cookie, Origin = Herald's own, and on requests that
   * change something X-CSRF-Token; `headers` adds or overrides (an empty value leaves one out).
   */
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
}

/** The session token a Set-Cookie header sets, or '' when it clears the cookie. */
export function sessionCookieOf(res: ApiResponse): string | undefined {
  const header = res.headers.get('set-cookie');
  const match = header === null ? null : /herald_session=([^;]*)/.exec(header);
  return match ? match[1] : undefined;
}

export function newBrowser(h: Pick<TestHerald, 'url'>, origin = new URL(h.url).origin): Browser {
  const browser: Browser = {
    cookie: undefined,
    csrfToken: undefined,
    async call(method, path, body, headers = {}) {
      const base: Record<string, string> = { origin };
      if (browser.cookie) base.cookie = `herald_session=${browser.cookie}`;
      if (browser.csrfToken && method !== 'GET' && method !== 'HEAD') base['x-csrf-token'] = browser.csrfToken;
      const merged = Object.fromEntries(Object.entries({ ...base, ...headers }).filter(([, value]) => value !== ''));
      const res = await call(h.url + path, method, body, merged);
      const cookie = sessionCookieOf(res);
      if (cookie !== undefined) browser.cookie = cookie || undefined;
      if (res.status < 300 && typeof res.body?.csrfToken === 'string') browser.csrfToken = res.body.csrfToken;
      return res;
    },
  };
  return browser;
}

/** Signs in (200 expected) and returns the browser holding the session. */
export async function signIn(h: Pick<TestHerald, 'url'>, credentials: { email: string; password: string }) {
  const browser = newBrowser(h);
  const res = await browser.call('POST', '/dashboard/api/login', {
    email: credentials.email,
    password: credentials.password,
  });
  expect(res.status, res.text).toBe(200);
  return browser;
}

/** First-run setup as the owner (201 expected); returns their browser. */
export async function setUpOwner(h: Pick<TestHerald, 'url'>, owner = OWNER) {
  const browser = newBrowser(h);
  const res = await browser.call('POST', '/dashboard/api/setup', owner);
  expect(res.status, res.text).toBe(201);
  return browser;
}

/** Adds a user through the API as the owner's browser; returns its id. */
export async function addUser(
  owner: Browser,
  email: string,
  role: 'owner' | 'admin' | 'viewer',
  password = 'a long enough password',
) {
  const res = await owner.call('POST', '/v1/users', { email, role, password });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id as string, email, password };
}
