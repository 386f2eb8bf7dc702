import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { startPageServer, type PageServer } from '../support/page-server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

// The <herald-inbox> element in a real Chromium, on a page of another origin than Herald (as a
// customer's site is), against a real Herald: the API, the stream, CORS and the worker's delivery.

/** Debian's Chromium, which `npm test` installs (test/preflight.js); playwright-core drives it and downloads nothing. */
const CHROMIUM = process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WORKFLOW = 'inbox-note';

let h: TestHerald;
let pages: PageServer;
let browser: Browser;
let secret: string;
const openPages: Page[] = [];
const pageErrors: string[] = [];

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
  const allowed = await h.api('PUT', '/v1/inbox/settings', { allowedOrigins: [pages.origin] });
  expect(allowed.status, allowed.text).toBeLessThan(300);
  secret = (await h.api('GET', '/v1/inbox/settings')).body.secret;
  expect(secret).toEqual(expect.any(String));
  const workflow = await h.api('PUT', `/v1/workflows/${WORKFLOW}`, {
    name: 'Inbox note',
    steps: [{ type: 'in_app', title: '{{ data.title }}', body: '{{ data.body }}', actionUrl: '{{ data.url }}' }],
  });
  expect(workflow.status, workflow.text).toBeLessThan(300);
});

afterEach(async () => {
  for (const page of openPages.splice(0)) await page.close();
  // Whatever happened, nothing may surface in the host page as an uncaught exception.
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await h?.close();
});

let subscribers = 0;
/** A subscriber of its own for each test, so no test sees another's items. */
async function newSubscriber(): Promise<{ id: string; hash: string }> {
  const id = `reader-${++subscribers}`;
  const created = await h.api('PUT', `/v1/subscribers/${id}`, { name: `Reader ${subscribers}` });
  expect(created.status, created.text).toBeLessThan(300);
  return { id, hash: createHmac('sha256', secret).update(id).digest('hex') };
}

const credentials = (s: { id: string; hash: string }) => ({ 'subscriber-id': s.id, 'subscriber-hash': s.hash });

/** Triggers the in-app workflow for one subscriber; returns the message id (= the item id). */
async function notify(subscriberId: string, data: Record<string, string>): Promise<string> {
  const res = await h.api('POST', `/v1/workflows/${WORKFLOW}/trigger`, { to: [{ subscriberId }], data });
  expect(res.status, res.text).toBe(202);
  return res.body.messageIds[0];
}

/** The subscriber's own view of the API, as the element calls it (from Node: no Origin, no CORS). */
const inboxApi = (s: { id: string; hash: string }, path: string) =>
  call(`${h.url}/v1/inbox/${path}`, 'GET', undefined, {
    'x-herald-subscriber-id': s.id,
    'x-herald-subscriber-hash': s.hash,
  });

/** Waits until the worker has delivered `total` items to the subscriber's inbox. */
async function delivered(s: { id: string; hash: string }, total: number): Promise<void> {
  await waitFor(async () => (await inboxApi(s, 'counts')).body.total === total, {
    what: `${total} inbox items`,
    timeoutMs: 20_000,
  });
}

async function messageStatus(id: string): Promise<string> {
  return (await h.api('GET', `/v1/messages/${id}`)).body.status;
}

const waitForStatus = (id: string, status: string) =>
  waitFor(async () => (await messageStatus(id)) === status, { what: `message ${id} to be ${status}` });

interface InboxPage {
  page: Page;
  inbox: Locator;
  bell: Locator;
  badge: Locator;
  dialog: Locator;
  items: Locator;
}

/** Opens a page in a new tab; uncaught exceptions in it fail the test (see afterEach). */
async function visit(url: string, prepare?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 800, height: 700 } });
  openPages.push(page);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await prepare?.(page);
  await page.goto(url);
  return page;
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * Opens a host page embedding the element with these attributes. Without `api-url` the element
 * talks to the origin it was loaded from. The page records the element's events in `heraldEvents`.
 */
async function openInbox(
  attributes: Record<string, string>,
  { css = '', prepare }: { css?: string; prepare?: (page: Page) => Promise<void> } = {},
): Promise<InboxPage> {
  const attrs = Object.entries(attributes)
    .map(([name, value]) => `${name}="${escapeAttribute(value)}"`)
    .join(' ');
  const url = pages.set(
    `/page-${openPages.length}-${subscribers}-${Date.now()}`,
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Host page</title>
<style>body{margin:0;padding:16px;font-family:sans-serif}header{display:flex;justify-content:flex-end;gap:8px}${css}</style>
<script>
  window.heraldEvents = [];
  for (const type of ['herald-inbox:counts', 'herald-inbox:item-click', 'herald-inbox:error', 'herald-inbox:preferences']) {
    document.addEventListener(type, (event) => window.heraldEvents.push({ type, detail: event.detail }));
  }
</script>
<script type="module" src="${h.url}/inbox.js"></script>
</head>
<body><header><button id="before">Before</button><herald-inbox ${attrs}></herald-inbox></header><main><h1>Host page</h1></main></body>
</html>`,
  );
  const page = await visit(url, prepare);
  const inbox = page.locator('herald-inbox');
  return {
    page,
    inbox,
    bell: inbox.getByRole('button', { name: /^Notifications/ }),
    badge: inbox.locator('[part=badge]'),
    dialog: inbox.getByRole('dialog', { name: 'Notifications' }),
    items: inbox.getByRole('article'),
  };
}

/** The element's events of one type, as the host page received them. */
const events = (p: InboxPage, type: string): Promise<any[]> =>
  p.page.evaluate(
    (t) => (globalThis as any).heraldEvents.filter((e: any) => e.type === t).map((e: any) => e.detail),
    type,
  );

/** What the injected markup would set if it ever ran. */
const pwned = (p: InboxPage) => p.page.evaluate('window.pwned');

/** Waits for the element to report this unread count, and for its badge to show it. */
async function waitForUnread(p: InboxPage, unread: number): Promise<void> {
  await waitFor(
    async () => {
      const counts = (await events(p, 'herald-inbox:counts')).at(-1);
      if (counts?.unread !== unread) return false;
      if (unread === 0) return !(await p.badge.isVisible());
      return (await p.badge.textContent()) === (unread > 99 ? '99+' : String(unread));
    },
    { what: `the badge to show ${unread} unread` },
  );
}

async function waitForItems(p: InboxPage, count: number): Promise<void> {
  await waitFor(async () => (await p.items.count()) === count, { what: `${count} items in the list` });
}

const titles = (p: InboxPage) => p.items.locator('[part=title]').allTextContents();

/** Where focus is inside the element: the `part` of the focused element, or `outside`. */
const focusedPart = (p: InboxPage) =>
  p.page.evaluate(() => {
    // This runs in the page; the test's TypeScript program has no DOM types.
    const document = (globalThis as any).document;
    const host = document.querySelector('herald-inbox');
    if (document.activeElement !== host) return `outside:${document.activeElement?.id ?? ''}`;
    const focused = host?.shadowRoot?.activeElement;
    return `${focused?.getAttribute('part') ?? focused?.tagName}:${focused?.textContent?.trim().slice(0, 40) ?? ''}`;
  });

describe('<herald-inbox> in Chromium', () => {
  it('shows a new notification live, and clicking it marks it read', async () => {
    const reader = await newSubscriber();
    const p = await openInbox(credentials(reader));
    await waitForUnread(p, 0);
    expect(await p.bell.getAttribute('aria-label')).toBe('Notifications');
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-badge-0.png` });

    const id = await notify(reader.id, { title: 'Deploy finished', body: 'api 1.4.2 is live' });
    await waitForUnread(p, 1); // over the stream: the page is not reloaded
    expect(await p.bell.getAttribute('aria-label')).toBe('Notifications, 1 unread');
    expect(await p.bell.getAttribute('aria-expanded')).toBe('false');
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-badge-1.png` });

    await p.bell.click();
    expect(await p.bell.getAttribute('aria-expanded')).toBe('true');
    await p.dialog.waitFor();
    await waitForItems(p, 1);
    const item = p.items.first();
    expect(await item.locator('[part=title]').textContent()).toBe('Deploy finished');
    expect(await item.locator('[part=body]').textContent()).toBe('api 1.4.2 is live');
    expect(await item.getAttribute('part')).toBe('item item-unread');
    const stored = (await inboxApi(reader, 'items?status=all')).body.items[0];
    expect(await item.locator('time').getAttribute('datetime')).toBe(new Date(stored.createdAt).toISOString());
    expect(await item.locator('time').textContent()).toMatch(/now|second|minute/);
    // Opening marks everything seen.
    await waitFor(async () => (await events(p, 'herald-inbox:counts')).at(-1)?.unseen === 0, { what: 'unseen 0' });
    await waitForStatus(id, 'seen');
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-open.png` });

    await item.locator('[part=body]').click();
    await waitForUnread(p, 0);
    await waitForStatus(id, 'read');
    expect(await item.getAttribute('part')).toBe('item');
    expect(await item.getByRole('button', { name: 'Mark as unread' }).count()).toBe(1);
    const clicks = await events(p, 'herald-inbox:item-click');
    expect(clicks).toHaveLength(1);
    expect(clicks[0].item).toMatchObject({ id, title: 'Deploy finished', readAt: null });
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-read.png` });
  });

  it('marks one item read and unread, and all as read', async () => {
    const reader = await newSubscriber();
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await notify(reader.id, { title: `Note ${n}`, body: `body ${n}` }));
    await delivered(reader, 3);
    const p = await openInbox(credentials(reader));
    await waitForUnread(p, 3);
    await p.bell.click();
    await waitForItems(p, 3);

    const second = p.items.nth(1);
    await second.getByRole('button', { name: 'Mark as read' }).click();
    await waitForUnread(p, 2);
    await second.getByRole('button', { name: 'Mark as unread' }).click();
    await waitForUnread(p, 3);

    await p.inbox.getByRole('button', { name: 'Mark all as read' }).click();
    await waitForUnread(p, 0);
    expect(await p.inbox.getByRole('button', { name: 'Mark as read' }).count()).toBe(0);
    expect(await p.inbox.getByRole('button', { name: 'Mark as unread' }).count()).toBe(3);
    expect(await p.inbox.getByRole('button', { name: 'Mark all as read' }).isDisabled()).toBe(true);
    for (const id of ids) expect(await messageStatus(id)).toBe('read');
    expect((await inboxApi(reader, 'counts')).body).toMatchObject({ total: 3, unread: 0 });
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-all-read.png` });
  });

  it('removes an archived item from the list', async () => {
    const reader = await newSubscriber();
    const keep = await notify(reader.id, { title: 'Keep me', body: 'stays' });
    await delivered(reader, 1);
    const archive = await notify(reader.id, { title: 'Archive me', body: 'goes' });
    await delivered(reader, 2);
    const p = await openInbox(credentials(reader));
    await p.bell.click();
    await waitForItems(p, 2);
    expect(await titles(p)).toEqual(['Archive me', 'Keep me']);

    await p.items.first().getByRole('button', { name: 'Archive' }).click();
    await waitForItems(p, 1);
    expect(await titles(p)).toEqual(['Keep me']);
    await waitForStatus(archive, 'archived');
    expect(await messageStatus(keep)).not.toBe('archived');
    expect((await inboxApi(reader, 'counts')).body).toMatchObject({ total: 1, unread: 1 });
    await waitForUnread(p, 1);
  });

  it('loads more items when the list is scrolled to its end, each page once', async () => {
    const reader = await newSubscriber();
    for (let n = 1; n <= 12; n++) await notify(reader.id, { title: `Item ${n}`, body: `number ${n}` });
    await delivered(reader, 12);
    const p = await openInbox(
      { ...credentials(reader), 'page-size': '5' },
      { css: 'herald-inbox{--herald-inbox-max-height:220px}' },
    );
    const cursors: string[] = [];
    p.page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/v1/inbox/items') cursors.push(url.searchParams.get('cursor') ?? '(first)');
    });
    await p.bell.click();
    await waitForItems(p, 5);
    expect(cursors).toEqual([]); // the first page was loaded before the list opened

    const scroller = p.inbox.locator('.scroller');
    const scrollToEnd = () => scroller.evaluate((element) => (element.scrollTop = element.scrollHeight));
    await scrollToEnd();
    await waitForItems(p, 10);
    await scrollToEnd();
    await waitForItems(p, 12);
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-scrolled.png` });
    await scrollToEnd();

    const expected = (await inboxApi(reader, 'items?status=all&limit=100')).body.items.map((i: any) => i.title);
    expect(await titles(p)).toEqual(expected);
    expect(new Set(expected).size).toBe(12);
    expect(cursors).toHaveLength(2);
    expect(new Set(cursors).size).toBe(2);
    expect(await p.items.last().getAttribute('aria-setsize')).toBe('12');
  });

  it('says so when there is nothing to show', async () => {
    const reader = await newSubscriber();
    const p = await openInbox(credentials(reader));
    await waitForUnread(p, 0);
    await p.bell.click();
    await p.inbox.getByText('You have no notifications.').waitFor();
    expect(await p.items.count()).toBe(0);
    expect(await p.badge.isVisible()).toBe(false);
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-empty.png` });
  });

  it('works from the keyboard: Tab to the bell, Enter opens, arrows move, Escape closes', async () => {
    const reader = await newSubscriber();
    await notify(reader.id, { title: 'Older', body: 'first' });
    await delivered(reader, 1);
    await notify(reader.id, { title: 'Newer', body: 'second' });
    await delivered(reader, 2);
    const p = await openInbox(credentials(reader));
    await waitForUnread(p, 2);

    await p.page.locator('#before').focus();
    await p.page.keyboard.press('Tab');
    expect(await focusedPart(p)).toMatch(/^bell:/);
    await p.page.keyboard.press('Enter');
    await p.dialog.waitFor();
    expect(await p.bell.getAttribute('aria-expanded')).toBe('true');
    expect(await p.bell.getAttribute('aria-controls')).toBe(await p.dialog.getAttribute('id'));
    await waitFor(async () => (await focusedPart(p)).includes('Newer'), { what: 'focus on the first item' });
    await p.page.keyboard.press('ArrowDown');
    expect(await focusedPart(p)).toMatch(/^item item-unread:.*Older/);
    await p.page.keyboard.press('ArrowUp');
    expect(await focusedPart(p)).toMatch(/^item item-unread:.*Newer/);
    // Tab reaches the focused item's own buttons.
    await p.page.keyboard.press('Tab');
    expect(await focusedPart(p)).toBe('action:Mark as read');
    await p.page.keyboard.press('Enter');
    await waitForUnread(p, 1);

    await p.page.keyboard.press('Escape');
    expect(await p.dialog.isVisible()).toBe(false);
    expect(await p.bell.getAttribute('aria-expanded')).toBe('false');
    expect(await focusedPart(p)).toMatch(/^bell:/);

    // Enter on an item opens it (marks it read); a click outside closes the list.
    await p.page.keyboard.press('Enter');
    await waitFor(async () => (await focusedPart(p)).includes('Newer'), { what: 'focus back on the first item' });
    await p.page.keyboard.press('ArrowDown');
    await p.page.keyboard.press('Enter');
    await waitForUnread(p, 0);
    await p.page.locator('main h1').click();
    expect(await p.dialog.isVisible()).toBe(false);
  });

  it('shows markup in a notification as text', async () => {
    const reader = await newSubscriber();
    const body = '<img src=x onerror="window.pwned=1">';
    await notify(reader.id, { title: '<script>window.pwned=2</script>', body });
    await delivered(reader, 1);
    const p = await openInbox(credentials(reader));
    await p.bell.click();
    await waitForItems(p, 1);
    expect(await p.items.first().locator('[part=body]').textContent()).toBe(body);
    expect(await p.items.first().locator('[part=title]').textContent()).toBe('<script>window.pwned=2</script>');
    expect(await p.inbox.locator('[part=body] img, [part=title] script').count()).toBe(0);
    expect(await pwned(p)).toBeUndefined();
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-markup-as-text.png` });
  });

  it('sets preferences from the keyboard: channels for everything and per workflow or category, for this subscriber alone', async () => {
    const reader = await newSubscriber();
    const other = await newSubscriber();
    // A key holder gave the reader a category rule; the element shows that category too.
    const ruled = await h.api('PUT', `/v1/subscribers/${reader.id}/preferences`, {
      categories: { billing: { channels: { email: false } } },
    });
    expect(ruled.status, ruled.text).toBe(200);
    await notify(reader.id, { title: 'First', body: 'one' });
    await delivered(reader, 1);
    const p = await openInbox({ ...credentials(reader), 'preference-channels': 'email,in_app' });
    await waitForUnread(p, 1);
    await p.bell.focus();
    await p.page.keyboard.press('Enter');
    await waitForItems(p, 1);
    const gear = p.inbox.getByRole('button', { name: 'Preferences' });
    await gear.focus();
    await p.page.keyboard.press('Enter');
    expect(await gear.getAttribute('aria-expanded')).toBe('true');
    const box = (name: string) => p.inbox.getByRole('checkbox', { name });
    await box('Email: All notifications').waitFor();
    expect(await p.items.first().isVisible()).toBe(false); // the list gives way to the preferences
    // Focus is on the first box; a row per category and per workflow the subscriber has items of.
    expect(await focusedPart(p)).toBe('INPUT:');
    const states = async () =>
      p.inbox
        .getByRole('checkbox')
        .evaluateAll((boxes) => boxes.map((b: any) => `${b.getAttribute('aria-label')}=${b.checked ? 'on' : 'off'}`));
    expect(await states()).toEqual([
      'Email: All notifications=on',
      'In-app: All notifications=on',
      'Email: billing=off',
      'In-app: billing=on',
      `Email: ${WORKFLOW}=on`,
      `In-app: ${WORKFLOW}=on`,
    ]);
    const saved = (expected: unknown) =>
      waitFor(
        async () => isDeepStrictEqual((await h.api('GET', `/v1/subscribers/${reader.id}/preferences`)).body, expected),
        { what: `preferences ${JSON.stringify(expected)}` },
      );

    // Space on the focused box: email off for everything; the workflow row follows it.
    await p.page.keyboard.press('Space');
    await saved({ categories: { billing: { channels: { email: false } } }, channels: { email: false } });
    expect(await box(`Email: ${WORKFLOW}`).isChecked()).toBe(false);
    await waitFor(async () => (await p.inbox.locator('[part=preferences-status]').textContent()) === 'Saved.', {
      what: 'the status to say Saved.',
    });
    // Tab through to the workflow's boxes: email back on for this workflow alone, in-app off.
    for (let i = 0; i < 4; i++) await p.page.keyboard.press('Tab');
    expect(await box(`Email: ${WORKFLOW}`).evaluate((b) => b === (b.getRootNode() as any).activeElement)).toBe(true);
    await p.page.keyboard.press('Space');
    await p.page.keyboard.press('Tab');
    await p.page.keyboard.press('Space');
    const expected = {
      categories: { billing: { channels: { email: false } } },
      channels: { email: false },
      workflows: { [WORKFLOW]: { channels: { email: true, in_app: false } } },
    };
    await saved(expected);
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-preferences.png` });
    expect((await events(p, 'herald-inbox:preferences')).at(-1)).toEqual({ preferences: expected });
    // The other subscriber's preferences are untouched.
    expect((await h.api('GET', `/v1/subscribers/${other.id}/preferences`)).body).toEqual({});

    // What the reader chose decides the next notification: in-app off for this workflow.
    const next = await notify(reader.id, { title: 'Second', body: 'two' });
    await waitForStatus(next, 'skipped');
    expect((await h.api('GET', `/v1/messages/${next}`)).body.reason).toBe(`in_app off for workflow ${WORKFLOW}`);

    // The button goes back to the list, with focus on it; Escape closes as before.
    await gear.focus();
    await p.page.keyboard.press('Enter');
    expect(await gear.getAttribute('aria-expanded')).toBe('false');
    expect(await p.items.first().isVisible()).toBe(true);
    expect(await focusedPart(p)).toBe('preferences-button:');
    await p.page.keyboard.press('Escape');
    expect(await p.dialog.isVisible()).toBe(false);
  });

  it('follows http(s) action links only, and not when the page cancels the click', async () => {
    const reader = await newSubscriber();
    const landing = pages.set('/landing', '<!doctype html><title>Landing</title><h1>Landed</h1>');
    const followed = await notify(reader.id, { title: 'Follow me', body: 'http link', url: landing });
    await delivered(reader, 1);
    const cancelled = await notify(reader.id, { title: 'Cancelled', body: 'http link', url: landing });
    await delivered(reader, 2);
    const script = await notify(reader.id, {
      title: 'Script',
      body: 'javascript link',
      url: 'javascript:window.pwned=1',
    });
    await delivered(reader, 3);
    const p = await openInbox(credentials(reader));
    const hostUrl = p.page.url();
    await p.bell.click();
    await waitForItems(p, 3);

    await p.items.filter({ hasText: 'Script' }).locator('[part=body]').click();
    await waitForStatus(script, 'read');
    expect(p.page.url()).toBe(hostUrl);
    expect(await pwned(p)).toBeUndefined();

    await p.page.evaluate(
      "document.addEventListener('herald-inbox:item-click', (event) => event.preventDefault(), { once: true })",
    );
    await p.items.filter({ hasText: 'Cancelled' }).locator('[part=body]').click();
    await waitForStatus(cancelled, 'read'); // still marked read, only not followed
    expect(p.page.url()).toBe(hostUrl);

    await p.items.filter({ hasText: 'Follow me' }).locator('[part=body]').click();
    await p.page.waitForURL(landing);
    await waitForStatus(followed, 'read'); // the read outlives the navigation (keepalive)
  });

  it('never follows a javascript: link, even one the API would hand it', async () => {
    // Herald drops such links when it renders a step; this checks the element's own guard by
    // rewriting the API's real answer on its way to the page.
    const reader = await newSubscriber();
    const id = await notify(reader.id, { title: 'Rewritten', body: 'link rewritten in transit' });
    await delivered(reader, 1);
    const link = ' JavaScript:window.pwned=1';
    const p = await openInbox(credentials(reader), {
      prepare: async (page) => {
        await page.route(`${h.url}/v1/inbox/items?*`, async (route) => {
          const response = await route.fetch();
          const json = await response.json();
          for (const item of json.items) item.actionUrl = link;
          await route.fulfill({ response, json });
        });
      },
    });
    await p.bell.click();
    await waitForItems(p, 1);
    await p.items.first().locator('[part=body]').click();
    await waitForStatus(id, 'read');
    const clicks = await events(p, 'herald-inbox:item-click');
    expect(clicks.at(-1).item.actionUrl).toBe(link);
    expect(await pwned(p)).toBeUndefined();
    expect(p.page.url()).toMatch(/\/page-/);
  });

  it('shows 99+ above 99 unread', async () => {
    const reader = await newSubscriber();
    await Promise.all(Array.from({ length: 100 }, (_, n) => notify(reader.id, { title: `Bulk ${n}`, body: 'x' })));
    await delivered(reader, 100);
    const p = await openInbox(credentials(reader));
    await waitForUnread(p, 100);
    expect(await p.badge.textContent()).toBe('99+');
    expect(await p.bell.getAttribute('aria-label')).toBe('Notifications, 100 unread');
  });

  it('signs in with a short-lived token and an explicit api-url', async () => {
    const reader = await newSubscriber();
    const issued = await h.api('POST', `/v1/subscribers/${reader.id}/inbox-token`, { expiresIn: 600 });
    expect(issued.status, issued.text).toBeLessThan(300);
    const p = await openInbox({ 'api-url': h.url, token: issued.body.token });
    await waitForUnread(p, 0);
    await notify(reader.id, { title: 'Token note', body: 'over a token stream' });
    await waitForUnread(p, 1);
    await p.bell.click();
    await waitForItems(p, 1);
    expect(await titles(p)).toEqual(['Token note']);
  });

  it('reconnects as another subscriber when its attributes change', async () => {
    const [first, second] = [await newSubscriber(), await newSubscriber()];
    await notify(first.id, { title: 'For the first', body: 'one' });
    await notify(second.id, { title: 'For the second', body: 'two' });
    await notify(second.id, { title: 'For the second again', body: 'three' });
    await Promise.all([delivered(first, 1), delivered(second, 2)]);
    const p = await openInbox(credentials(first));
    await waitForUnread(p, 1);
    await p.inbox.evaluate((element, s) => {
      element.setAttribute('subscriber-id', s.id);
      element.setAttribute('subscriber-hash', s.hash);
    }, second);
    await waitForUnread(p, 2);
    await p.bell.click();
    await waitForItems(p, 2);
    expect((await titles(p)).sort()).toEqual(['For the second', 'For the second again']);
  });

  it('resumes the stream after a dropped connection, with what was sent meanwhile', async () => {
    // Through a proxy that can cut the connection: EventSource reconnects by itself with
    // Last-Event-ID, and Herald replays the events the page missed.
    const reader = await newSubscriber();
    const herald = new URL(h.url);
    const proxy = await startTcpProxy({ host: herald.hostname, port: Number(herald.port) });
    try {
      const items: string[] = [];
      const p = await openInbox(
        { ...credentials(reader), 'api-url': `http://127.0.0.1:${proxy.port}` },
        {
          prepare: async (page) => {
            page.on('request', (request) => {
              if (new URL(request.url()).pathname === '/v1/inbox/items') items.push(request.url());
            });
          },
        },
      );
      await waitForUnread(p, 0);
      await notify(reader.id, { title: 'Before the cut', body: 'live' });
      await waitForUnread(p, 1);
      await proxy.down();
      await notify(reader.id, { title: 'During the cut', body: 'replayed' });
      await delivered(reader, 2);
      await proxy.up();
      await waitForUnread(p, 2);
      await p.bell.click();
      await waitForItems(p, 2);
      expect(await titles(p)).toEqual(['During the cut', 'Before the cut']);
      expect(items).toHaveLength(1); // the first page only: the missed item came over the stream
    } finally {
      await proxy.close();
    }
  });

  it('reopens a stream the server refused, and catches up with what it missed', async () => {
    // EventSource gives up for good on a non-200 answer (a restarting Herald's 503); the element
    // reopens the stream itself and, having no Last-Event-ID then, reloads the first page.
    const reader = await newSubscriber();
    let streams = 0;
    const p = await openInbox(credentials(reader), {
      prepare: async (page) => {
        await page.route(`${h.url}/v1/inbox/stream?*`, async (route) => {
          if (++streams > 1) return route.continue();
          await route.fulfill({
            status: 503,
            headers: { 'access-control-allow-origin': pages.origin, 'content-type': 'application/problem+json' },
            body: JSON.stringify({ title: 'Service Unavailable', status: 503 }),
          });
        });
      },
    });
    await waitForUnread(p, 0);
    await notify(reader.id, { title: 'Sent while the stream was down', body: 'caught up' });
    await delivered(reader, 1);
    await waitForUnread(p, 1);
    await waitFor(() => streams === 2, { what: 'the stream reopened' });
    await p.bell.click();
    await waitForItems(p, 1);
    expect(await titles(p)).toEqual(['Sent while the stream was down']);
    // Live again on the reopened stream.
    await notify(reader.id, { title: 'Live again', body: 'over the new stream' });
    await waitForItems(p, 2);
    expect(await titles(p)).toEqual(['Live again', 'Sent while the stream was down']);
  });

  it('draws the bell in the colour of the header it sits in, dark or light, and the list in its own', async () => {
    const reader = await newSubscriber();
    const colour = (locator: Locator, property = 'color') =>
      locator.evaluate((element, name) => (globalThis as any).getComputedStyle(element)[name], property);
    const headers = {
      dark: 'header{background:#111827;color:#f9fafb}',
      light: 'header{background:#ffffff;color:#1f2937}',
    };
    for (const [name, css] of Object.entries(headers)) {
      const p = await openInbox(credentials(reader), { css });
      await waitForUnread(p, 0);
      const header = await colour(p.page.locator('header'));
      expect(await colour(p.bell), name).toBe(header);
      expect(await colour(p.bell.locator('svg'), 'fill'), name).toBe(header);
      // The list has its own background, so it keeps its own text colour.
      await p.bell.click();
      await p.dialog.waitFor();
      expect(await colour(p.dialog.getByRole('heading')), name).toBe('rgb(17, 24, 39)');
      await p.page.screenshot({ path: `${ARTIFACTS}inbox-${name}-header.png` });
    }
    // --herald-inbox-bell-color still wins over the page's colour.
    const themed = await openInbox(credentials(reader), {
      css: `${headers.dark} herald-inbox{--herald-inbox-bell-color:#fbbf24}`,
    });
    await waitForUnread(themed, 0);
    expect(await colour(themed.bell)).toBe('rgb(251, 191, 36)');
  });

  it('works, styled, on a page with a strict Content Security Policy', async () => {
    const reader = await newSubscriber();
    await notify(reader.id, { title: 'Under a CSP', body: 'still styled' });
    await delivered(reader, 1);
    // No inline styles or scripts allowed: the element's styles are a constructed stylesheet.
    const csp = `default-src 'none'; script-src ${h.url}; connect-src ${h.url}; style-src 'none'`;
    const violations: string[] = [];
    const page = await visit(
      pages.set(
        `/csp-${subscribers}`,
        `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}"><title>CSP</title>
<script type="module" src="${h.url}/inbox.js"></script></head>
<body><herald-inbox subscriber-id="${reader.id}" subscriber-hash="${reader.hash}"></herald-inbox></body></html>`,
      ),
      async (p) => {
        p.on('console', (message) => {
          if (message.text().includes('Content Security Policy')) violations.push(message.text());
        });
      },
    );
    const badge = page.locator('herald-inbox [part=badge]');
    await waitFor(async () => (await badge.isVisible()) && (await badge.textContent()) === '1', { what: 'badge 1' });
    expect(await badge.evaluate((element) => (globalThis as any).getComputedStyle(element).backgroundColor)).toBe(
      'rgb(220, 38, 38)',
    );
    await page.locator('herald-inbox [part=bell]').click();
    await page.locator('herald-inbox').getByRole('article').waitFor();
    expect(violations).toEqual([]);
  });

  it('unsubscribes from an email’s link in the browser: the confirm page works under its own strict CSP', async () => {
    // A Herald that puts unsubscribe links in its emails; the link names its public URL, the browser
    // is sent to the Herald itself.
    const publicUrl = 'https://notify.example.com';
    const mailer = await startTestHerald({ 'public-url': publicUrl });
    try {
      const saved = await mailer.api('PUT', '/v1/workflows/weekly-digest', {
        name: 'Weekly digest',
        steps: [{ type: 'email', subject: 'This week', text: 'News' }],
      });
      expect(saved.status, saved.text).toBe(200);
      const sent = await mailer.api('POST', '/v1/workflows/weekly-digest/trigger', {
        to: { subscriberId: 'digest-reader', email: 'digest-reader@example.com' },
      });
      expect(sent.status, sent.text).toBe(202);
      const mail = await waitFor(async () => ((await mailer.api('GET', '/v1/dev/mail')).body.items as any[])[0], {
        what: 'the digest in the dev mailbox',
      });
      const link = /^<(.+)>$/.exec(mail.headers['List-Unsubscribe'])![1]!;
      const violations: string[] = [];
      const page = await visit(mailer.url + link.slice(publicUrl.length), async (p) => {
        p.on('console', (message) => {
          if (message.text().includes('Content Security Policy')) violations.push(message.text());
        });
      });
      const button = page.getByRole('button', { name: 'Unsubscribe' });
      await button.waitFor();
      expect(await page.locator('p').textContent()).toContain('“Weekly digest”');
      // Its one inline style applies: allowed by hash.
      expect(await button.evaluate((element) => (globalThis as any).getComputedStyle(element).backgroundColor)).toBe(
        'rgb(79, 70, 229)',
      );
      const preferences = async () =>
        (await mailer.api('GET', '/v1/subscribers/digest-reader/preferences')).body as Record<string, unknown>;
      expect(await preferences()).toEqual({}); // showing the page changed nothing
      await page.screenshot({ path: `${ARTIFACTS}unsubscribe-confirm.png` });
      await button.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
      expect(await preferences()).toEqual({ workflows: { 'weekly-digest': { channels: { email: false } } } });
      await page.screenshot({ path: `${ARTIFACTS}unsubscribe-done.png` });
      expect(violations).toEqual([]);
    } finally {
      await mailer.close();
    }
  });

  it('reports 401 when a rotated secret ends its stream, and goes live again with the token the page sets', async () => {
    const reader = await newSubscriber();
    const token = async () => (await h.api('POST', `/v1/subscribers/${reader.id}/inbox-token`, {})).body.token;
    const p = await openInbox({ token: await token() });
    await waitForUnread(p, 0);
    const rotated = await h.api('POST', '/v1/inbox/settings/rotate-secret');
    expect(rotated.status).toBe(200);
    secret = rotated.body.secret; // the tests after this one hash with the new secret
    // Herald ends the stream; EventSource reconnects with the old token and is refused.
    await waitFor(
      async () => (await events(p, 'herald-inbox:error')).some((e) => e.status === 401 && e.during === 'stream'),
      { what: 'a 401 stream error event' },
    );
    // As the docs suggest: the page asks its server for a new token on that event.
    const renewed = await token();
    await p.inbox.evaluate((element, value) => element.setAttribute('token', value), renewed);
    await notify(reader.id, { title: 'After the rotation', body: 'live again' });
    await waitForUnread(p, 1);
  });

  it('shows a short message, not an exception, when the credentials are refused', async () => {
    const reader = await newSubscriber();
    const p = await openInbox({ 'subscriber-id': reader.id, 'subscriber-hash': '00'.repeat(32) });
    await waitFor(async () => (await events(p, 'herald-inbox:error')).some((e) => e.status === 401), {
      what: 'a 401 error event',
    });
    await p.bell.click();
    expect(await p.inbox.getByRole('alert').textContent()).toMatch(/sign-in failed/);
    expect(await p.badge.isVisible()).toBe(false);
    await p.page.screenshot({ path: `${ARTIFACTS}inbox-refused.png` });
  });
});
