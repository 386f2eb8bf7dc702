import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUpOwner } from '../support/dashboard.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { fromEmailFrame } from '../support/dashboard-browser.js';
import { waitFor } from '../support/wait-for.js';

// The Workflows pages of the dashboard in a real headless Chromium against a real Herald: the
// editor's live preview and its inline errors, save, trigger, test send, the inert email preview,
// versions and restore, and a viewer's read-only view. Screenshots go to test-artifacts/; a
// console error or an uncaught exception fails the test.

const CHROMIUM = process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const OWNER = { email: 'owner@example.com', password: 'correct horse battery staple' };
const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 740 };

let h: TestHerald;
let browser: Browser;
let viewer: { email: string; password: string };
const openPages: Page[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (npm test installs it where it can)`,
    );
  }
  [h, browser] = await Promise.all([
    startTestHerald(),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  const owner = await setUpOwner(h, OWNER);
  viewer = await addUser(owner, 'viewer@example.com', 'viewer');
});

afterEach(async () => {
  for (const page of openPages.splice(0)) await page.close();
  expect(problems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** Signs in at /dashboard/<path> and waits for the page's heading. */
async function openSignedIn(path: string, user = OWNER, viewport = WIDE): Promise<Page> {
  const page = await browser.newPage({ viewport });
  openPages.push(page);
  page.on('console', (message) => {
    if (message.type() === 'error' && !fromEmailFrame(message)) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(`${h.url}/dashboard/${path}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

async function shows(page: Page, heading: string, name?: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10_000 });
  const text = await page.locator('#app').innerText();
  expect(text.trim().length, `${heading} has text`).toBeGreaterThan(20);
  if (name) await page.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true });
}

const steps = (value: unknown) => JSON.stringify(value, null, 2);
const preview = (page: Page) => page.getByRole('region', { name: 'Live preview' });

describe('the Workflows pages', () => {
  it('creates a workflow with a live preview, shows errors inline, saves it and triggers it', async () => {
    const page = await openSignedIn('workflows');
    await shows(page, 'Workflows');
    await expect(page.getByText('No workflows yet').isVisible()).resolves.toBe(true);
    await page.getByRole('link', { name: 'New workflow' }).click();
    await shows(page, 'New workflow');

    await page.getByLabel('Key').fill('report-ready');
    await page.getByLabel('Name').fill('Report ready');
    await page.getByLabel('Category').fill('reports');
    await page.getByLabel('Steps (JSON)').fill(
      steps([
        {
          type: 'email',
          subject: 'Report {{ data.report }} for {{ subscriber.name }}',
          html: '<h2>Report {{ data.report }}</h2><p>{{ data.rows }} rows</p>',
        },
        { type: 'in_app', title: 'Report {{ data.report }}', body: '{{ data.rows }} rows are ready' },
      ]),
    );
    await page.getByLabel('Sample data (JSON)').fill(steps({ report: 'Q3', rows: 42 }));
    // The preview follows: the subject and the bodies rendered for the sample subscriber and data.
    await preview(page).getByText('Report Q3 for Ann').waitFor();
    await expect(preview(page).getByText('42 rows are ready').isVisible()).resolves.toBe(true);
    await expect(preview(page).getByText('ann@example.com').isVisible()).resolves.toBe(true);
    const frame = page.frameLocator('iframe[title="Rendered email HTML"]');
    await frame.getByRole('heading', { name: 'Report Q3' }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}dashboard-workflow-editor.png`, fullPage: true });

    // A Liquid syntax error: the 422 a save would give, with its path, its editor line and the
    // template's line.
    const good = await page.getByLabel('Steps (JSON)').inputValue();
    await page.getByLabel('Steps (JSON)').fill(good.replace('{{ data.rows }} rows are ready', 'ok\\n{% if %}'));
    const error = preview(page).getByRole('alert');
    await error.waitFor();
    const errorText = await error.innerText();
    expect(errorText).toContain('A save would refuse this workflow: Template does not parse');
    expect(errorText).toMatch(/Editor line 10 · \/workflow\/steps\/1\/body: line 2:/);
    // Broken JSON names its line without asking Herald.
    await page.getByLabel('Steps (JSON)').fill('[\n  {"type": "sms",\n  }\n]');
    await preview(page)
      .getByText(/Steps is not valid JSON \(line 3\)/)
      .waitFor();
    await page.screenshot({ path: `${ARTIFACTS}dashboard-workflow-editor-error.png`, fullPage: true });
    // Save is refused with the same errors, inline.
    await page.getByLabel('Steps (JSON)').fill(good.replace('{{ data.rows }} rows are ready', '{% if %}'));
    await page.getByRole('button', { name: 'Save' }).click();
    const refusal = page.getByRole('form', { name: 'Workflow' }).getByRole('alert');
    await refusal.getByText('Editor line 10 · /steps/1/body: line 1:').waitFor();
    expect(await refusal.innerText()).toContain('Template does not parse TEMPLATE_INVALID');
    // The refusal takes the focus, so keyboard users land on it.
    expect(await refusal.evaluate((element) => element === (globalThis as any).document.activeElement)).toBe(true);
    expect((await h.api('GET', '/v1/workflows/report-ready')).status).toBe(404);
    // Chromium logs each refused request (the previews' and the save's 422) as a failed load.
    const refused = problems.splice(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((problem) => /status of 422/.test(problem))).toBe(true);

    await page.getByLabel('Steps (JSON)').fill(good);
    await page.getByRole('button', { name: 'Save' }).click();
    await shows(page, 'Workflow report-ready');
    const saved = (await h.api('GET', '/v1/workflows/report-ready')).body;
    expect(saved).toMatchObject({ name: 'Report ready', category: 'reports', version: 1 });
    expect(saved.steps).toHaveLength(2);

    // Trigger from the page: the answer links to its messages.
    const trigger = page.getByRole('form', { name: 'Trigger' });
    await trigger.getByLabel('Recipient (subscriber id or email)').fill('bob@example.com');
    await trigger.getByLabel('Data (JSON)').fill(steps({ report: 'Q4', rows: 7 }));
    await trigger.getByRole('button', { name: 'Trigger' }).click();
    await trigger.getByText(/Accepted: trigger trg_/).waitFor();
    const links = trigger.getByRole('link', { name: /^msg_/ });
    expect(await links.count()).toBe(2);
    const messageId = await links.first().innerText();
    expect(await links.first().getAttribute('href')).toBe(`/dashboard/messages/${messageId}`);
    const triggerId = (await trigger.getByText(/Accepted: trigger/).innerText()).match(/trg_\S+/)![0];

    // Its messages, through the API, with their attempts.
    const listed = (await h.api('GET', '/v1/messages?workflow=report-ready')).body.items;
    expect(listed.map((message: any) => message.id).sort()).toEqual((await links.allInnerTexts()).sort());
    expect(listed.every((message: any) => message.triggerId === triggerId)).toBe(true);
    const email = listed.find((message: any) => message.channel === 'email');
    await waitFor(
      async () => {
        const message = (await h.api('GET', `/v1/messages/${email.id}`)).body;
        return message.status === 'sent' && message.attempts.length > 0;
      },
      { what: 'the email to be sent' },
    );
    const sent = (await h.api('GET', `/v1/messages/${email.id}`)).body;
    // The recipient was made from the email (no name given): the subject's name is empty.
    expect(sent).toMatchObject({ subject: 'Report Q4 for', recipient: 'bob@example.com', test: false });
    expect(sent.attempts.at(-1)).toMatchObject({ outcome: 'sent' });

    // A test send to the same recipient, with the sample data: marked as a test.
    const test = page.getByRole('form', { name: 'Test send' });
    await test.getByLabel('Recipient (subscriber id or email)').fill('bob@example.com');
    await test.getByRole('button', { name: 'Send test' }).click();
    await test.getByText(/Accepted: trigger trg_/).waitFor();
    const tests = (await h.api('GET', '/v1/messages?workflow=report-ready&test=true')).body.items;
    expect(tests).toHaveLength(2);

    // The list shows it.
    await page.getByRole('link', { name: 'All workflows' }).click();
    await shows(page, 'Workflows');
    const row = page.getByRole('row', { name: /report-ready/ });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/report-ready\s+Report ready\s+reports\s+no\s+1/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-workflows.png`, fullPage: true });
  });

  it('shows email HTML with its styles and a <script> inert in a sandboxed iframe, at 375 px', async () => {
    const page = await openSignedIn('workflows/new', OWNER, PHONE);
    await shows(page, 'New workflow');
    // The script would change the parent's title, or its own document, if it ran.
    const script = '<script>parent.document.title = "pwned"; document.body.textContent = "ran";</script>';
    const styled = '<p style="color: red">Styled</p>';
    await page
      .getByLabel('Steps (JSON)')
      .fill(steps([{ type: 'email', subject: 'Inert', html: `<p id="content">Still here</p>${styled}${script}` }]));
    const frameElement = page.locator('iframe[title="Rendered email HTML"]');
    await frameElement.waitFor();
    expect(await frameElement.getAttribute('sandbox')).toBe('');
    const frame = page.frameLocator('iframe[title="Rendered email HTML"]');
    await frame.getByText('Still here').waitFor();
    expect(await page.title()).not.toBe('pwned');
    expect(await frame.locator('body').innerText()).toMatch(/^Still here\s+Styled$/);
    expect(await frameElement.getAttribute('srcdoc')).toBeNull();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-workflow-editor-phone.png`, fullPage: true });
    expect(
      await frame.getByText('Styled').evaluate((element) => (globalThis as any).getComputedStyle(element).color),
    ).toBe('rgb(255, 0, 0)');
  });

  it('compares two versions and restores one', async () => {
    for (const subject of ['First subject', 'Second subject']) {
      const put = await h.api('PUT', '/v1/workflows/versioned', { steps: [{ type: 'email', subject, text: 'x' }] });
      expect(put.status, put.text).toBe(200);
    }
    const page = await openSignedIn('workflows/versioned/versions');
    await shows(page, 'Versions of versioned');
    const diff = page.getByLabel('Differences');
    await diff.waitFor();
    expect(await diff.locator('.wf-del').innerText()).toContain('"subject": "First subject"');
    expect(await diff.locator('.wf-add').innerText()).toContain('"subject": "Second subject"');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-workflow-versions.png`, fullPage: true });

    await page.getByRole('button', { name: 'Restore 1' }).click();
    await page.getByRole('button', { name: 'Yes, restore' }).click();
    await page.getByText('Version 1 restored as version 3.').waitFor();
    const current = (await h.api('GET', '/v1/workflows/versioned')).body;
    expect(current).toMatchObject({ version: 3, steps: [{ subject: 'First subject' }] });
    await page.getByRole('row', { name: /^3\b/ }).waitFor();

    // Delete, after its confirmation.
    await page.getByRole('link', { name: 'Editor' }).click();
    await shows(page, 'Workflow versioned');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await shows(page, 'Workflows');
    expect((await h.api('GET', '/v1/workflows/versioned')).status).toBe(404);
  });

  it('shows a viewer every page read-only, at 375 px', async () => {
    const put = await h.api('PUT', '/v1/workflows/read-only', {
      steps: [{ type: 'email', subject: 'A', text: 'x' }],
    });
    expect(put.status, put.text).toBe(200);
    await h.api('PUT', '/v1/workflows/read-only', { steps: [{ type: 'email', subject: 'B', text: 'x' }] });
    const page = await openSignedIn('workflows', viewer, PHONE);
    await shows(page, 'Workflows');
    await page.getByRole('link', { name: 'read-only' }).waitFor();
    expect(await page.getByRole('link', { name: 'New workflow' }).count()).toBe(0);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);

    await page.getByRole('link', { name: 'read-only' }).click();
    await shows(page, 'Workflow read-only');
    await page.getByText('You are a viewer').waitFor();
    expect(await page.getByLabel('Steps (JSON)').getAttribute('readonly')).not.toBeNull();
    expect(await page.getByLabel('Steps (JSON)').inputValue()).toContain('"subject": "B"');
    for (const name of ['Save', 'Delete', 'Trigger', 'Send test']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
    expect(await preview(page).count()).toBe(0);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-workflow-viewer.png`, fullPage: true });

    await page.getByRole('link', { name: 'Versions' }).click();
    await shows(page, 'Versions of read-only');
    await page.getByLabel('Differences').waitFor();
    expect(await page.getByRole('button', { name: /Restore/ }).count()).toBe(0);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
  });
});
