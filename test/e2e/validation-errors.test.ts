import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { inboxClient } from '../support/inbox.js';

/**
 * Every refusal says what would be accepted: one error per union (not one per branch), the values
 * of an enum, the known fields, what a pattern means. The step and recipient unions are in
 * workflows.test.ts and triggers.test.ts.
 */
let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
});
afterAll(async () => {
  await h.close();
});

async function errorsOf(method: string, path: string, body: unknown, status = 422) {
  const res = await h.api(method, path, body);
  expectProblem(res, status, status === 422 ? 'VALIDATION_FAILED' : 'INVALID_REQUEST');
  return res.body.errors;
}

const SID = 'AC' + '0'.repeat(32);

describe('subscribers', () => {
  it('answers a nullable field of the wrong type once, saying null is accepted too', async () => {
    expect(
      await errorsOf('PUT', '/v1/subscribers/ada', { email: 5, name: [], data: 'x', push: 3, webhookUrl: false }),
    ).toEqual([
      { path: '/email', message: 'must be an email address or null' },
      { path: '/name', message: 'must be a string or null' },
      { path: '/data', message: 'must be an object or null' },
      { path: '/push', message: 'must be an object or null' },
      { path: '/webhookUrl', message: 'must be an http(s) URL without spaces or null' },
    ]);
  });

  it('says in words what a pattern accepts', async () => {
    const body = {
      phone: 'call me',
      locale: 'english!',
      timezone: 'Paris time',
      chat: { discord: 'ftp://example.com/hook' },
      push: { apns: ['xyz'], webPush: [{ endpoint: 'https://push.example/1' }] },
    };
    expect(await errorsOf('PUT', '/v1/subscribers/ada', body)).toEqual([
      { path: '/phone', message: 'must be a phone number: digits, spaces and ( ) . / -, with an optional +' },
      { path: '/locale', message: 'must be a locale such as en or pt-BR' },
      { path: '/timezone', message: 'must be an IANA time zone such as Europe/Paris' },
      { path: '/push/webPush/0/keys', message: 'is required' },
      { path: '/push/apns/0', message: 'must be a device token of 16 to 200 hex digits' },
      { path: '/chat/discord', message: 'must be an http(s) URL without spaces' },
    ]);
  });

  it('names the known fields', async () => {
    expect(await errorsOf('PUT', '/v1/subscribers/ada', { nickname: 'Ada', chat: { irc: '#x' } })).toEqual([
      {
        path: '/nickname',
        message:
          'is not a known field; known fields: email, phone, name, locale, timezone, data, push, chat, webhookUrl',
      },
      { path: '/chat/irc', message: 'is not a known field; known fields: slack, discord, teams, telegram, mattermost' },
    ]);
  });
});

describe('integrations', () => {
  it('lists the channels, the providers of a channel and the URL schemes', async () => {
    expect(await errorsOf('PUT', '/v1/integrations/bad', { channel: 'fax', provider: 'x' })).toEqual([
      { path: '/channel', message: 'must be one of email, sms, push, chat, webhook' },
    ]);
    expect(await errorsOf('PUT', '/v1/integrations/bad', { channel: 'sms', provider: 'pigeon' })).toEqual([
      { path: '/provider', message: 'unknown sms provider; one of twilio, vonage, plivo' },
    ]);
    const [scheme] = await errorsOf('PUT', '/v1/integrations/bad', { channel: 'sms', url: 'pigeon://coop' });
    expect(scheme).toEqual({
      path: '/url',
      message: 'unsupported scheme pigeon:; one of twilio://, vonage://, nexmo://, plivo://',
    });
  });

  it("answers a provider's config with what it lacks, in words", async () => {
    const config = { accountSid: 'SID', authToken: '', colour: 'red' };
    expect(await errorsOf('PUT', '/v1/integrations/bad', { channel: 'sms', provider: 'twilio', config })).toEqual([
      { path: '/config', message: 'needs from or messagingServiceSid' },
      {
        path: '/config/colour',
        message: 'is not a known field; known fields: accountSid, authToken, from, messagingServiceSid, baseUrl',
      },
      { path: '/config/accountSid', message: 'must match pattern "^AC[0-9a-fA-F]{32}$"' },
      { path: '/config/authToken', message: 'must not be empty' },
    ]);
    const rateLimit = { limit: 0, interval: 'often' };
    const body = {
      channel: 'sms',
      provider: 'twilio',
      config: { accountSid: SID, authToken: 't', from: '+1' },
      rateLimit,
    };
    expect(await errorsOf('PUT', '/v1/integrations/bad', body)).toEqual([
      { path: '/rateLimit/limit', message: 'must be at least 1' },
      { path: '/rateLimit/interval', message: 'must be a duration such as 500ms, 1s, 5m or 1h' },
    ]);
    expect(
      await errorsOf('PUT', '/v1/integrations/bad', { channel: 'webhook', provider: 'webhook', config: { to: 'x' } }),
    ).toEqual([{ path: '/config/to', message: 'is not a known field; known fields: secret, url' }]);
  });
});

describe('query strings and paths', () => {
  it('lists the values of an enum', async () => {
    const res = await h.api('GET', '/v1/messages?status=lost');
    expectProblem(res, 400, 'INVALID_REQUEST');
    expect(res.body.errors).toEqual([
      {
        path: '/status',
        message:
          'must be one of pending, queued, sending, sent, retrying, failed, skipped, seen, read, archived, canceled, throttled, digested',
      },
    ]);
    expect(res.body.detail).toBe(
      'Invalid querystring: /status must be one of pending, queued, sending, sent, retrying, failed, skipped, seen, read, archived, canceled, throttled, digested',
    );
  });

  it('lists the inbox actions and filters', async () => {
    const ada = await inboxClient(h, 'ada');
    const action = await ada.call('POST', '/v1/inbox/items/msg_1/delete');
    expectProblem(action, 400, 'INVALID_REQUEST');
    expect(action.body.errors).toEqual([
      { path: '/action', message: 'must be one of read, unread, seen, archive, unarchive' },
    ]);
    const filter = await ada.call('GET', '/v1/inbox/items?status=new');
    expectProblem(filter, 400, 'INVALID_REQUEST');
    expect(filter.body.errors).toEqual([{ path: '/status', message: 'must be one of all, unread, unseen, archived' }]);
  });
});

describe('inbox settings', () => {
  it('says what an origin is, and that null restores the default', async () => {
    expect(await errorsOf('PUT', '/v1/inbox/settings', { allowedOrigins: ['https://app.example.com/path'] })).toEqual([
      { path: '/allowedOrigins/0', message: 'must be an origin such as https://app.example.com (no path), or *' },
    ]);
    expect(await errorsOf('PUT', '/v1/inbox/settings', { allowedOrigins: 'https://app.example.com' })).toEqual([
      { path: '/allowedOrigins', message: 'must be an array or null' },
    ]);
    expect(await errorsOf('POST', '/v1/subscribers/ada/inbox-token', { expiresIn: 10 })).toEqual([
      { path: '/expiresIn', message: 'must be at least 60' },
    ]);
  });
});
