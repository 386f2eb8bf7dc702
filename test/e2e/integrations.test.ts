import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { dropSchemas, ON_POSTGRES, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SECRET_KEY = 'integration-test-secret-key-0123456789';
const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-auth-token-5e5e5e5e';

/** Twilio's Messages API as its docs describe it: basic auth, form body, 201 + the Message sid. */
async function startTwilioFake(): Promise<FakeHttp> {
  return startFakeHttp((request) => {
    const expected = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expected)
      return { status: 401, body: { code: 20003, message: 'Authenticate' } };
    const form = new URLSearchParams(request.body);
    return { status: 201, body: { sid: `SM${request.url.length}test`, status: 'queued', to: form.get('To') } };
  });
}

let h: TestHerald;
let twilio: FakeHttp;
beforeAll(async () => {
  twilio = await startTwilioFake();
  h = await startTestHerald({ 'secret-key': SECRET_KEY, 'allow-private-networks': '127.0.0.0/8' });
});
afterAll(async () => {
  await h.close();
  await twilio.close();
});

const twilioConfig = () => ({ accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: twilio.url });

describe('PUT /v1/integrations/{id}', () => {
  it('creates an integration (201), replaces it (200) and never shows the credential', async () => {
    const created = await h.api('PUT', '/v1/integrations/sms-main', {
      channel: 'sms',
      provider: 'twilio',
      config: twilioConfig(),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'sms-main',
      channel: 'sms',
      provider: 'twilio',
      priority: 0,
      enabled: true,
      rateLimit: null,
      circuit: null,
      source: 'api',
      config: { accountSid: SID, from: '+15005550006', baseUrl: twilio.url, authToken: '••••5e5e' },
    });
    expect(created.text).not.toContain(TOKEN);

    const replaced = await h.api('PUT', '/v1/integrations/sms-main', {
      channel: 'sms',
      provider: 'twilio',
      config: twilioConfig(),
      priority: 3,
      rateLimit: { limit: 10, interval: '1s' },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ priority: 3, rateLimit: { limit: 10, intervalMs: 1000 } });
    expect(replaced.body.createdAt).toBe(created.body.createdAt);

    const got = await h.api('GET', '/v1/integrations/sms-main');
    expect(got.body.config.authToken).toBe('••••5e5e');
    expect(got.text).not.toContain(TOKEN);
  });

  it('keeps credentials sealed at rest: neither the config nor the sealed value holds them in the clear', async () => {
    await h.api('PUT', '/v1/integrations/sealed', { channel: 'sms', provider: 'twilio', config: twilioConfig() });
    const env = await h.herald.store.defaultEnvironmentId();
    const stored = await h.herald.store.getIntegration(env, 'sealed');
    expect(stored?.config).toEqual({ accountSid: SID, from: '+15005550006', baseUrl: twilio.url });
    expect(stored?.sealedSecrets).toMatch(/^v1\.[\w-]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(stored?.sealedSecrets).not.toContain(TOKEN);
    expect(Buffer.from(stored!.sealedSecrets!.split('.')[3]!, 'base64url').toString('latin1')).not.toContain(TOKEN);
  });

  it('keeps the stored credential when the masked value is sent back unchanged', async () => {
    await h.api('PUT', '/v1/integrations/masked', { channel: 'sms', provider: 'twilio', config: twilioConfig() });
    const { body } = await h.api('GET', '/v1/integrations/masked');
    const again = await h.api('PUT', '/v1/integrations/masked', {
      channel: 'sms',
      provider: 'twilio',
      config: body.config,
      enabled: false,
    });
    expect(again.status).toBe(200);
    // The fake checks the real token: the test send proves it survived the round trip.
    const test = await h.api('POST', '/v1/integrations/masked/test', { to: '+14155550100' });
    expect(test.body).toMatchObject({ status: 'sent', providerMessageId: expect.stringMatching(/^SM/) });
  });

  it('reads Apprise-style URLs', async () => {
    const res = await h.api('PUT', '/v1/integrations/from-url', { url: `twilio://${SID}:${TOKEN}@15005550006` });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ channel: 'sms', provider: 'twilio', config: { accountSid: SID } });
    expect(res.text).not.toContain(TOKEN);
    const discord = await h.api('PUT', '/v1/integrations/discord-url', {
      url: 'discord://1234/abcdefghijklmnopqrstuv',
    });
    expect(discord.body).toMatchObject({ channel: 'chat', provider: 'discord', config: { webhookUrl: '••••stuv' } });
    const telegram = await h.api('PUT', '/v1/integrations/tg-url', { url: 'tgram://123456:AAHxyzsecrettoken/987' });
    expect(telegram.status).toBe(201);
    expect(telegram.body).toMatchObject({ provider: 'telegram', config: { chatId: '987' } });
  });

  it('answers 422 naming what is wrong', async () => {
    const cases: [unknown, string][] = [
      [{ channel: 'sms', provider: 'carrier-pigeon', config: {} }, '/provider'],
      [{ channel: 'sms', provider: 'twilio', config: { accountSid: SID } }, '/config'],
      [{ channel: 'sms', provider: 'twilio', config: { ...twilioConfig(), colour: 'red' } }, '/config'],
      [{ url: 'carrier://x', config: {} }, '/url'],
      [{ url: 'nosuch://host/path' }, '/url'],
      [{ url: 'discord://1234' }, '/url'],
      [{ channel: 'email', url: 'discord://1/2' }, '/url'],
      [{ provider: 'twilio' }, '/channel'],
      [{ channel: 'webhook', provider: 'webhook', config: { secret: 'not-a-secret' } }, '/config/secret'],
      [
        { channel: 'sms', provider: 'twilio', config: { ...twilioConfig(), baseUrl: 'http://169.254.169.254' } },
        '/config/baseUrl',
      ],
      [{ channel: 'chat', provider: 'discord', config: { webhookUrl: 'http://[::1]:80/hook' } }, '/config/webhookUrl'],
    ];
    for (const [body, path] of cases) {
      const res = await h.api('PUT', '/v1/integrations/bad', body);
      expectProblem(res, 422);
      expect(res.body.errors?.map((e: { path: string }) => e.path).join(' '), JSON.stringify(body)).toContain(path);
    }
    expect((await h.api('GET', '/v1/integrations/bad')).status).toBe(404);
  });

  it('lists by channel and priority, and deletes', async () => {
    await h.api('PUT', '/v1/integrations/z-first', { channel: 'chat', provider: 'discord', config: {}, priority: 0 });
    await h.api('PUT', '/v1/integrations/a-second', { channel: 'chat', provider: 'discord', config: {}, priority: 5 });
    const list = await h.api('GET', '/v1/integrations');
    const chat = list.body.items
      .filter((i: { channel: string }) => i.channel === 'chat')
      .map((i: { id: string }) => i.id);
    expect(chat.indexOf('z-first')).toBeLessThan(chat.indexOf('a-second'));
    expect((await h.api('DELETE', '/v1/integrations/a-second')).status).toBe(204);
    expectProblem(await h.api('DELETE', '/v1/integrations/a-second'), 404, 'INTEGRATION_NOT_FOUND');
    expectProblem(await h.api('GET', '/v1/integrations/a-second'), 404, 'INTEGRATION_NOT_FOUND');
  });
});

describe('POST /v1/integrations/{id}/test', () => {
  it('sends through the integration now and answers what the provider said', async () => {
    await h.api('PUT', '/v1/integrations/tester', { channel: 'sms', provider: 'twilio', config: twilioConfig() });
    const before = twilio.requests.length;
    const ok = await h.api('POST', '/v1/integrations/tester/test', { to: '+14155550100', text: 'ping' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'sent', detail: expect.stringContaining('201') });
    expect(twilio.requests.length).toBe(before + 1);
    expect(new URLSearchParams(twilio.requests.at(-1)!.body).get('Body')).toBe('ping');

    twilio.setFault('unavailable-503');
    const down = await h.api('POST', '/v1/integrations/tester/test', { to: '+14155550100' });
    twilio.setFault(undefined);
    expect(down.body).toMatchObject({ status: 'retry', detail: expect.stringContaining('503') });

    expectProblem(await h.api('POST', '/v1/integrations/tester/test', {}), 422);
    expectProblem(await h.api('POST', '/v1/integrations/nope/test', { to: '+1' }), 404);
  });
});

describe('credentials and the secret key', () => {
  it('with an API key but no HERALD_SECRET_KEY, a single node generates a key file (0600) and seals credentials', async () => {
    const node = await startTestHerald({ 'allow-private-networks': '127.0.0.0/8' }); // TEST_API_KEY is set
    try {
      expect(statSync(join(node.dir, 'secret-key')).mode & 0o777).toBe(0o600);
      const res = await node.api('PUT', '/v1/integrations/t', {
        channel: 'sms',
        provider: 'twilio',
        config: twilioConfig(),
      });
      expect(res.status).toBe(201);
      expect(res.text).not.toContain(TOKEN);
      const stored = await node.herald.store.getIntegration(await node.herald.store.defaultEnvironmentId(), 't');
      expect(stored?.sealedSecrets).toMatch(/^v1\./);
      expect(stored?.sealedSecrets).not.toContain(TOKEN);
      expect((await node.api('POST', '/v1/integrations/t/test', { to: '+14155550100' })).body.status).toBe('sent');
    } finally {
      await node.close();
    }
  });

  it('keeps the generated key across restarts, and refuses a start with another key, saying what to set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-sealing-'));
    const schema = ON_POSTGRES ? testSchema() : undefined;
    const settings = {
      'data-dir': dir,
      database: schema ? testDatabaseUrl(schema) : join(dir, 'herald.db'),
      'allow-private-networks': '127.0.0.0/8',
    };
    const sendTest = async (node: TestHerald) =>
      (await node.api('POST', '/v1/integrations/t/test', { to: '+14155550100' })).body.status;
    try {
      const first = await startTestHerald(settings);
      const put = await first.api('PUT', '/v1/integrations/t', {
        channel: 'sms',
        provider: 'twilio',
        config: twilioConfig(),
      });
      expect(put.status).toBe(201);
      await first.close();
      const generated = readFileSync(join(dir, 'secret-key'), 'utf8').trim();

      const second = await startTestHerald(settings);
      expect(await sendTest(second)).toBe('sent');
      await second.close();

      // The key file is lost: the start is refused, and leaves no new key behind that would seal more.
      rmSync(join(dir, 'secret-key'));
      await expect(startTestHerald(settings)).rejects.toThrow(
        /sealed with key \S+, and this process has no key: HERALD_SECRET_KEY is not set .*Set HERALD_SECRET_KEY to the key that sealed them/,
      );
      expect(existsSync(join(dir, 'secret-key'))).toBe(false);
      await expect(
        startTestHerald({ ...settings, 'secret-key': 'not-the-key-that-sealed-them-0123456789' }),
      ).rejects.toThrow(/sealed with key \S+, but HERALD_SECRET_KEY is key \S+\. Set HERALD_SECRET_KEY/);

      // The generated key, given as HERALD_SECRET_KEY, opens what it sealed.
      const third = await startTestHerald({ ...settings, 'secret-key': generated });
      expect(await sendTest(third)).toBe('sent');
      await third.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (schema) await dropSchemas(schema);
    }
  });
});

describe('HERALD_SMTP_URL as an integration', () => {
  it('is listed read-only, its password masked', async () => {
    const env = await startTestHerald({ 'smtp-url': 'smtp://user:hunter2-password@127.0.0.1:2525' });
    try {
      const list = await env.api('GET', '/v1/integrations');
      const smtp = list.body.items.find((i: { id: string }) => i.id === 'env-smtp');
      expect(smtp).toMatchObject({ channel: 'email', provider: 'smtp', source: 'environment', enabled: true });
      expect(list.text).not.toContain('hunter2');
      expectProblem(await env.api('PUT', '/v1/integrations/env-smtp', { channel: 'chat', provider: 'discord' }), 409);
      expectProblem(await env.api('DELETE', '/v1/integrations/env-smtp'), 409, 'INTEGRATION_READ_ONLY');
    } finally {
      await env.close();
    }
  });
});
