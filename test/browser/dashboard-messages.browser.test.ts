import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUpOwner, signIn, type Browser as SessionBrowser } from '../support/dashboard.js';
import { fromEmailFrame } from '../support/dashboard-browser.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// The Messages page in a real headless Chromium against a real Herald: an owner finds a failed
// message and its attempts, retries it and sees it sent; re-drives every failed message of a
// workflow; a template's script is shown inert; a viewer sees no button and no content. Screenshots
// go to test-artifacts/; a console error or a blank page fails the test.

const CHROMIUM = process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1200, height: 900 };

let h: TestHerald;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
/** While true the webhook receiver answers 410 Gone: a message fails at once. */
let broken = true;
let owner: SessionBrowser;
let viewer: SessionBrowser;
const openContexts: BrowserContext[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (npm test installs it where it can)`,
    );
  }
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(broken ? 410 : 200, { 'content-type': 'text/plain' });
      res.end(broken ? 'gone' : 'ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  [h, browser] = await Promise.all([
    startTestHerald({
      'secret-key': 'dashboard-messages-secret-key-0123456789',
      'allow-private-networks': '127.0.0.0/8',
    }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  expect((await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' })).status).toBe(201);
  for (const key of ['hook', 'hook-bulk']) {
    const res = await h.api('PUT', `/v1/workflows/${key}`, {
      steps: [{ type: 'webhook', url: `${receiverUrl}/${key}`, body: { to: '{{ subscriber.subscriberId }}' } }],
    });
    expect(res.status, res.text).toBe(200);
  }
  owner = await setUpOwner(h);
  viewer = await signIn(h, await addUser(owner, 'viewer@example.com', 'viewer'));
});

afterEach(async () => {
  for (const context of openContexts.splice(0)) await context.close();
  expect(problems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

/** Opens `/dashboard/<path>` signed in with `session`'s cookie. */
async function open(session: SessionBrowser, path: string, viewport = PHONE): Promise<Page> {
  const context = await browser.newContext({ viewport });
  await context.addCookies([{ name: 'herald_session', value: session.cookie!, url: h.url }]);
  openContexts.push(context);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !fromEmailFrame(message)) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(`${h.url}/dashboard/${path}`);
  return page;
}

/** Waits for the page's heading, checks the page is not blank, and saves a screenshot. */
async function shows(page: Page, heading: string | RegExp, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10_000 });
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: 10_000 });
  const text = await page.locator('#app').innerText();
  expect(text.trim().length, `${name} has text`).toBeGreaterThan(20);
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(page.viewportSize()!.width);
  await page.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true });
}

async function trigger(key: string, subscriberId: string): Promise<string> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, {
    to: { subscriberId, email: `${subscriberId}@example.com` },
  });
  expect(res.status, res.text).toBe(202);
  return res.body.messageIds[0];
}

function messageIn(id: string, statuses: string[]): Promise<any> {
  return waitFor(
    async () => {
      const res = await h.api('GET', `/v1/messages/${id}`);
      return statuses.includes(res.body.status) ? res.body : undefined;
    },
    { what: `message ${id} to be ${statuses.join(' or ')}` },
  );
}

describe('the Messages page', () => {
  it('an owner finds a failed message with its attempts, retries it and sees it sent', async () => {
    broken = true;
    const id = await trigger('hook', 'ada');
    await messageIn(id, ['failed']);

    const page = await open(owner, 'messages', DESKTOP);
    await shows(page, 'Messages', 'messages-list');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('Workflow key').fill('hook');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page.getByRole('row').filter({ hasText: 'ada' });
    await row.waitFor();
    expect(await row.getByText('failed', { exact: true }).isVisible()).toBe(true);
    await row.getByRole('link').click();

    await shows(page, /^Message msg_/, 'messages-detail-failed');
    expect(page.url()).toBe(`${h.url}/dashboard/messages/${id}`);
    await page.getByRole('heading', { name: 'Attempts (1)' }).waitFor();
    expect(await page.locator('.msg-attempt').innerText()).toMatch(/failed[\s\S]*410/);
    await page.getByText(/^Run run_\w+: /).waitFor();

    broken = false;
    await page.getByRole('button', { name: 'Retry now' }).click();
    await page.getByText('Queued again: now sent.').waitFor({ timeout: 15_000 });
    await page.getByRole('heading', { name: 'Attempts (2)' }).waitFor();
    expect(await page.locator('.msg-attempt').allInnerTexts()).toEqual([
      expect.stringMatching(/^failed/),
      expect.stringMatching(/^sent/),
    ]);
    expect(await page.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    await shows(page, /^Message msg_/, 'messages-detail-retried');
    expect((await h.api('GET', `/v1/messages/${id}`)).body).toMatchObject({ id, status: 'sent', attemptCount: 2 });

    // Back to the list, filters kept.
    await page.getByRole('link', { name: '← All messages' }).click();
    await shows(page, 'Messages', 'messages-list-after-retry');
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
  });

  it('re-drives every failed message matching the filters, after a confirmation showing them', async () => {
    broken = true;
    const ids = [await trigger('hook-bulk', 'bo'), await trigger('hook-bulk', 'cy'), await trigger('hook-bulk', 'di')];
    const other = await trigger('hook', 'eve');
    for (const id of [...ids, other]) await messageIn(id, ['failed']);

    const page = await open(owner, 'messages');
    await shows(page, 'Messages', 'messages-list-phone');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('Workflow key').fill('hook-bulk');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('row').filter({ hasText: 'di' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(3);

    await page.getByRole('button', { name: 'Re-drive all failed matching these filters' }).click();
    const confirm = page.getByRole('region', { name: 'Re-drive failed messages?' });
    expect(await confirm.innerText()).toMatch(/Status: failed[\s\S]*Workflow: hook-bulk/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-messages-redrive-confirm.png`, fullPage: true });
    broken = false;
    await confirm.getByRole('button', { name: 'Re-drive now' }).click();
    await page.getByText('Re-queued 3 failed messages.').waitFor();
    for (const id of ids) expect((await messageIn(id, ['sent'])).attemptCount).toBe(2);
    expect((await h.api('GET', `/v1/messages/${other}`)).body).toMatchObject({ status: 'failed', attemptCount: 1 });
  });

  it('shows a template with a script inert: the HTML in a sandboxed frame, nothing runs', async () => {
    // Each script would leave a mark in the frame's own document, and try the dashboard's.
    const evil =
      '<p>Hello</p><script>document.title="pwned";parent.document.title="pwned";</script>' +
      "<svg onload=\"document.body.dataset.pwned='yes';parent.document.body.dataset.pwned='yes'\"></svg>";
    const res = await h.api('PUT', '/v1/workflows/evil', {
      steps: [{ type: 'email', subject: '<script>alert(1)</script>', html: evil }],
    });
    expect(res.status, res.text).toBe(200);
    const id = await trigger('evil', 'mal');
    const message = await messageIn(id, ['sent']);
    expect(message.content.html).toContain('<script>');

    const page = await open(owner, `messages/${id}`, DESKTOP);
    await shows(page, /^Message msg_/, 'messages-detail-html');
    const frame = page.locator('iframe.msg-html');
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await frame.getAttribute('srcdoc')).toBeNull();
    // The frame rendered its HTML, and none of its scripts ran.
    await waitFor(async () => (await page.frameLocator('iframe.msg-html').getByText('Hello').count()) === 1, {
      what: 'the frame to render',
    });
    const inner = page.frames().find((frame) => frame !== page.mainFrame())!;
    expect(await inner.evaluate('document.title')).not.toBe('pwned');
    expect(await inner.evaluate('document.body.dataset.pwned ?? null')).toBeNull();
    expect(await page.title()).toBe('Messages · Herald');
    expect(await page.evaluate('document.body.dataset.pwned ?? null')).toBeNull();
    // The subject is text, not markup.
    expect(await page.getByText('<script>alert(1)</script>').count()).toBe(1);
    expect(await page.locator('#app script').count()).toBe(0);
  });

  it('a viewer sees the log and the timeline, but no content and no buttons', async () => {
    broken = true;
    const id = await trigger('hook', 'vic');
    await messageIn(id, ['failed']);

    const page = await open(viewer, 'messages');
    await shows(page, 'Messages', 'messages-list-viewer');
    await page.getByRole('row').filter({ hasText: 'vic' }).waitFor();
    expect(await page.getByRole('button', { name: /Re-drive/ }).count()).toBe(0);

    await page.goto(`${h.url}/dashboard/messages/${id}`);
    await shows(page, /^Message msg_/, 'messages-detail-viewer');
    await page.getByRole('heading', { name: 'Attempts (1)' }).waitFor();
    await page.getByText('Content is hidden from viewers.').waitFor();
    expect(await page.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    expect(await page.locator('iframe').count()).toBe(0);
    broken = false;
  });
});
