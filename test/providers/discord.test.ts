import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discord } from '../../src/channels/discord/discord-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerDiscord } from '../support/fakes/discord-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

describe('Discord webhook provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = discord.create({}, context);
  const send = (destination: string, text = 'Deploy finished') =>
    adapter.send({ messageId: 'msg_1', environmentId: 'env', destination, text, blocks: null }, sendSignal());

  beforeAll(async () => {
    fake = await startFakeHttp(answerDiscord);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts the text and logs the id Discord gives the message', async () => {
    const outcome = await send(`${fake.url}/api/webhooks/123/tok-en`);
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: '1168392040194912356' });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toMatchObject({ content: 'Deploy finished' });
  });

  it('fails an unknown webhook for good, with Discord’s explanation', async () => {
    const outcome = await send(`${fake.url}/api/webhooks/123`);
    expect(outcome).toEqual({ status: 'failed', reason: 'discord: HTTP 404: Unknown Webhook (code 10015)' });
  });

  it('reads discord:// URLs', () => {
    expect(discord.fromUrl!(new URL('discord://123/abc-DEF'))).toEqual({
      webhookUrl: 'https://discord.com/api/webhooks/123/abc-DEF',
    });
    expect(() => discord.fromUrl!(new URL('discord://123'))).toThrow(/webhook_token/);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => send(`${fake.url}/api/webhooks/123/tok`));
  });
});
