import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegram } from '../../src/channels/telegram/telegram-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

describe('Telegram Bot API provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (botToken = TOKEN) => telegram.create({ botToken, baseUrl: fake.url }, context);
  const send = (destination = '987654321', text = 'Deploy finished', botToken?: string) =>
    adapter(botToken).send({ messageId: 'msg_1', environmentId: 'env', destination, text, blocks: null }, sendSignal());

  beforeAll(async () => {
    // Answers as the Bot API documents: {ok: true, result: Message}, or {ok: false, error_code,
    // description, parameters?}. Chat "42" blocked the bot, "77" floods, other non-numbers are unknown.
    fake = await startFakeHttp((request) => {
      const refuse = (status: number, description: string, parameters?: object) => ({
        status,
        body: { ok: false, error_code: status, description, ...(parameters && { parameters }) },
      });
      const match = /^\/bot(\d+:[\w-]+)\/sendMessage$/.exec(request.url);
      if (request.method !== 'POST' || !match) return refuse(404, 'Not Found');
      if (match[1] !== TOKEN) return refuse(401, 'Unauthorized');
      if (request.headers['content-type'] !== 'application/json')
        return refuse(400, 'Bad Request: message text is empty');
      const body = JSON.parse(request.body) as { chat_id?: string; text?: string };
      if (!body.text) return refuse(400, 'Bad Request: message text is empty');
      if (body.text.length > 4096) return refuse(400, 'Bad Request: message is too long');
      if (body.chat_id === '42') return refuse(403, 'Forbidden: bot was blocked by the user');
      if (body.chat_id === '77') return refuse(429, 'Too Many Requests: retry after 35', { retry_after: 35 });
      if (!/^-?\d+$|^@\w+$/.test(body.chat_id ?? '')) return refuse(400, 'Bad Request: chat not found');
      return {
        status: 200,
        body: {
          ok: true,
          result: { message_id: 4711, date: 1700000000, chat: { id: Number(body.chat_id) }, text: body.text },
        },
      };
    });
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts chat_id and text and logs the message_id', async () => {
    const outcome = await send();
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: '4711' });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({ chat_id: '987654321', text: 'Deploy finished' });
  });

  it('cuts text to the 4,096 characters sendMessage accepts', async () => {
    expect((await send('987654321', 'x'.repeat(5000))).status).toBe('sent');
    expect((JSON.parse(fake.requests.at(-1)!.body) as { text: string }).text).toHaveLength(4096);
  });

  it('fails a chat that blocked the bot for good: a 403 here is the recipient’s answer, not bad credentials', async () => {
    expect(await send('42')).toEqual({
      status: 'failed',
      reason: 'telegram: HTTP 403: Forbidden: bot was blocked by the user',
    });
  });

  it('fails an unknown chat for good', async () => {
    expect(await send('not-a-chat')).toEqual({
      status: 'failed',
      reason: 'telegram: HTTP 400: Bad Request: chat not found',
    });
  });

  it('waits as long as parameters.retry_after says on a 429', async () => {
    expect(await send('77')).toEqual({
      status: 'retry',
      reason: 'telegram: HTTP 429: Too Many Requests: retry after 35',
      retryAfterMs: 35_000,
      providerAnswered: true, // throttled, not down: no breaker failure
    });
  });

  it('retries a refused bot token: the integration is at fault, not the message', async () => {
    expect(await send('987654321', 'hi', '123456789:wrong')).toMatchObject({
      status: 'retry',
      reason: 'telegram: HTTP 401: Unauthorized',
    });
  });

  it('reads tgram:// URLs', () => {
    expect(telegram.fromUrl!(new URL('tgram://123456789/AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234567890'))).toEqual({
      botToken: TOKEN,
      chatId: '-1001234567890',
    });
    expect(
      telegram.fromUrl!(new URL('tgram://bot123456789%3AAAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/@herald_news')),
    ).toEqual({
      botToken: TOKEN,
      chatId: '@herald_news',
    });
    expect(telegram.fromUrl!(new URL('tgram://123456789/AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'))).toEqual({
      botToken: TOKEN,
    });
    expect(() => telegram.fromUrl!(new URL('tgram://123456789'))).toThrow(/bot_token/);
    expect(() => telegram.fromUrl!(new URL('tgram://123456789/AAHdq/1/2'))).toThrow(/one chat id/);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => send());
  });
});
