import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_FAILURES_PER_ADDRESS, LOGIN_FAILURES_PER_EMAIL, LOGIN_WINDOW_MS } from '../../src/core/sessions.js';
import { expectProblem } from '../support/expect-problem.js';
import { newBrowser, OWNER, setUpOwner } from '../support/dashboard.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { testClock } from '../support/test-clock.js';
import { dropSchemas, ON_POSTGRES, testDatabaseUrl, testSchema } from '../support/test-database.js';

// Login throttling: failures are counted in the database, per email and per client address, so
// every process sees them. Two Heralds share one database here, as two API processes do.

const clock = testClock();
const dir = mkdtempSync(join(tmpdir(), 'herald-throttle-'));
const schema = ON_POSTGRES ? testSchema() : undefined;
// One data dir too: it holds the generated key that seals secrets, which both processes need.
const shared = { 'data-dir': dir, ...(schema !== undefined && { database: testDatabaseUrl(schema) }) };
let a: TestHerald;
let b: TestHerald;
beforeAll(async () => {
  a = await startTestHerald(shared, { clock });
  b = await startTestHerald(shared, { clock });
  await setUpOwner(a);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  rmSync(dir, { recursive: true, force: true });
  if (schema !== undefined) await dropSchemas(schema);
});

const login = (h: TestHerald, email: string, password: string) =>
  newBrowser(h).call('POST', '/dashboard/api/login', { email, password });

describe('login throttling', () => {
  it(`refuses an email after ${LOGIN_FAILURES_PER_EMAIL} failures in the window, on every process, the right password too`, async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) {
      expectProblem(await login(i % 2 ? a : b, OWNER.email, `wrong password ${i}`), 401, 'LOGIN_FAILED');
    }
    for (const h of [a, b]) {
      const refused = await login(h, OWNER.email, OWNER.password);
      expectProblem(refused, 429, 'LOGIN_THROTTLED');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(LOGIN_WINDOW_MS / 1000 - 60);
      expect(retryAfter).toBeLessThanOrEqual(LOGIN_WINDOW_MS / 1000);
    }
    // Another account is not held up by this one's failures.
    expect((await login(b, 'someone@example.com', 'not their password')).status).toBe(401);
    // Once the oldest failures leave the window, the right password works again and clears the count.
    clock.advance(LOGIN_WINDOW_MS);
    expect((await login(a, OWNER.email, OWNER.password)).status).toBe(200);
    expectProblem(await login(a, OWNER.email, 'wrong again'), 401, 'LOGIN_FAILED');
  });

  it('answers an unknown account the same way (429, the same message)', async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) await login(a, 'ghost@example.com', `guess ${i}`);
    const ghost = await login(a, 'ghost@example.com', 'guess again');
    // The owner's last failure of the test before is still in the window: one fewer here.
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL - 1; i++) await login(a, OWNER.email, `guess ${i}`);
    const owner = await login(a, OWNER.email, 'guess again');
    expectProblem(ghost, 429, 'LOGIN_THROTTLED');
    expectProblem(owner, 429, 'LOGIN_THROTTLED');
    expect(ghost.body.detail.replace(/\d+ s/, 'N s')).toBe(owner.body.detail.replace(/\d+ s/, 'N s'));
    clock.advance(LOGIN_WINDOW_MS); // this address starts the next test with no failures in the window
  });

  it(`refuses a client address after ${LOGIN_FAILURES_PER_ADDRESS} failures, whatever the emails`, async () => {
    const emails = Array.from({ length: LOGIN_FAILURES_PER_ADDRESS }, (_, i) => `spray${i}@example.com`);
    const answers = await Promise.all(emails.map((email, i) => login(i % 2 ? a : b, email, 'Winter2026!!')));
    expect(answers.map((res) => res.status)).toEqual(emails.map(() => 401));
    const refused = await login(b, OWNER.email, OWNER.password);
    expectProblem(refused, 429, 'LOGIN_THROTTLED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
