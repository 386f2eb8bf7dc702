import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, setUpOwner } from '../support/dashboard.js';
import { ARTIFACTS, dashboardPages, expectShown, launchChromium, PHONE } from '../support/dashboard-browser.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// Email frames in a real headless Chromium: the HTML is posted to POST /dashboard/api/frame and
// shown under that answer's own CSP, so its inline styles apply while its scripts, handlers and
// remote images stay off; the dashboard page itself logs nothing.

let h: TestHerald;
let browser: Browser;
const pages = dashboardPages(() => browser);

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestHerald(), launchChromium()]);
  await setUpOwner(h);
});
afterEach(async () => {
  await pages.check();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const TRACKER = 'https://tracker.example/pixel.gif';
const EMAIL =
  '<style>.big { font-size: 30px; }</style>' +
  '<p id="red" class="big" style="color: rgb(255, 0, 0)">Styled</p>' +
  '<script>document.body.dataset.pwned = "script"; parent.document.title = "pwned";</script>' +
  '<img src="data:," alt="" onerror="document.body.dataset.pwned = \'onerror\'">' +
  `<img src="${TRACKER}" alt="pixel">`;

/** The frame the email is shown in, once it shows `text`. */
async function emailFrame(page: Page, title: string, text: string): Promise<Frame> {
  let found: Frame | undefined;
  await waitFor(
    async () => {
      const handle = await page.locator(`iframe[title="${title}"]`).elementHandle();
      found = (await handle?.contentFrame()) ?? undefined;
      return (
        found !== undefined &&
        (
          await found
            .locator('body')
            .innerText()
            .catch(() => '')
        ).includes(text)
      );
    },
    { what: `the frame "${title}" to show ${text}` },
  );
  return found!;
}

describe('email frames', () => {
  it("shows the workflow preview's email with its styles, runs nothing, loads nothing remote", async () => {
    const page = await pages.signedIn(h.url, OWNER, 'workflows/new', PHONE);
    const remote: string[] = [];
    await page.context().route('https://**/*', async (route) => {
      remote.push(route.request().url());
      await route.abort();
    });
    await expectShown(page, 'New workflow', 'frames-workflow-preview-empty');
    const before = await page.evaluate('history.length');
    await page
      .getByLabel('Steps (JSON)')
      .fill(JSON.stringify([{ type: 'email', subject: 'Styled', html: EMAIL }], null, 2));
    const frame = await emailFrame(page, 'Rendered email HTML', 'Styled');
    const element = page.locator('iframe[title="Rendered email HTML"]');
    expect(await element.getAttribute('sandbox')).toBe('');
    expect(await element.getAttribute('srcdoc')).toBeNull();
    expect(frame.url()).toBe(`${h.url}/dashboard/api/frame`);

    // Both the style attribute and the <style> rule apply.
    const red = frame.locator('#red');
    expect(await red.evaluate((node) => (globalThis as any).getComputedStyle(node).color)).toBe('rgb(255, 0, 0)');
    expect(await red.evaluate((node) => (globalThis as any).getComputedStyle(node).fontSize)).toBe('30px');
    // Neither the script nor the handler ran; the tracking pixel was never asked for.
    expect(await frame.evaluate('document.body.dataset.pwned ?? null')).toBeNull();
    expect(await page.title()).not.toBe('pwned');
    expect(remote).toEqual([]);
    expect(await frame.locator('img[alt="pixel"]').evaluate((img: any) => img.naturalWidth)).toBe(0);

    // An edit shows the new HTML in a new frame, and adds nothing to the history (Back still leaves the page).
    await page
      .getByLabel('Steps (JSON)')
      .fill(JSON.stringify([{ type: 'email', subject: 'Styled', html: EMAIL.replace('Styled', 'Edited') }], null, 2));
    await emailFrame(page, 'Rendered email HTML', 'Edited');
    expect(await page.locator('iframe[title="Rendered email HTML"]').count()).toBe(1);
    expect(await page.evaluate('history.length')).toBe(before);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-frames-workflow-preview.png`, fullPage: true });
    // The email's own document refused them (its sandbox and CSP), not the dashboard.
    expect(
      pages.frameLogs.some((text) => /Blocked script execution in 'http:\/\/.*\/dashboard\/api\/frame'/.test(text)),
    ).toBe(true);
    expect(pages.frameLogs.some((text) => text.includes(`Loading the image '${TRACKER}' violates`))).toBe(true);
  });
});
