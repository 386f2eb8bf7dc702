import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUpOwner, signIn, type Browser } from '../support/dashboard.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

// Viewers read the API without secrets or message content; admins (and API keys) read it all.

const SECRET_WORDS = 'the launch code is 0000';
const SLACK_HOOK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX';
const AUTH_TOKEN = 'twilio-auth-token-0123456789abcdef';

let h: TestHerald;
let admin: Browser;
let viewer: Browser;
let messageId: string;
let triggerId: string;
beforeAll(async () => {
  h = await startTestHerald();
  const owner = await setUpOwner(h);
  admin = await signIn(h, await addUser(owner, 'admin@example.com', 'admin'));
  viewer = await signIn(h, await addUser(owner, 'viewer@example.com', 'viewer'));
  await h.api('PUT', '/v1/subscribers/ann', {
    email: 'ann@example.com',
    chat: { slack: SLACK_HOOK },
    webhookUrl: 'https://example.com/hook?token=abc',
    push: { fcm: ['fcm-device-token'] },
  });
  const integration = await h.api('PUT', '/v1/integrations/sms', {
    channel: 'sms',
    provider: 'twilio',
    config: { accountSid: `AC${'0'.repeat(32)}`, authToken: AUTH_TOKEN, from: '+15005550006' },
  });
  expect(integration.status, integration.text).toBe(201);
  await h.api('PUT', '/v1/workflows/secret-note', {
    steps: [{ type: 'email', subject: 'Subject: {{ data.words }}', text: 'Body: {{ data.words }}' }],
  });
  const trigger = await h.api('POST', '/v1/workflows/secret-note/trigger', {
    to: { subscriberId: 'ann' },
    data: { words: SECRET_WORDS },
  });
  expect(trigger.status, trigger.text).toBe(202);
  [messageId] = trigger.body.messageIds;
  triggerId = trigger.body.triggerId;
  await waitFor(async () => (await h.api('GET', `/v1/messages/${messageId}`)).body.status === 'sent', {
    what: 'the email to be sent',
  });
});
afterAll(async () => {
  await h?.close();
});

/** Reads `path` as the admin and as the viewer: the admin's answer shows the secret, the viewer's never. */
async function both(path: string, secret: string) {
  const [full, redacted] = [await admin.call('GET', path), await viewer.call('GET', path)];
  expect(full.status, full.text).toBe(200);
  expect(redacted.status, redacted.text).toBe(200);
  expect(full.text).toContain(secret);
  expect(redacted.text).not.toContain(secret);
  return { full: full.body, redacted: redacted.body };
}

describe('for viewers', () => {
  it('a message has no subject and no content', async () => {
    const { full, redacted } = await both(`/v1/messages/${messageId}`, SECRET_WORDS);
    expect(full.content.text).toBe(`Body: ${SECRET_WORDS}`);
    expect(full.redacted).toBeUndefined();
    expect(redacted).toMatchObject({ id: messageId, status: 'sent', subject: null, content: null, redacted: true });
    expect(redacted.attempts).toEqual(full.attempts);
  });

  it('the delivery log lists messages without their subjects', async () => {
    const { redacted } = await both('/v1/messages', SECRET_WORDS);
    expect(redacted.items[0]).toMatchObject({ id: messageId, subject: null, redacted: true });
  });

  it('a trigger has no data', async () => {
    const { full, redacted } = await both(`/v1/triggers/${triggerId}`, SECRET_WORDS);
    expect(full.data).toEqual({ words: SECRET_WORDS });
    expect(redacted).toMatchObject({ triggerId, data: {}, redacted: true });
    expect(redacted.runs[0].messages[0]).toMatchObject({ subject: null, redacted: true });
  });

  it('the dev mailbox keeps its envelope, not its bodies or headers', async () => {
    const { redacted } = await both('/v1/dev/mail', SECRET_WORDS);
    expect(redacted.items[0]).toMatchObject({
      to: 'ann@example.com',
      subject: '',
      text: '',
      html: null,
      headers: {},
      redacted: true,
    });
  });

  it('the inbox secret is left out', async () => {
    const secret = (await h.api('GET', '/v1/inbox/settings')).body.secret as string;
    const { redacted } = await both('/v1/inbox/settings', secret);
    expect(redacted).toMatchObject({ secret: '', redacted: true });
  });

  it("a subscriber's push tokens, chat and webhook addresses are left out", async () => {
    const { full, redacted } = await both('/v1/subscribers/ann', SLACK_HOOK);
    expect(full.chat).toEqual({ slack: SLACK_HOOK });
    expect(redacted).toMatchObject({
      email: 'ann@example.com',
      push: null,
      chat: null,
      webhookUrl: null,
      redacted: true,
    });
  });

  it('the subscriber list leaves them out too', async () => {
    const { full, redacted } = await both('/v1/subscribers?prefix=ann', SLACK_HOOK);
    expect(full.items[0].chat).toEqual({ slack: SLACK_HOOK });
    expect(redacted.items[0]).toMatchObject({
      subscriberId: 'ann',
      email: 'ann@example.com',
      chat: null,
      redacted: true,
    });
  });

  it("a subscriber's inbox items keep their state, not their content", async () => {
    await h.api('PUT', '/v1/workflows/secret-inbox', {
      steps: [{ type: 'in_app', title: 'Title: {{ data.words }}', body: 'Body: {{ data.words }}' }],
    });
    const sent = await h.api('POST', '/v1/workflows/secret-inbox/trigger', {
      to: { subscriberId: 'ann' },
      data: { words: SECRET_WORDS },
    });
    expect(sent.status, sent.text).toBe(202);
    await waitFor(async () => (await h.api('GET', '/v1/subscribers/ann/inbox')).body.items.length === 1, {
      what: 'the inbox item',
    });
    const { full, redacted } = await both('/v1/subscribers/ann/inbox', SECRET_WORDS);
    expect(full.items[0]).toMatchObject({ title: `Title: ${SECRET_WORDS}`, body: `Body: ${SECRET_WORDS}` });
    expect(redacted.items[0]).toMatchObject({ id: full.items[0].id, title: null, body: '', redacted: true });
  });

  it('integration credentials are masked for everyone', async () => {
    for (const browser of [admin, viewer]) {
      const res = await browser.call('GET', '/v1/integrations/sms');
      expect(res.text).not.toContain(AUTH_TOKEN);
      expect(res.body.config.authToken).toBe(`••••${AUTH_TOKEN.slice(-4)}`);
    }
  });
});
