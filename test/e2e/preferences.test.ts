import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboxToken } from '../../src/core/inbox-credentials.js';
import { expectProblem } from '../support/expect-problem.js';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { inboxClient, inboxSecret } from '../support/inbox.js';
import { waitFor } from '../support/wait-for.js';
import { testClock } from '../support/test-clock.js';

// Preferences through the public API: a workflow's category, critical flag and channel defaults;
// a subscriber's preferences, set by a key holder or by the subscriber from the browser; and what
// they do to the steps of a run (skipped, with a reason naming the rule).

const HOUR = 3_600_000;

let h: TestHerald;
const clock = testClock();
beforeAll(async () => {
  h = await startTestHerald({ 'retry-schedule': '50ms' }, { clock });
});
afterAll(async () => {
  await h?.close();
});

async function saveWorkflow(key: string, body: Record<string, unknown>) {
  const res = await h.api('PUT', `/v1/workflows/${key}`, body);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

let n = 0;
/** A subscriber of its own for each use, with an email address, and these preferences when given. */
async function person(name: string, preferences?: Record<string, unknown>): Promise<string> {
  const id = `${name}-${++n}`;
  const created = await h.api('PUT', `/v1/subscribers/${id}`, { email: `${id}@example.com` });
  expect(created.status, created.text).toBe(200);
  if (preferences) {
    const set = await h.api('PUT', `/v1/subscribers/${id}/preferences`, preferences);
    expect(set.status, set.text).toBe(200);
  }
  return id;
}

const SETTLED = ['sent', 'failed', 'skipped'];

/** Triggers `key` for one subscriber and answers each message, settled, as `{status, reason}`. */
async function outcomes(key: string, subscriberId: string): Promise<{ status: string; reason: string | null }[]> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, { to: subscriberId });
  expect(res.status, res.text).toBe(202);
  const settled = [];
  for (const id of res.body.messageIds as string[]) {
    const message = await waitFor(
      async () => {
        const got = (await h.api('GET', `/v1/messages/${id}`)).body;
        return SETTLED.includes(got.status) ? got : undefined;
      },
      { what: `message ${id} settled` },
    );
    settled.push({ status: message.status, reason: message.reason });
  }
  return settled;
}

const SENT = { status: 'sent', reason: null };
const skipped = (reason: string) => ({ status: 'skipped', reason });

describe('a workflow’s category, critical flag and channel defaults', () => {
  it('are saved with the version and returned by GET, and absent when not set', async () => {
    const saved = await saveWorkflow('prefs-saved', {
      category: 'billing',
      critical: false,
      preferences: { channels: { sms: false, in_app: true } },
      steps: [{ type: 'in_app', body: 'hi' }],
    });
    expect(saved).toMatchObject({
      category: 'billing',
      critical: false,
      preferences: { channels: { sms: false, in_app: true } },
    });
    expect((await h.api('GET', '/v1/workflows/prefs-saved')).body).toEqual(saved);
    const plain = await saveWorkflow('prefs-saved', { steps: [{ type: 'in_app', body: 'hi' }] });
    expect(plain).not.toHaveProperty('category');
    expect(plain).not.toHaveProperty('preferences');
    expect((await h.api('GET', '/v1/workflows/prefs-saved')).body).toEqual(plain);
  });

  it('are refused with errors naming the field when malformed', async () => {
    const res = await h.api('PUT', '/v1/workflows/prefs-bad', {
      category: 'not a key!',
      critical: 'yes',
      preferences: { channels: { fax: false, email: 'no' } },
      steps: [{ type: 'in_app', body: 'hi' }],
    });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    const paths = (res.body.errors as { path: string; message: string }[]).map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/category', '/critical', '/preferences/channels/fax', '/preferences/channels/email']),
    );
    const fax = res.body.errors.find((e: { path: string }) => e.path === '/preferences/channels/fax');
    expect(fax.message).toContain('known fields: email, sms, push, chat, webhook, in_app');
  });
});

describe('GET/PUT /v1/subscribers/{id}/preferences', () => {
  it('answers {} before any are set, replaces the whole document on PUT, and shows it on the subscriber', async () => {
    const id = await person('doc');
    expect((await h.api('GET', `/v1/subscribers/${id}/preferences`)).body).toEqual({});
    expect((await h.api('GET', `/v1/subscribers/${id}`)).body.preferences).toBeNull();
    const first = {
      channels: { sms: false },
      categories: { billing: { channels: { email: false } } },
      workflows: { 'weekly.digest': { channels: { in_app: false } } },
      quietHours: { start: '22:00', end: '07:30' },
    };
    const put = await h.api('PUT', `/v1/subscribers/${id}/preferences`, first);
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual(first);
    expect((await h.api('GET', `/v1/subscribers/${id}/preferences`)).body).toEqual(first);
    // The whole document: what the next PUT leaves out is cleared.
    const second = { channels: { push: false } };
    expect((await h.api('PUT', `/v1/subscribers/${id}/preferences`, second)).body).toEqual(second);
    expect((await h.api('GET', `/v1/subscribers/${id}`)).body.preferences).toEqual(second);
    // A PUT of the subscriber keeps them.
    await h.api('PUT', `/v1/subscribers/${id}`, { email: `${id}@example.org` });
    expect((await h.api('GET', `/v1/subscribers/${id}/preferences`)).body).toEqual(second);
  });

  it('answers 404 for a subscriber that does not exist, and changes nothing', async () => {
    expectProblem(await h.api('GET', '/v1/subscribers/nobody-here/preferences'), 404, 'SUBSCRIBER_NOT_FOUND');
    const put = await h.api('PUT', '/v1/subscribers/nobody-here/preferences', { channels: { email: false } });
    expectProblem(put, 404, 'SUBSCRIBER_NOT_FOUND');
    expect((await h.api('GET', '/v1/subscribers/nobody-here')).status).toBe(404);
  });

  it('refuses unknown channels, malformed times and keys, and empty quiet hours, naming each field', async () => {
    const id = await person('invalid');
    const res = await h.api('PUT', `/v1/subscribers/${id}/preferences`, {
      channels: { fax: false, email: 'off' },
      categories: { billing: { channels: { pigeon: true } } },
      workflows: { 'bad key': { channels: {} } },
      quietHours: { start: '25:00', end: '7:00' },
      colour: 'blue',
    });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    const errors = res.body.errors as { path: string; message: string }[];
    const at = (path: string) => errors.find((e) => e.path === path)?.message;
    expect(at('/channels/fax')).toMatch(/not a known field; known fields: email, sms, push, chat, webhook, in_app/);
    expect(at('/channels/email')).toBe('must be true or false');
    expect(at('/categories/billing/channels/pigeon')).toMatch(/not a known field/);
    expect(at('/workflows/bad key')).toMatch(/^is not a valid key: must be up to 100 letters, digits/);
    expect(at('/quietHours/start')).toBe('must be a time of day as HH:MM, 00:00 to 23:59');
    expect(at('/quietHours/end')).toBe('must be a time of day as HH:MM, 00:00 to 23:59');
    expect(at('/colour')).toMatch(/not a known field; known fields: channels, categories, workflows, quietHours/);
    const same = await h.api('PUT', `/v1/subscribers/${id}/preferences`, {
      quietHours: { start: '08:00', end: '08:00' },
    });
    expectProblem(same, 422, 'VALIDATION_FAILED');
    expect(same.body.errors).toEqual([{ path: '/quietHours/end', message: expect.stringContaining('differ') }]);
    expect((await h.api('GET', `/v1/subscribers/${id}/preferences`)).body).toEqual({});
    // quietHours may be null: none.
    const none = await h.api('PUT', `/v1/subscribers/${id}/preferences`, { quietHours: null });
    expect(none.status, none.text).toBe(200);
  });
});

describe('preferences decide each step as it goes out', () => {
  beforeAll(async () => {
    // In-app is opt-in for invoices: off unless the subscriber turns it on.
    await saveWorkflow('prefs-invoice', {
      category: 'billing',
      preferences: { channels: { in_app: false } },
      steps: [
        { type: 'email', subject: 'Invoice', text: 'Your invoice' },
        { type: 'in_app', body: 'Your invoice is ready' },
      ],
    });
    await saveWorkflow('prefs-alert', {
      category: 'billing',
      critical: true,
      preferences: { channels: { in_app: false } },
      steps: [
        { type: 'email', subject: 'Card declined', text: 'Update your card' },
        { type: 'in_app', body: 'Card declined' },
      ],
    });
  });

  it('sends by default, and a channel a workflow turns off by default is skipped, naming the default', async () => {
    expect(await outcomes('prefs-invoice', await person('none'))).toEqual([
      SENT,
      skipped('in_app off by default for workflow prefs-invoice'),
    ]);
  });

  it('turns a channel off for a category; the global setting opts in where the workflow defaults off', async () => {
    const id = await person('category', {
      categories: { billing: { channels: { email: false } } },
      channels: { in_app: true },
    });
    expect(await outcomes('prefs-invoice', id)).toEqual([skipped('email off for category billing'), SENT]);
  });

  it('lets a workflow rule win over the global one, and the global one over the workflow default', async () => {
    const id = await person('workflow-on', {
      channels: { email: false, in_app: true },
      workflows: { 'prefs-invoice': { channels: { email: true } } },
    });
    expect(await outcomes('prefs-invoice', id)).toEqual([SENT, SENT]);
    const off = await person('global-off', { channels: { email: false } });
    expect(await outcomes('prefs-invoice', off)).toEqual([
      skipped("email off by the subscriber's channel preferences"),
      skipped('in_app off by default for workflow prefs-invoice'),
    ]);
  });

  it('lets a workflow rule win over the category rule', async () => {
    const id = await person('workflow-off', {
      categories: { billing: { channels: { email: true } } },
      workflows: { 'prefs-invoice': { channels: { email: false } } },
    });
    expect((await outcomes('prefs-invoice', id))[0]).toEqual(skipped('email off for workflow prefs-invoice'));
  });

  it('sends a critical workflow whatever the preferences and defaults say', async () => {
    const id = await person('critical', {
      channels: { email: false, in_app: false },
      categories: { billing: { channels: { email: false } } },
      workflows: { 'prefs-alert': { channels: { email: false, in_app: false } } },
    });
    expect(await outcomes('prefs-alert', id)).toEqual([SENT, SENT]);
  });

  it('reads the preferences when the step goes out, not when the trigger came: a change while the run waits counts', async () => {
    await saveWorkflow('prefs-later', {
      steps: [
        { type: 'delay', for: '1h' },
        { type: 'email', subject: 'Later', text: 'An hour later' },
        { type: 'in_app', body: 'An hour later' },
      ],
    });
    const id = await person('later');
    const res = await h.api('POST', '/v1/workflows/prefs-later/trigger', { to: id });
    expect(res.status, res.text).toBe(202);
    const [email, inApp] = res.body.messageIds as string[];
    const run = async () => (await h.api('GET', `/v1/triggers/${res.body.triggerId}`)).body.runs[0];
    await waitFor(async () => (await run()).state === 'waiting', { what: 'the run to wait in its delay' });
    // The subscriber turns email off from their inbox while the run sleeps.
    const inbox = await inboxClient(h, id);
    const put = await call(`${h.url}/v1/inbox/preferences`, 'PUT', { channels: { email: false } }, inbox.headers);
    expect(put.status, put.text).toBe(200);
    clock.advance(HOUR + 1000);
    const settled = async (messageId: string) =>
      waitFor(
        async () => {
          const got = (await h.api('GET', `/v1/messages/${messageId}`)).body;
          return SETTLED.includes(got.status) ? got : undefined;
        },
        { what: `message ${messageId} settled` },
      );
    expect(await settled(email!)).toMatchObject(skipped("email off by the subscriber's channel preferences"));
    expect(await settled(inApp!)).toMatchObject(SENT);
    // Nothing reached the dev mailbox for them.
    const mail = (await h.api('GET', '/v1/dev/mail?limit=100')).body.items as { to: string }[];
    expect(mail.filter((m) => m.to === `${id}@example.com`)).toEqual([]);
  });
});

describe('GET/PUT /v1/inbox/preferences', () => {
  it('reads and replaces the signed-in subscriber’s own preferences, with a hash or a token', async () => {
    const ann = await person('ann');
    const inbox = await inboxClient(h, ann);
    expect((await inbox.call('GET', '/v1/inbox/preferences')).body).toEqual({});
    const document = { channels: { email: false }, workflows: { 'prefs-invoice': { channels: { in_app: true } } } };
    const put = await call(`${h.url}/v1/inbox/preferences`, 'PUT', document, inbox.headers);
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual(document);
    expect((await h.api('GET', `/v1/subscribers/${ann}/preferences`)).body).toEqual(document);
    const token = createInboxToken(await inboxSecret(h), {
      environmentId: 'env_development',
      subscriberId: ann,
      expiresAt: clock.now() + 60_000, // Herald's clock, which an earlier test moved on
    });
    const byToken = await call(`${h.url}/v1/inbox/preferences`, 'GET', undefined, { authorization: `Bearer ${token}` });
    expect(byToken.body).toEqual(document);
    // And the key holder sees the subscriber's own choice at work.
    expect(await outcomes('prefs-invoice', ann)).toEqual([
      skipped("email off by the subscriber's channel preferences"),
      SENT,
    ]);
  });

  it('never reaches another subscriber: another id with one’s own hash is refused, and a PUT changes only one’s own', async () => {
    const ann = await person('ann');
    const bob = await person('bob', { channels: { sms: false } });
    const annInbox = await inboxClient(h, ann);
    const crossed = { 'x-herald-subscriber-id': bob, 'x-herald-subscriber-hash': annInbox.hash };
    expectProblem(await call(`${h.url}/v1/inbox/preferences`, 'GET', undefined, crossed), 401, 'INBOX_UNAUTHORIZED');
    const put = await call(`${h.url}/v1/inbox/preferences`, 'PUT', { channels: { email: false } }, crossed);
    expectProblem(put, 401, 'INBOX_UNAUTHORIZED');
    // The route names no subscriber: a query naming another is not followed.
    const named = await call(`${h.url}/v1/inbox/preferences?subscriberId=${bob}`, 'GET', undefined, annInbox.headers);
    expect(named.body).toEqual({});
    await call(`${h.url}/v1/inbox/preferences`, 'PUT', { channels: { push: false } }, annInbox.headers);
    expect((await h.api('GET', `/v1/subscribers/${bob}/preferences`)).body).toEqual({ channels: { sms: false } });
    expect((await h.api('GET', `/v1/subscribers/${ann}/preferences`)).body).toEqual({ channels: { push: false } });
    // An API key is not an inbox credential.
    expectProblem(await h.api('GET', '/v1/inbox/preferences'), 401, 'INBOX_UNAUTHORIZED');
  });

  it('answers {} to a subscriber not created yet, refuses their PUT, and validates like the key holder’s route', async () => {
    const inbox = await inboxClient(h, 'not-created-yet');
    expect((await inbox.call('GET', '/v1/inbox/preferences')).body).toEqual({});
    const put = await call(`${h.url}/v1/inbox/preferences`, 'PUT', { channels: {} }, inbox.headers);
    expectProblem(put, 404, 'SUBSCRIBER_NOT_FOUND');
    const ann = await inboxClient(h, await person('ann'));
    const bad = await call(`${h.url}/v1/inbox/preferences`, 'PUT', { channels: { fax: true } }, ann.headers);
    expectProblem(bad, 422, 'VALIDATION_FAILED');
    expect(bad.body.errors[0].path).toBe('/channels/fax');
  });

  it('lets a page of an allowed origin PUT across origins (CORS preflight allows PUT)', async () => {
    const allowed = await h.api('PUT', '/v1/inbox/settings', { allowedOrigins: ['https://app.example.com'] });
    expect(allowed.status, allowed.text).toBe(200);
    const preflight = await call(`${h.url}/v1/inbox/preferences`, 'OPTIONS', undefined, {
      origin: 'https://app.example.com',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type, x-herald-subscriber-id, x-herald-subscriber-hash',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
  });
});
