import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegram } from '../../src/channels/telegram/telegram-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerTelegram, TELEGRAM_BOT_TOKEN } from '../support/fakes/telegram-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const TOKEN = TELEGRAM_BOT_TOKEN;

describe('Telegram Bot API provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (botToken = TOKEN) => telegram.create({ botToken, baseUrl: fake.url }, context);
  const send = (destination = '987654321', text = 'Deploy finished', botToken?: string) =>
    adapter(botToken).send({ messageId: 'msg_1', environmentId: 'env', destination, text, blocks: null }, sendSignal());

  beforeAll(async () => {
    fake = await startFakeHttp(answerTelegram);
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
