import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slack } from '../../src/channels/slack/slack-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerSlack, SLACK_BOT_TOKEN } from '../support/fakes/slack-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const BOT_TOKEN = SLACK_BOT_TOKEN;
const BLOCKS = [{ type: 'section', text: { type: 'mrkdwn', text: '*Deploy* finished' } }];

describe('Slack provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  let bot: ReturnType<typeof slack.create>;
  const webhookOnly = slack.create({}, context);
  const send = (
    adapter: ReturnType<typeof slack.create>,
    destination: string,
    blocks: unknown[] | null = null,
    text = 'Deploy finished',
  ) => adapter.send({ messageId: 'msg_1', environmentId: 'env', destination, text, blocks }, sendSignal());

  beforeAll(async () => {
    fake = await startFakeHttp(answerSlack);
    bot = slack.create({ botToken: BOT_TOKEN, baseUrl: `${fake.url}/` }, context);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  describe('through an incoming webhook', () => {
    it('posts the text and blocks to the webhook URL', async () => {
      const outcome = await send(webhookOnly, `${fake.url}/services/T000/B000/secret`, BLOCKS);
      expect(outcome).toMatchObject({ status: 'sent' });
      const request = fake.requests.at(-1)!;
      expect(request.url).toBe('/services/T000/B000/secret');
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.parse(request.body)).toEqual({ text: 'Deploy finished', blocks: BLOCKS });
    });

    it('sends text alone when there are no blocks', async () => {
      await send(webhookOnly, `${fake.url}/services/T000/B000/secret`);
      expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({ text: 'Deploy finished' });
    });

    it.each([
      ['revoked', 'slack: HTTP 404: no_service (the webhook is disabled, removed or mistyped)'],
      ['archived', 'slack: HTTP 410: channel_is_archived (the channel is archived)'],
      ['restricted', 'slack: HTTP 403: action_prohibited (a workspace restriction forbids this webhook to post here)'],
    ])('fails a %s webhook for good, with Slack’s error code', async (token, reason) => {
      expect(await send(webhookOnly, `${fake.url}/services/T000/B000/${token}`)).toEqual({ status: 'failed', reason });
    });

    it('retries Slack’s own failure', async () => {
      const outcome = await send(webhookOnly, `${fake.url}/services/T000/B000/broken`);
      expect(outcome).toMatchObject({ status: 'retry', reason: 'slack: HTTP 500: rollup_error' });
    });

    it.each(FAULTS)('ends %s in its documented state', async (fault) => {
      await expectFaultOutcome(fake, fault, () => send(webhookOnly, `${fake.url}/services/T000/B000/secret`));
    });
  });

  describe('through chat.postMessage', () => {
    it('posts to the channel with the bot token and logs the message ts', async () => {
      const outcome = await send(bot, 'C0123456', BLOCKS);
      expect(outcome).toMatchObject({ status: 'sent', providerMessageId: '1503435956.000247' });
      const request = fake.requests.at(-1)!;
      expect(request.url).toBe('/api/chat.postMessage');
      expect(request.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
      expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(request.body)).toEqual({ channel: 'C0123456', text: 'Deploy finished', blocks: BLOCKS });
    });

    it('fails a channel-id destination at once when the integration has no bot token', async () => {
      const before = fake.requests.length;
      const outcome = await send(webhookOnly, 'C0123456');
      expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringContaining('needs a bot token') });
      expect(fake.requests.length).toBe(before);
    });

    it.each([
      ['C404', 'slack: chat.postMessage: channel_not_found (no such channel, or the app cannot see it)'],
      ['COUTSIDE', 'slack: chat.postMessage: not_in_channel (the app is not a member of the channel; invite it)'],
      [
        'CBADBLOCKS',
        'slack: chat.postMessage: invalid_blocks: [ERROR] must provide an object [json-pointer:/blocks/0]',
      ],
    ])('fails %s for good, with Slack’s error', async (channel, reason) => {
      expect(await send(bot, channel)).toEqual({ status: 'failed', reason });
    });

    it('retries a token Slack refuses: the integration needs fixing, not the message', async () => {
      const stale = slack.create({ botToken: 'xoxb-stale', baseUrl: fake.url }, context);
      expect(await send(stale, 'C0123456')).toMatchObject({
        status: 'retry',
        reason: 'slack: chat.postMessage: invalid_auth (the bot token is not valid)',
      });
    });

    it('retries a rate limit after the Retry-After Slack gives', async () => {
      expect(await send(bot, 'CBUSY')).toEqual({
        status: 'retry',
        reason: 'slack: HTTP 429: ratelimited',
        retryAfterMs: 30_000,
        providerAnswered: true, // throttled, not down: no breaker failure
      });
    });

    it.each(FAULTS)('ends %s in its documented state', async (fault) => {
      await expectFaultOutcome(fake, fault, () => send(bot, 'C0123456'));
    });
  });

  it('uses the fixed webhook, else the fixed channel, for subscribers without one', () => {
    const webhookUrl = 'https://hooks.slack.com/services/T1/B1/x';
    expect(slack.defaultDestination!({ webhookUrl, channel: 'C1' })).toBe(webhookUrl);
    expect(slack.defaultDestination!({ botToken: BOT_TOKEN, channel: 'C1' })).toBe('C1');
    expect(slack.defaultDestination!({ botToken: BOT_TOKEN })).toBeUndefined();
  });

  describe('slack:// URLs', () => {
    const fromUrl = (url: string) => slack.fromUrl!(new URL(url));

    it('reads the webhook form, dropping the bot name and channels a webhook cannot honour', () => {
      const webhookUrl = 'https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F8';
      expect(fromUrl('slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F8')).toEqual({ webhookUrl });
      expect(fromUrl('slack://Herald@T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F8/#alerts')).toEqual({ webhookUrl });
      expect(fromUrl('slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F8?mode=gov-hook')).toEqual({
        webhookUrl: 'https://hooks.slack-gov.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F8',
      });
    });

    it('reads the bot form with its one channel', () => {
      const botToken = 'xoxb-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d';
      expect(fromUrl(`slack://${botToken}/#general`)).toEqual({ botToken, channel: '#general' });
      expect(fromUrl(`slack://${botToken}/+C0123456`)).toEqual({ botToken, channel: 'C0123456' });
      expect(fromUrl(`slack://${botToken}?to=C0123456`)).toEqual({ botToken, channel: 'C0123456' });
      expect(fromUrl(`slack://${botToken}`)).toEqual({ botToken });
    });

    it('refuses URLs it cannot map, saying why', () => {
      expect(() => fromUrl('slack://T1JJ3T3L2/A1BRTD4JD')).toThrow(/slack:\/\/\{tokenA\}\/\{tokenB\}\/\{tokenC\}/);
      expect(() => fromUrl('slack://T1JJ3T3L2/A1BRTD4JD/not-a-token')).toThrow(/incoming webhook/);
      expect(() => fromUrl('slack://xoxb-1234-abc/#ops/#alerts')).toThrow(/2 channels/);
    });
  });
});
