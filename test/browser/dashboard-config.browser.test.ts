import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUpOwner } from '../support/dashboard.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';
import { fromEmailFrame } from '../support/dashboard-browser.js';
import { waitFor } from '../support/wait-for.js';

// The configuration pages in a real headless Chromium against a real Herald: integrations (a
// masked secret, a test message through a Twilio fake), API keys (shown once, revoked, the last
// one refused), templates (a 422 with its line, a 409 in use), the dev mailbox (an email's
// <script> inert) and what a viewer sees. Each page is saved as a screenshot in test-artifacts/;
// console errors and blank pages fail the test, but for the 4xx answers a test provokes.

const CHROMIUM = process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const PHONE = { width: 375, height: 740 };
const WIDE = { width: 1280, height: 900 };
const ADMIN = { email: 'owner@example.com', password: 'correct horse battery' };
const VIEWER = { email: 'viewer@example.com', password: 'a long enough password' };
const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-auth-token-5e5e5e5e';
const INBOX_ORIGIN = 'https://app.example.com';

let h: TestHerald;
let twilio: FakeHttp;
let browser: Browser;
const openPages: Page[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium`);
  }
  twilio = await startFakeHttp((request) => {
    const expected = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expected)
      return { status: 401, body: { code: 20003, message: 'Authenticate' } };
    return { status: 201, body: { sid: 'SMtest0001', status: 'queued' } };
  });
  [h, browser] = await Promise.all([
    startTestHerald({
      'secret-key': 'dashboard-config-secret-key-0123456789',
      'allow-private-networks': '127.0.0.0/8',
    }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  const owner = await setUpOwner(h, ADMIN);
  await addUser(owner, VIEWER.email, 'viewer', VIEWER.password);
});

afterEach(async () => {
  for (const page of openPages.splice(0)) await page.close();
  expect(problems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await twilio?.close();
});

/** A new page (own context) signed in as `who`, at /dashboard/<path>. */
async function signedIn(who: { email: string; password: string }, path: string, viewport = PHONE): Promise<Page> {
  const page = await browser.newPage({ viewport });
  openPages.push(page);
  page.on('console', (message) => {
    if (message.type() === 'error' && !fromEmailFrame(message)) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(`${h.url}/dashboard/${path}`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

/** Waits for the page's heading, checks the page is not blank, and saves a screenshot. */
async function shows(page: Page, heading: string | RegExp, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10_000 });
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: 10_000 });
  const text = await page.locator('#app').innerText();
  expect(text.trim().length, `${name} has text`).toBeGreaterThan(20);
  expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} fits`).toBeLessThanOrEqual(
    page.viewportSize()!.width,
  );
  await page.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true });
}

/** Takes out the console lines of the refusals a test provoked on purpose (Chromium logs each failed fetch). */
function expectRefusals(...statuses: number[]): void {
  const refused = problems.splice(0);
  expect(refused).toHaveLength(statuses.length);
  statuses.forEach((status, i) => expect(refused[i]).toMatch(new RegExp(`status of ${status}`)));
}

describe('the configuration pages', () => {
  it('integrations: create one, see its secret masked, test it; the inbox settings', async () => {
    const page = await signedIn(ADMIN, 'integrations');
    await shows(page, 'Integrations', 'integrations-empty');
    await expect(page.getByText('No integrations yet').isVisible()).resolves.toBe(true);

    await page.getByLabel('Id', { exact: true }).fill('sms-main');
    await page.getByLabel('Provider', { exact: true }).selectOption('twilio');
    expect(await page.getByLabel('Body (JSON)').inputValue()).toContain('"accountSid"');
    await page.getByLabel('Body (JSON)').fill(
      JSON.stringify({
        channel: 'sms',
        provider: 'twilio',
        config: { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: twilio.url },
        priority: 1,
      }),
    );
    await page.getByRole('button', { name: 'Add integration' }).click();
    await shows(page, 'Integration sms-main', 'integration');
    expect(page.url()).toBe(`${h.url}/dashboard/integrations/sms-main`);
    const text = await page.locator('#app').innerText();
    expect(text).toContain('"authToken": "••••5e5e"');
    expect(text).not.toContain(TOKEN);
    expect(await page.content()).not.toContain(TOKEN);

    await page.getByLabel('Send to').fill('+14155550100');
    await page.getByRole('button', { name: 'Send test message' }).click();
    const result = page.getByRole('status').filter({ hasText: 'sent' });
    await result.waitFor();
    expect(await result.innerText()).toContain('SMtest0001');
    expect(twilio.requests.at(-1)?.body).toContain('To=%2B14155550100');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-integration-tested.png`, fullPage: true });

    // Disable, then back in the list: the breaker and the state.
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect((await h.api('GET', '/v1/integrations/sms-main')).body).toMatchObject({ enabled: false, priority: 1 });
    await page.getByRole('link', { name: '← Integrations' }).click();
    await shows(page, 'Integrations', 'integrations');
    const row = page.getByRole('row', { name: /sms-main/ });
    expect(await row.innerText()).toMatch(/sms\s+twilio\s+1\s+no\s+closed/);

    // Inbox settings: allowed origins and the secret, shown on request.
    await page.getByLabel('Allowed origins, one per line').fill(INBOX_ORIGIN);
    await page.getByRole('button', { name: 'Save origins' }).click();
    await page.getByText('Allowed origins saved.').waitFor();
    expect((await h.api('GET', '/v1/inbox/settings')).body.allowedOrigins).toEqual([INBOX_ORIGIN]);
    const { secret } = (await h.api('GET', '/v1/inbox/settings')).body;
    expect(await page.locator('#app').innerText()).not.toContain(secret);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('button', { name: 'Rotate inbox secret' }).click();
    await page.getByText('A new inbox secret is in use.').waitFor();
    const rotated = (await h.api('GET', '/v1/inbox/settings')).body.secret;
    expect(rotated).not.toBe(secret);
    await page.getByText(rotated).waitFor();

    // Deleting asks first.
    await page.getByRole('link', { name: 'sms-main' }).click();
    await shows(page, 'Integration sms-main', 'integration-again');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete integration' }).click();
    await shows(page, 'Integrations', 'integrations-after-delete');
    expect((await h.api('GET', '/v1/integrations/sms-main')).status).toBe(404);
  });

  it('API keys: the new key is shown once, then only its prefix; revoke; the last one is refused', async () => {
    const page = await signedIn(ADMIN, 'api-keys');
    await shows(page, 'API keys', 'api-keys');
    await page.getByLabel('Name', { exact: true }).fill('ci deploys');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('it is shown this once').waitFor();
    const key = await page.locator('#api-key-secret').innerText();
    expect(key).toMatch(/^hk_/);
    expect((await fetch(`${h.url}/v1/api-keys`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-api-key-created.png`, fullPage: true });
    await page.getByRole('button', { name: 'Done' }).click();
    const listed = (await h.api('GET', '/v1/api-keys')).body.items.find((item: any) => item.name === 'ci deploys');
    const text = await page.locator('#app').innerText();
    expect(text).not.toContain(key);
    expect(text).toContain(`${listed.prefix}…`);

    // By keyboard: asking moves the focus to the confirming button.
    await page.getByRole('button', { name: 'Revoke ci deploys' }).focus();
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.evaluate('document.activeElement?.textContent?.trim()')) === 'Revoke key', {
      what: 'the focus on the confirming button',
    });
    await page.keyboard.press('Enter');
    await waitFor(async () => !(await page.locator('#app').innerText()).includes('ci deploys'), {
      what: 'the key to leave the list',
    });
    expect((await fetch(`${h.url}/v1/api-keys`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);

    // The test key is now the environment's last: refused, with the API's 409.
    const last = (await h.api('GET', '/v1/api-keys')).body.items;
    expect(last).toHaveLength(1);
    await page.getByRole('button', { name: `Revoke ${last[0].name}` }).click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/last API key.*\(409 LAST_API_KEY\)/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-api-key-last.png`, fullPage: true });
    expectRefusals(409);
    expect((await h.api('GET', '/v1/api-keys')).status).toBe(200);
  });

  it('templates: a partial saved, a syntax error refused with its line, a partial in use not deleted', async () => {
    const page = await signedIn(ADMIN, 'templates/partials', WIDE);
    await shows(page, 'Templates', 'templates-empty');
    await page.getByRole('link', { name: 'New partial' }).click();
    await page.getByLabel('Key', { exact: true }).fill('footer');
    await page.getByLabel('Template', { exact: true }).fill('Sent by {{ data.team }}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Partial footer' }).waitFor();
    expect(page.url()).toBe(`${h.url}/dashboard/templates/partials/footer`);
    await page.getByRole('link', { name: 'footer' }).waitFor();

    await page.getByLabel('Template', { exact: true }).fill('Sent by\n{% if %}oops');
    await page.getByRole('button', { name: 'Save' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/^\/template: line 2: .*\(422 TEMPLATE_INVALID\)$/);
    // … and under the field it is about, tied to it for screen readers.
    const template = page.getByLabel('Template', { exact: true });
    expect(await template.getAttribute('aria-invalid')).toBe('true');
    const described = (await template.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`#${described.at(-1)}`).innerText()).toMatch(/^line 2: /);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-partial-422.png`, fullPage: true });
    expect((await h.api('GET', '/v1/partials/footer')).body.template).toBe('Sent by {{ data.team }}');

    const layout = await h.api('PUT', '/v1/layouts/brand', {
      html: "<html><body><h1>Acme</h1>{{ content }}<footer>{% render 'footer' %}</footer></body></html>",
    });
    expect(layout.status, layout.text).toBe(201);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete partial' }).click();
    await page.getByText(/TEMPLATE_IN_USE/).waitFor();
    expect(await page.getByRole('alert').innerText()).toContain('brand');
    expectRefusals(422, 409);

    await page.getByRole('link', { name: 'Layouts' }).click();
    await page.getByRole('link', { name: 'brand' }).click();
    await page.getByRole('heading', { name: 'Layout brand' }).waitFor();
    const preview = page.frameLocator('iframe[title="Layout preview"]');
    await preview.getByText('Sample email content').waitFor();
    await page.locator('iframe[title="Layout preview"]').scrollIntoViewIfNeeded();
    expect(await page.locator('iframe[title="Layout preview"]').getAttribute('sandbox')).toBe('');
    await shows(page, 'Templates', 'templates-layout');

    await page.getByRole('link', { name: 'Translations' }).click();
    await page.getByRole('link', { name: 'New translation' }).click();
    await page.getByLabel('Locale', { exact: true }).fill('fr-ca');
    await page.getByLabel('Messages (JSON)').fill('{"greeting": "Bonjour"}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Translation fr-CA' }).waitFor();
    await shows(page, 'Templates', 'templates-translation');
  });

  it('dev mailbox: an email whose HTML holds a <script> is shown, and the script never runs', async () => {
    expect(
      (
        await h.api('PUT', '/v1/workflows/hello', {
          steps: [
            {
              type: 'email',
              subject: 'Hello {{ subscriber.name }}',
              html: '<p>Hello <b>there</b></p><script>parent.document.title = "owned"; document.body.textContent = "script ran";</script><img src="https://tracker.example.com/p.gif" alt="tracker"><a href="javascript:alert(1)" onclick="alert(2)">link</a>',
              text: 'Hello there',
            },
          ],
        })
      ).status,
    ).toBeLessThan(300);
    expect((await h.api('PUT', '/v1/subscribers/ann', { email: 'ann@example.com', name: 'Ann' })).status).toBeLessThan(
      300,
    );
    expect((await h.api('POST', '/v1/workflows/hello/trigger', { to: { subscriberId: 'ann' } })).status).toBe(202);
    await waitFor(async () => (await h.api('GET', '/v1/dev/mail')).body.items.length > 0, { what: 'the email' });

    const page = await signedIn(ADMIN, 'mailbox', WIDE);
    await shows(page, 'Dev mailbox', 'mailbox');
    await page.getByRole('link', { name: 'Hello Ann' }).click();
    await shows(page, 'Hello Ann', 'mailbox-email');
    const frame = page.locator('iframe[title="The email\'s HTML"]');
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await frame.getAttribute('srcdoc')).toBeNull();
    await page.frameLocator('iframe[title="The email\'s HTML"]').getByText('Hello there').waitFor();
    expect(await page.frameLocator('iframe[title="The email\'s HTML"]').locator('body').innerText()).not.toContain(
      'script ran',
    );
    expect(await page.title()).toBe('Dev mailbox · Herald');
    await page.getByText('Headers').click();
    expect(await page.locator('#app').innerText()).toMatch(/X-Herald-Message-Id/i);
  });

  it('HERALD_SMTP_URL: env-smtp is read-only, its password masked, and the dev mailbox says email is sent', async () => {
    const other = await startTestHerald({ 'smtp-url': 'smtp://relay-user:relay-password-9876@127.0.0.1:2525' });
    try {
      await setUpOwner(other, ADMIN);
      const page = await browser.newPage({ viewport: PHONE });
      openPages.push(page);
      page.on('console', (message) => {
        if (message.type() === 'error' && !fromEmailFrame(message)) problems.push(`console: ${message.text()}`);
      });
      await page.goto(`${other.url}/dashboard/integrations`);
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await shows(page, 'Integrations', 'integrations-env-smtp');
      expect(await page.getByRole('row', { name: /env-smtp/ }).innerText()).toContain('read-only');
      await page.getByRole('link', { name: 'env-smtp' }).click();
      await shows(page, 'Integration env-smtp', 'integration-env-smtp');
      await page.getByText(/Read-only: defined by the server's environment/).waitFor();
      for (const name of ['Edit', 'Delete', 'Disable']) {
        expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
      }
      expect(await page.content()).not.toContain('relay-password-9876');
      await page.goto(`${other.url}/dashboard/mailbox`);
      await shows(page, 'Dev mailbox', 'mailbox-not-capturing');
      await page.getByText('An email integration is enabled').waitFor();
    } finally {
      await other.close();
    }
  });

  it('a viewer sees no secrets and no controls', async () => {
    await h.api('PUT', '/v1/integrations/sms-view', {
      channel: 'sms',
      provider: 'twilio',
      config: { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: twilio.url },
    });
    const { secret } = (await h.api('GET', '/v1/inbox/settings')).body;
    const page = await signedIn(VIEWER, 'integrations');
    await shows(page, 'Integrations', 'viewer-integrations');
    const noControls = async () => {
      expect(await page.locator('main form, main button:not(:has-text("More"))').count()).toBe(0);
      const html = await page.content();
      expect(html).not.toContain(TOKEN);
      expect(html).not.toContain(secret);
      expect(html).not.toContain(TEST_API_KEY);
    };
    expect(await page.getByText('The inbox secret is not shown to viewers.').isVisible()).toBe(true);
    await noControls();
    await page.getByRole('link', { name: 'sms-view' }).click();
    await shows(page, 'Integration sms-view', 'viewer-integration');
    expect(await page.locator('#app').innerText()).toContain('••••5e5e');
    await noControls();

    await page.goto(`${h.url}/dashboard/api-keys`);
    await shows(page, 'API keys', 'viewer-api-keys');
    await noControls();
    await page.goto(`${h.url}/dashboard/templates/partials/footer`);
    await page.getByRole('heading', { name: 'Partial footer' }).waitFor();
    expect(await page.getByLabel('Template', { exact: true }).getAttribute('readonly')).not.toBeNull();
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New partial' }).count()).toBe(0);
    await page.goto(`${h.url}/dashboard/mailbox`);
    await shows(page, 'Dev mailbox', 'viewer-mailbox');
    await page.getByRole('link', { name: '(redacted)' }).first().click();
    await page.getByText('Viewers do not see email content').waitFor();
    expect(await page.locator('iframe').count()).toBe(0);
  });
});
