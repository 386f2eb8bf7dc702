import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mattermost } from '../../src/channels/mattermost/mattermost-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerMattermost, MATTERMOST_HOOK } from '../support/fakes/mattermost-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const HOOK = MATTERMOST_HOOK;

describe('Mattermost webhook provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = mattermost.create({ username: 'Herald' }, context);
  const send = (destination: string, text = 'Deploy finished') =>
    adapter.send({ messageId: 'msg_1', environmentId: 'env', destination, text, blocks: null }, sendSignal());

  beforeAll(async () => {
    fake = await startFakeHttp(answerMattermost);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts the text with the configured username', async () => {
    const outcome = await send(`${fake.url}/hooks/${HOOK}`);
    expect(outcome).toEqual({ status: 'sent', detail: 'mattermost: HTTP 200' });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({ text: 'Deploy finished', username: 'Herald' });
  });

  it('fails a deleted webhook for good, with Mattermost’s explanation', async () => {
    expect(await send(`${fake.url}/hooks/gone`)).toEqual({
      status: 'failed',
      reason: 'mattermost: HTTP 400: Invalid webhook. (web.incoming_webhook.invalid.app_error)',
    });
  });

  it('reads mmost:// and mmosts:// URLs', () => {
    expect(mattermost.fromUrl!(new URL(`mmost://localhost:8065/${HOOK}`))).toEqual({
      webhookUrl: `http://localhost:8065/hooks/${HOOK}`,
    });
    expect(mattermost.fromUrl!(new URL(`mmosts://herald-bot@chat.example.com/mattermost/${HOOK}`))).toEqual({
      webhookUrl: `https://chat.example.com/mattermost/hooks/${HOOK}`,
      username: 'herald-bot',
    });
    expect(() => mattermost.fromUrl!(new URL('mmosts://chat.example.com'))).toThrow(/webhook_token/);
    expect(() => mattermost.fromUrl!(new URL(`mmosts://chat.example.com/${HOOK}?channel=ops`))).toThrow(/channel/);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => send(`${fake.url}/hooks/${HOOK}`));
  });
});
