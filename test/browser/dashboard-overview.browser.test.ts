import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setUpOwner } from '../support/dashboard.js';
import { ARTIFACTS, dashboardPages, launchChromium, PHONE, WIDE } from '../support/dashboard-browser.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// The overview in a real headless Chromium against a real Herald: after sends, failures and skips
// it shows the right counts per channel, draws the chart, the queue and the integrations, and what
// needs attention (failed messages, an open circuit breaker). Screenshots go to test-artifacts/; a
// console error or a CSP violation fails the test.

const OWNER = { email: 'owner@example.com', password: 'correct horse battery staple' };

let h: TestHerald;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
/** Twilio's Messages API, always down (503): its integration's breaker opens. */
let twilio: FakeHttp;
const pages = dashboardPages(() => browser);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.url === '/gone' ? 410 : 200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  twilio = await startFakeHttp(() => ({ status: 201, body: { sid: 'SM-1', status: 'queued' } }));
  twilio.setFault('unavailable-503');
  [h, browser] = await Promise.all([
    startTestHerald({
      'secret-key': 'overview-test-secret-key-0123456789abcdef',
      'allow-private-networks': '127.0.0.0/8',
      'retry-schedule': '50ms',
      // Two transient failures in a row open a breaker, which stays open for the test.
      'breaker-threshold': '2',
      'breaker-cooldown': '1h',
    }),
    launchChromium(),
  ]);
  await setUpOwner(h, OWNER);
});

afterEach(() => pages.check());

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await twilio?.close();
  await new Promise<void>((resolve) => {
    if (!receiver) return resolve();
    receiver.closeAllConnections();
    receiver.close(() => resolve());
  });
});

async function signedInPage(viewport: { width: number; height: number }): Promise<Page> {
  const page = await pages.signedIn(h.url, OWNER, '', viewport);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: 10_000 });
  return page;
}

async function trigger(key: string, to: unknown): Promise<string[]> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, { to });
  expect(res.status, res.text).toBe(202);
  return res.body.messageIds;
}

async function settle(ids: string[]) {
  await waitFor(
    async () => {
      for (const id of ids) {
        const status = (await h.api('GET', `/v1/messages/${id}`)).body.status;
        if (!['sent', 'failed', 'skipped'].includes(status)) return false;
      }
      return true;
    },
    { what: 'the messages to settle', timeoutMs: 15_000 },
  );
}

/** The totals row of a channel: sent, failed, skipped as shown. */
async function totals(page: Page, channel: string) {
  const row = page.locator(`table.totals tr[data-channel="${channel}"]`);
  const cell = (status: string) => row.locator(`td[data-status="${status}"]`).innerText();
  return { sent: await cell('sent'), failed: await cell('failed'), skipped: await cell('skipped') };
}

describe('the overview in a browser', () => {
  it('starts empty: nothing needs attention, no messages, an empty queue', async () => {
    const page = await signedInPage(PHONE);
    await page.getByText('Nothing needs attention.').waitFor();
    await page.getByText('No messages finished in the last 24 hours.').waitFor();
    expect(await page.locator('[data-figure="depth"]').innerText()).toBe('0');
    expect(await page.locator('svg.chart-svg rect').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-overview-empty.png`, fullPage: true });
  });

  it('shows the counts per channel, the chart, the queue, the breakers and what needs attention', async () => {
    expect((await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' })).status).toBe(
      201,
    );
    for (const [key, path] of [
      ['ok', '/ok'],
      ['gone', '/gone'],
    ]) {
      const res = await h.api('PUT', `/v1/workflows/${key}`, { steps: [{ type: 'webhook', url: receiverUrl + path }] });
      expect(res.status, res.text).toBe(200);
    }
    await h.api('PUT', '/v1/workflows/mail', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
    await settle([
      ...(await trigger('ok', [{ subscriberId: 'a' }, { subscriberId: 'b' }, { subscriberId: 'c' }])),
      ...(await trigger('gone', { subscriberId: 'a' })),
      ...(await trigger('mail', { subscriberId: 'ann', email: 'ann@example.com' })),
      // No address: skipped.
      ...(await trigger('mail', [{ subscriberId: 'nobody' }, { subscriberId: 'noone' }])),
    ]);

    const page = await signedInPage(WIDE);
    await page.locator('table.totals').waitFor();
    expect(await totals(page, 'webhook')).toEqual({ sent: '3', failed: '1', skipped: '0' });
    expect(await totals(page, 'email')).toEqual({ sent: '1', failed: '0', skipped: '2' });
    // The chart: bars for this hour, as high as its 4 sent, 1 failed and 2 skipped.
    const chart = page.locator('svg.chart-svg');
    expect(await chart.getAttribute('data-max')).toBe('7');
    const bars = chart.locator('rect.bar');
    expect(await bars.count()).toBe(3);
    for (const bar of await bars.all()) expect(Number(await bar.getAttribute('height'))).toBeGreaterThan(0);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(100);
    // Needs attention: the failed message, linked to the failed ones in the log.
    const failedLink = page.getByRole('link', { name: '1 message failed in the last 24 hours' });
    expect(await failedLink.getAttribute('href')).toBe('/dashboard/messages?status=failed');
    expect(await page.locator('table.integrations').innerText()).toMatch(/hooks\s+webhook\s+webhook\s+closed/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-overview.png`, fullPage: true });

    // 7 days by day: the same messages in today's bar.
    await page.getByRole('button', { name: 'Last 7 days' }).click();
    await waitFor(
      async () => (await page.getByRole('button', { name: 'Last 7 days' }).getAttribute('aria-pressed')) === 'true',
    );
    await page.locator('svg.chart-svg').waitFor();
    expect(await page.locator('svg.chart-svg').getAttribute('data-max')).toBe('7');
    expect(await page.locator('.chart-ticks span').count()).toBe(3);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-overview-week.png`, fullPage: true });

    // A provider goes down: two 503s in a row open its breaker, and the page says so at its next refresh.
    const sms = await h.api('PUT', '/v1/integrations/twilio-down', {
      channel: 'sms',
      provider: 'twilio',
      config: {
        accountSid: 'AC0123456789abcdef0123456789abcdef',
        authToken: 'token',
        from: '+15005550006',
        baseUrl: twilio.url,
      },
    });
    expect(sms.status, sms.text).toBe(201);
    await h.api('PUT', '/v1/workflows/code', { steps: [{ type: 'sms', text: 'Your code is 42' }] });
    await settle(await trigger('code', { subscriberId: 'phone', phone: '+14155550100' }));
    await waitFor(async () => (await h.api('GET', '/v1/integrations/twilio-down')).body.circuit?.state === 'open', {
      what: 'the breaker to open',
    });
    await page.getByText(/circuit\s+breaker open/).waitFor({ timeout: 15_000 });
    expect(await page.locator('.breaker-open').innerText()).toBe('open');
    expect(await totals(page, 'sms')).toEqual({ sent: '0', failed: '1', skipped: '0' });
    await page.getByRole('link', { name: '2 messages failed in the last 24 hours' }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}dashboard-overview-attention.png`, fullPage: true });
  });

  it('fits a phone screen', async () => {
    const page = await signedInPage(PHONE);
    await page.locator('table.totals').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-overview-phone.png`, fullPage: true });
  });
});
