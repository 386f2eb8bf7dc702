import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUpOwner, signIn, OWNER } from '../support/dashboard.js';
import { dashboardPages, expectShown, launchChromium, PHONE, type Credentials } from '../support/dashboard-browser.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// The people pages in a real headless Chromium against a real Herald: subscribers (search,
// profile, preferences), topics (create, members), the audit log and users, as an owner, an admin
// and a viewer. Every page is saved as a screenshot in test-artifacts/; a console error (a CSP
// refusal among them) or a blank page fails the test.

const SLACK_HOOK = 'https://hooks.slack.com/services/T000/B000/people-secret';

let h: TestHerald;
let browser: Browser;
let admin: { email: string; password: string };
let viewer: { email: string; password: string };
const pages = dashboardPages(() => browser);
const { problems } = pages;

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestHerald(), launchChromium()]);
  const owner = await setUpOwner(h);
  admin = await addUser(owner, 'admin@example.com', 'admin');
  viewer = await addUser(owner, 'viewer@example.com', 'viewer');
  const seed = [
    await h.api('PUT', '/v1/subscribers/ppl-ann', {
      email: 'Ann.Lee@example.com',
      name: 'Ann',
      chat: { slack: SLACK_HOOK },
    }),
    await h.api('PUT', '/v1/subscribers/ppl-bob', { email: 'bob@example.com' }),
    await h.api('PUT', '/v1/workflows/weekly-news', {
      category: 'news',
      steps: [{ type: 'email', subject: 'News', text: 'Hello' }],
    }),
    await h.api('POST', '/v1/workflows/weekly-news/trigger', { to: 'ppl-ann', data: {} }),
  ];
  for (const res of seed) expect(res.status, res.text).toBeLessThan(300);
});

afterEach(async () => {
  await pages.check();
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** A new browser signed in as `who`, on `path` under /dashboard/. */
const signedIn = (who: Credentials, path: string, viewport?: { width: number; height: number }) =>
  pages.signedIn(h.url, who, path, viewport);

/** The page is shown (heading, not blank, fits), saved as test-artifacts/dashboard-people-<name>.png. */
const shows = (page: Page, heading: string | RegExp, name: string) => expectShown(page, heading, `people-${name}`);

describe('the people pages in a browser', () => {
  it('an admin finds a subscriber, opens the profile and changes a preference, which the API then answers', async () => {
    const page = await signedIn(admin, 'subscribers');
    await shows(page, 'Subscribers', 'subscribers');
    await page.getByLabel('Starts with').fill('ANN.');
    await page.getByLabel('Search by').selectOption('email');
    await page.getByRole('button', { name: 'Search' }).click();
    const found = page.getByRole('list', { name: 'Subscribers' }).getByRole('link');
    await waitFor(async () => (await found.allInnerTexts()).join() === 'ppl-ann', { what: 'the search by email' });
    await page.getByLabel('Starts with').fill('ppl-');
    await page.getByLabel('Search by').selectOption('id');
    await page.getByRole('button', { name: 'Search' }).click();
    await waitFor(async () => (await found.allInnerTexts()).join() === 'ppl-ann,ppl-bob', { what: 'the id search' });
    await shows(page, 'Subscribers', 'subscribers-found');

    await page.getByRole('link', { name: 'ppl-ann' }).click();
    await shows(page, 'Subscriber ppl-ann', 'subscriber-profile');
    expect(page.url()).toBe(`${h.url}/dashboard/subscribers/ppl-ann`);
    await expect(page.getByText(SLACK_HOOK).isVisible()).resolves.toBe(true);
    // The trigger's email is listed, linking to its message page.
    const messages = (await h.api('GET', '/v1/messages?subscriberId=ppl-ann')).body.items;
    await expect(page.getByRole('link', { name: messages[0].id }).first().getAttribute('href')).resolves.toBe(
      `/dashboard/messages/${messages[0].id}`,
    );

    const cell = page.getByLabel('Workflow weekly-news: email');
    expect(await cell.inputValue()).toBe('inherit');
    await cell.selectOption('off');
    await page.getByLabel('Category news: sms').selectOption('off');
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Preferences saved.').waitFor();
    const saved = await h.api('GET', '/v1/subscribers/ppl-ann/preferences');
    expect(saved.body).toEqual({
      categories: { news: { channels: { sms: false } } },
      workflows: { 'weekly-news': { channels: { email: false } } },
    });
    await shows(page, 'Subscriber ppl-ann', 'subscriber-preferences-saved');
  });

  it('an admin creates a topic and adds members, at 375 px', async () => {
    const page = await signedIn(admin, 'topics', PHONE);
    await shows(page, 'Topics', 'topics-empty');
    await page.getByLabel('Key').fill('ppl-watchers');
    await page.getByLabel('Name (optional)').fill('Watchers');
    await page.getByRole('button', { name: 'Create topic' }).click();
    await shows(page, 'Watchers', 'topic-created');
    expect(page.url()).toBe(`${h.url}/dashboard/topics/ppl-watchers`);
    await page.getByLabel('Subscriber ids').fill('ppl-ann, ppl-bob');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('2 added').waitFor();
    const members = page.getByRole('list', { name: 'Members' }).getByRole('link');
    await waitFor(async () => (await members.allInnerTexts()).join() === 'ppl-ann,ppl-bob', { what: 'the members' });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await shows(page, 'Watchers', 'topic-members');
    const listed = await h.api('GET', '/v1/topics/ppl-watchers/subscribers');
    expect(listed.body.items.map((m: { subscriberId: string }) => m.subscriberId)).toEqual(['ppl-ann', 'ppl-bob']);

    // An unknown subscriber is refused with the API's own words.
    await page.getByLabel('Subscriber ids').fill('nobody-here');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'nobody-here' }).waitFor();
    problems.splice(0).forEach((problem) => expect(problem).toMatch(/status of 422/));
  });

  it('the audit log lists the change, filtered by action', async () => {
    const page = await signedIn(admin, 'audit');
    await shows(page, 'Audit log', 'audit');
    await page.getByLabel('Action').fill('PUT /v1/subscribers/{subscriberId}/preferences');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('tbody tr');
    await waitFor(async () => (await rows.count()) === 1, { what: 'the filtered audit log' });
    const row = await rows.first().innerText();
    expect(row).toContain(admin.email);
    expect(row).toContain('subscriberId: ppl-ann');
    await shows(page, 'Audit log', 'audit-filtered');
  });

  it('an owner adds a viewer with a generated password, and is refused demoting the last owner', async () => {
    const page = await signedIn(OWNER, 'users');
    await shows(page, 'Users', 'users');
    await page.getByLabel('Email', { exact: true }).fill('new-viewer@example.com');
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Add user' }).click();
    const secret = page.locator('.people-secret');
    await secret.waitFor();
    const password = await secret.innerText();
    expect(password).toHaveLength(20);
    await shows(page, 'Users', 'users-created');
    const session = await signIn(h, { email: 'new-viewer@example.com', password });
    expect((await session.call('GET', '/dashboard/api/session')).body.user.role).toBe('viewer');

    await page.getByLabel(`Role of ${OWNER.email}`).selectOption('viewer');
    await page.getByRole('button', { name: 'Change role' }).first().click();
    await page.getByRole('alert').filter({ hasText: /owner/ }).waitFor();
    problems.splice(0).forEach((problem) => expect(problem).toMatch(/status of 409/));
    await shows(page, 'Users', 'users-last-owner');
    expect((await h.api('GET', '/v1/subscribers/ppl-ann')).status).toBe(200);
  });

  it('a viewer reads every page without edit controls', async () => {
    const page = await signedIn(viewer, 'subscribers/ppl-ann', PHONE);
    await shows(page, 'Subscriber ppl-ann', 'viewer-subscriber');
    // The preferences table scrolls in its own box: the page is no wider than the phone.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await expect(page.getByText('not shown to viewers').isVisible()).resolves.toBe(true);
    expect(await page.getByText(SLACK_HOOK).count()).toBe(0);
    expect(await page.locator('main select, main input, main button').count()).toBe(0);
    // The table still says what decides each send.
    await expect(page.getByRole('row', { name: /Workflow weekly-news/ }).innerText()).resolves.toMatch(/off/);

    await page.getByRole('link', { name: 'ppl-watchers' }).click();
    await shows(page, 'Watchers', 'viewer-topic');
    expect(await page.getByRole('button', { name: /Add|Remove|Rename|Delete/ }).count()).toBe(0);
    await page.getByRole('link', { name: '← Topics' }).click();
    await shows(page, 'Topics', 'viewer-topics');
    expect(await page.getByRole('button', { name: 'Create topic' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Audit log' }).click();
    await shows(page, 'Audit log', 'viewer-audit');
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
  });
});
