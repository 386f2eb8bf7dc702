import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHANNEL_TEST_SETTINGS,
  expectSentVia,
  integrationsPerTest,
  putSubscriber,
  settledMessage,
  triggerStep,
} from '../support/channel-delivery.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerDiscord, DISCORD_MESSAGE_ID } from '../support/fakes/discord-fake.js';
import { answerMattermost, MATTERMOST_HOOK } from '../support/fakes/mattermost-fake.js';
import { answerSlack, SLACK_BOT_TOKEN } from '../support/fakes/slack-fake.js';
import { answerTeamsTrigger, TEAMS_RUN_ID, TEAMS_SIGNATURE, teamsTriggerUrl } from '../support/fakes/teams-fake.js';
import { answerTelegram, TELEGRAM_BOT_TOKEN } from '../support/fakes/telegram-fake.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const DEPLOY_STEP = { type: 'chat', text: '{{ data.service }} {{ data.version }} is live' };
const DEPLOY_DATA = { service: 'billing', version: '1.4.2' };

let h: TestHerald;
const fakes: Record<'slack' | 'discord' | 'teams' | 'telegram' | 'mattermost', FakeHttp> = {} as never;

beforeAll(async () => {
  [h, fakes.slack, fakes.discord, fakes.teams, fakes.telegram, fakes.mattermost] = await Promise.all([
    startTestHerald(CHANNEL_TEST_SETTINGS),
    startFakeHttp(answerSlack),
    startFakeHttp(answerDiscord),
    startFakeHttp(answerTeamsTrigger),
    startFakeHttp(answerTelegram),
    startFakeHttp(answerMattermost),
  ]);
});
afterAll(async () => {
  await Promise.all([h.close(), ...Object.values(fakes).map((fake) => fake.close())]);
});

/** Triggers the deploy step for one subscriber and answers the settled message. */
async function deploy(subscriberId: string, step: Record<string, unknown> = DEPLOY_STEP, status = 'sent') {
  const id = await triggerStep(h, `chat-${subscriberId}`, step, subscriberId, DEPLOY_DATA);
  return settledMessage(h, id, status);
}

describe('chat through the API', () => {
  const putIntegration = integrationsPerTest(() => h);

  it('posts text and rendered blocks to the subscriber’s Slack webhook, over the slack:// default', async () => {
    const created = await putIntegration('chat-slack', { url: 'slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F8' });
    expect(created).toMatchObject({
      channel: 'chat',
      provider: 'slack',
      config: { webhookUrl: expect.stringMatching(/^••••/) },
    });
    await putSubscriber(h, 'slack-hook', { chat: { slack: `${fakes.slack.url}/services/T000/B000/secret` } });

    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*{{ data.service }}* deployed' } }];
    const message = await deploy('slack-hook', { ...DEPLOY_STEP, blocks });
    expectSentVia(message, 'chat-slack', 'slack');
    // The recipient names the webhook without its secret path.
    expect(message.recipient).toBe(`slack:${fakes.slack.url}/services/…`);
    const request = fakes.slack.requests.at(-1)!;
    expect(request.url).toBe('/services/T000/B000/secret');
    expect(JSON.parse(request.body)).toEqual({
      text: 'billing 1.4.2 is live',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*billing* deployed' } }],
    });
  });

  it('posts with chat.postMessage to the subscriber’s Slack channel', async () => {
    await putIntegration('chat-slack-bot', {
      channel: 'chat',
      provider: 'slack',
      config: { botToken: SLACK_BOT_TOKEN, baseUrl: fakes.slack.url },
    });
    await putSubscriber(h, 'slack-bot', { chat: { slack: 'C0123456' } });

    const message = await deploy('slack-bot');
    expectSentVia(message, 'chat-slack-bot', 'slack', '1503435956.000247');
    expect(message.recipient).toBe('slack:C0123456');
    const request = fakes.slack.requests.at(-1)!;
    expect(request.url).toBe('/api/chat.postMessage');
    expect(request.headers.authorization).toBe(`Bearer ${SLACK_BOT_TOKEN}`);
    expect(JSON.parse(request.body)).toEqual({ channel: 'C0123456', text: 'billing 1.4.2 is live' });
  });

  it('posts to the subscriber’s Discord webhook, over the discord:// default', async () => {
    await putIntegration('chat-discord', { url: 'discord://123/abc-DEF' });
    await putSubscriber(h, 'discord-1', { chat: { discord: `${fakes.discord.url}/api/webhooks/456/tok-en` } });

    expectSentVia(await deploy('discord-1'), 'chat-discord', 'discord', DISCORD_MESSAGE_ID);
    const request = fakes.discord.requests.at(-1)!;
    expect(request.url).toBe('/api/webhooks/456/tok-en?wait=true');
    expect(JSON.parse(request.body)).toMatchObject({ content: 'billing 1.4.2 is live' });
  });

  it('posts an Adaptive Card to the subscriber’s Teams workflow, over the workflows:// default', async () => {
    await putIntegration('chat-teams', { url: `workflows://prod-1.westeurope.logic.azure.com/wf1/${TEAMS_SIGNATURE}` });
    await putSubscriber(h, 'teams-1', { chat: { teams: teamsTriggerUrl(fakes.teams.url) } });

    const blocks = [{ type: 'TextBlock', text: '{{ data.service }} deployed', weight: 'Bolder' }];
    expectSentVia(await deploy('teams-1', { ...DEPLOY_STEP, blocks }), 'chat-teams', 'teams', TEAMS_RUN_ID);
    const card = JSON.parse(fakes.teams.requests.at(-1)!.body).attachments[0];
    expect(card).toMatchObject({
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: { type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: 'billing deployed', weight: 'Bolder' }] },
    });
  });

  it('sends to the subscriber’s Telegram chat through a bot set up from a tgram:// URL', async () => {
    const created = await putIntegration('chat-telegram', { url: `tgram://${TELEGRAM_BOT_TOKEN}/` });
    expect(created).toMatchObject({ provider: 'telegram', config: { botToken: expect.stringMatching(/^••••/) } });
    await putIntegration('chat-telegram', {
      channel: 'chat',
      provider: 'telegram',
      // A new destination needs the token itself, not its mask.
      config: { ...created.config, botToken: TELEGRAM_BOT_TOKEN, baseUrl: fakes.telegram.url },
    });
    await putSubscriber(h, 'telegram-1', { chat: { telegram: '987654321' } });

    expectSentVia(await deploy('telegram-1'), 'chat-telegram', 'telegram', '4711');
    const request = fakes.telegram.requests.at(-1)!;
    expect(request.url).toBe(`/bot${TELEGRAM_BOT_TOKEN}/sendMessage`);
    expect(JSON.parse(request.body)).toMatchObject({ chat_id: '987654321', text: 'billing 1.4.2 is live' });
  });

  it('posts to the mmost:// webhook for a subscriber without a Mattermost address', async () => {
    const host = new URL(fakes.mattermost.url).host;
    await putIntegration('chat-mattermost', { url: `mmost://herald-bot@${host}/${MATTERMOST_HOOK}` });
    await putSubscriber(h, 'mattermost-1', { name: 'No chat addresses' });

    const message = await deploy('mattermost-1');
    expectSentVia(message, 'chat-mattermost', 'mattermost');
    expect(message.recipient).toBe(`mattermost:${fakes.mattermost.url}/hooks/…`);
    expect(JSON.parse(fakes.mattermost.requests.at(-1)!.body)).toEqual({
      text: 'billing 1.4.2 is live',
      username: 'herald-bot',
    });
  });

  it('skips a subscriber with no address for any enabled chat provider', async () => {
    await putSubscriber(h, 'chat-elsewhere', { chat: { telegram: '987654321' } });
    const none = await deploy('chat-elsewhere', DEPLOY_STEP, 'skipped');
    expect(none.reason).toBe('no enabled chat integration');

    await putIntegration('chat-discord', { channel: 'chat', provider: 'discord', config: {} });
    await putIntegration('chat-teams', { channel: 'chat', provider: 'teams', config: {} });
    const message = await deploy('chat-elsewhere', DEPLOY_STEP, 'skipped');
    expect(message).toMatchObject({ reason: 'subscriber has no chat address for discord, teams', attempts: [] });
  });

  it('sends a test message: POST /v1/integrations/{id}/test', async () => {
    await putIntegration('chat-slack-bot', {
      channel: 'chat',
      provider: 'slack',
      config: { botToken: SLACK_BOT_TOKEN, baseUrl: fakes.slack.url },
    });
    const res = await h.api('POST', '/v1/integrations/chat-slack-bot/test', { to: 'C0123456', text: 'Ping' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'sent', providerMessageId: '1503435956.000247' });
    expect(JSON.parse(fakes.slack.requests.at(-1)!.body)).toEqual({ channel: 'C0123456', text: 'Ping' });
  });
});
