import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { expect } from 'vitest';

// What the dashboard's browser tests share: Debian's Chromium, the screenshots folder, the two
// viewports, a page that records every console error, uncaught error and CSP refusal, signing in,
// and "this page is shown" (its heading, not blank, fits the width, saved as a screenshot).

export const CHROMIUM = process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
export const WIDE = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 740 };

/**
 * The document of an email frame (POST /dashboard/api/frame): what it logs is its own sandbox and
 * CSP refusing the email's scripts and remote files, not the dashboard's doing.
 */
const EMAIL_FRAME_DOCUMENT = /\/dashboard\/api\/frame$/;

/** Whether a console message comes from an email frame's document rather than the dashboard. */
export const fromEmailFrame = (message: ConsoleMessage): boolean => EMAIL_FRAME_DOCUMENT.test(message.location().url);

export interface Credentials {
  email: string;
  password: string;
}

/** Starts headless Chromium, or says what to install. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/**
 * The pages a test opened and the problems they met: console errors, uncaught errors and CSP
 * refusals (recorded in the page, whether or not the browser also logs them). `check()` closes
 * the pages and expects no problem; call it after each test.
 */
export function dashboardPages(browser: () => Browser) {
  const open: Page[] = [];
  const problems: string[] = [];
  /** What email frames logged (their refusals): kept apart, for a test to look at. */
  const frameLogs: string[] = [];

  async function newPage(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser().newContext({ viewport });
    const page = await context.newPage();
    open.push(page);
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      if (fromEmailFrame(message)) frameLogs.push(message.text());
      else problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    await page.addInitScript(`
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) =>
        window.__cspViolations.push(event.violatedDirective + ': ' + event.blockedURI));
    `);
    return page;
  }

  return {
    problems,
    frameLogs,
    newPage,
    /** A new browser context signed in as `who`, on `path` under `${url}/dashboard/`. */
    async signedIn(url: string, who: Credentials, path = '', viewport = WIDE): Promise<Page> {
      const page = await newPage(viewport);
      await page.goto(`${url}/dashboard/${path}`);
      await page.getByLabel('Email').fill(who.email);
      await page.getByLabel('Password').fill(who.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      return page;
    },
    async check(): Promise<void> {
      for (const page of open.splice(0)) {
        const violations = await page.evaluate('window.__cspViolations').catch(() => []);
        expect(violations, 'CSP violations').toEqual([]);
        await page.context().close();
      }
      expect(problems.splice(0)).toEqual([]);
      frameLogs.splice(0);
    },
  };
}

/** Waits for the page's heading and its data, checks it is not blank and fits its width, saves a screenshot. */
export async function expectShown(page: Page, heading: string | RegExp, screenshot: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10_000 });
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: 10_000 });
  const text = await page.locator('#app').innerText();
  expect(text.trim().length, `${screenshot} has text`).toBeGreaterThan(20);
  expect(await page.evaluate('document.documentElement.scrollWidth'), `${screenshot} fits`).toBeLessThanOrEqual(
    page.viewportSize()!.width,
  );
  await page.screenshot({ path: `${ARTIFACTS}dashboard-${screenshot}.png`, fullPage: true });
}
