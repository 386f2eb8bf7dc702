import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startPageServer, type PageServer } from '../support/page-server.js';
import { waitFor } from '../support/wait-for.js';

// The dashboard in a real headless Chromium against a real Herald: first-run setup, sign-in, the
// shell, logout, and what a page on another origin cannot do with the session cookie. Every page
// is saved as a screenshot in test-artifacts/; a console error (a CSP refusal among them) or a
// blank page fails the test.

/** Debian's Chromium, which `npm test` installs (test/preflight.js); playwright-core drives it and downloads nothing. */
const CHROMIUM = process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const OWNER = { email: 'owner@example.com', password: 'correct horse battery staple' };
const PHONE = { width: 375, height: 740 };

let h: TestHerald;
let pages: PageServer;
let browser: Browser;
const openPages: Page[] = [];
/** Console errors and uncaught exceptions; a test that provokes some on purpose takes them out. */
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (npm test installs it where it can)`,
    );
  }
  [h, pages, browser] = await Promise.all([
    startTestHerald(),
    startPageServer(),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
});

afterEach(async () => {
  for (const page of openPages.splice(0)) await page.close();
  expect(problems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await h?.close();
});

/** Opens `url` in a new page (of its own context, unless `context` is given). */
async function open(url: string, viewport = PHONE, context?: BrowserContext): Promise<Page> {
  const page = context ? await context.newPage() : await browser.newPage({ viewport });
  openPages.push(page);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(url);
  return page;
}

/** Waits for the page's heading, checks the page is not blank, and saves a screenshot. */
async function shows(page: Page, heading: string, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10_000 });
  const text = await page.locator('#app').innerText();
  expect(text.trim().length, `${name} has text`).toBeGreaterThan(20);
  await page.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true });
}

/** What `/v1/...` answers the page's own fetch, as the dashboard's script would call it. */
function fetchFrom(
  page: Page,
  path: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
) {
  return page.evaluate(
    async ([path, init]) => {
      const res = await fetch(path, init);
      return { status: res.status, body: (await res.json()) as any };
    },
    [path, init] as const,
  );
}

describe('the dashboard in a browser', () => {
  it('first run: setup, the shell, logout and sign-in again, by keyboard at 375 px', async () => {
    const page = await open(h.url + '/');
    expect(page.url()).toBe(`${h.url}/dashboard/`);
    await shows(page, 'Welcome to Herald', 'setup');
    // Email has the focus; the rest by keyboard only.
    await page.keyboard.type(OWNER.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(OWNER.password);
    await page.keyboard.press('Tab');
    await page.keyboard.type(OWNER.password);
    await page.keyboard.press('Enter');
    await shows(page, 'Overview', 'shell-phone');
    expect(await page.locator('.who').innerText()).toBe(`${OWNER.email} owner`);
    // Nothing wider than the phone's screen.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);

    // The menu opens from the keyboard, and its links lead to the pages to come.
    const menu = page.getByRole('button', { name: 'Menu' });
    await menu.focus();
    await page.keyboard.press('Enter');
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await page.getByRole('link', { name: 'Workflows' }).focus();
    await page.keyboard.press('Enter');
    await shows(page, 'Workflows', 'later-page');
    expect(page.url()).toBe(`${h.url}/dashboard/workflows`);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-menu.png` });

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await shows(page, 'Sign in to Herald', 'login');
    await expect(page.getByText('You are signed out.').isVisible()).resolves.toBe(true);
    const session = await fetchFrom(page, '/dashboard/api/state', { method: 'GET' });
    expect(session.body).toEqual({ setupRequired: false, signedIn: false });

    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByLabel('Password').press('Enter');
    // Back where the address bar says: the page they were on.
    await shows(page, 'Workflows', 'shell-again');
    // A reload keeps the session (the cookie).
    await page.reload();
    await shows(page, 'Workflows', 'shell-reloaded');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Overview' }).click();
    await shows(page, 'Overview', 'overview-again');
    expect(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).toBe('false');
  });

  it('is usable on a wide screen too', async () => {
    const page = await open(h.url + '/dashboard/', { width: 1280, height: 800 });
    await shows(page, 'Sign in to Herald', 'login-wide');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shows(page, 'Overview', 'shell-wide');
    expect(await page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Log out everywhere' }).click();
    await shows(page, 'Sign in to Herald', 'signed-out-everywhere');
  });

  it('refuses a forged cross-site POST from a page on another origin', async () => {
    const context = await browser.newContext({ viewport: PHONE });
    try {
      const page = await open(h.url + '/dashboard/', PHONE, context);
      await page.getByLabel('Email').fill(OWNER.email);
      await page.getByLabel('Password').fill(OWNER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await shows(page, 'Overview', 'shell-before-forgery');
      const keysBefore = (await h.api('GET', '/v1/api-keys')).body.items.length;

      // The other origin is the same site (127.0.0.1, another port): SameSite=Lax sends the cookie,
      // so the Origin check is what refuses it. Its script posts (no-cors) and its form submits.
      const forger = pages.set(
        '/forge.html',
        `<!doctype html><html><body>
          <form id="f" method="POST" action="${h.url}/v1/api-keys" enctype="text/plain">
            <input name='{"name":"forged-form","x":"' value='"}'>
          </form>
          <script>
            fetch(${JSON.stringify(h.url + '/v1/api-keys')}, { method: 'POST', mode: 'no-cors', credentials: 'include',
              headers: { 'content-type': 'text/plain' }, body: '{"name":"forged-fetch"}' })
              .then(() => { document.title = 'fetched'; document.getElementById('f').submit(); });
          </script>
        </body></html>`,
      );
      const attacker = await context.newPage();
      openPages.push(attacker);
      await attacker.goto(forger);
      await waitFor(async () => attacker.url().startsWith(h.url), { what: 'the forged form to be submitted' });
      await attacker.waitForLoadState();
      expect(await attacker.locator('body').innerText()).toContain('CSRF_REFUSED');
      await attacker.screenshot({ path: `${ARTIFACTS}dashboard-forged-post.png` });
      const keys = (await h.api('GET', '/v1/api-keys')).body.items;
      expect(keys).toHaveLength(keysBefore);
      // The session was not touched: the dashboard still works.
      await page.reload();
      await shows(page, 'Overview', 'shell-after-forgery');
      // The refused form's answer is a 403 page: Chromium logs it as a failed load.
      expect(problems.splice(0).every((problem) => /status of 403/.test(problem))).toBe(true);
    } finally {
      await context.close();
    }
  });

  it("refuses a same-origin request without the session's CSRF token", async () => {
    const page = await open(h.url + '/dashboard/');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shows(page, 'Overview', 'shell-for-csrf');
    const json = { 'content-type': 'application/json' };
    const without = await fetchFrom(page, '/v1/topics/no-token', {
      method: 'PUT',
      headers: json,
      body: '{"name":"x"}',
    });
    expect(without.status).toBe(403);
    expect(without.body).toMatchObject({
      code: 'CSRF_REFUSED',
      detail: expect.stringContaining('CSRF token check failed'),
    });
    expect((await h.api('GET', '/v1/topics/no-token')).status).toBe(404);
    // With the token, as the dashboard sends it, the same request goes through.
    const { csrfToken } = (await fetchFrom(page, '/dashboard/api/session', { method: 'GET' })).body;
    const withToken = await fetchFrom(page, '/v1/topics/with-token', {
      method: 'PUT',
      headers: { ...json, 'x-csrf-token': csrfToken },
      body: '{"name":"y"}',
    });
    expect(withToken.status).toBe(201);
    expect(problems.splice(0)).toEqual([expect.stringMatching(/status of 403/)]);
  });
});
