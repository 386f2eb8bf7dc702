import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mattermost } from '../../src/channels/mattermost/mattermost-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const HOOK = 'yobjmukpaw3r3urc5h6i369yima';

describe('Mattermost webhook provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = mattermost.create({ username: 'Herald' }, context);
  const send = (destination: string, text = 'Deploy finished') =>
    adapter.send({ messageId: 'msg_1', environmentId: 'env', destination, text, blocks: null }, sendSignal());

  beforeAll(async () => {
    // Answers as Mattermost does: 200 "ok" as text; 400 {id, message, status_code} for an unknown
    // webhook or an empty text.
    fake = await startFakeHttp((request) => {
      const refuse = (id: string, message: string) => ({
        status: 400,
        body: { id, message, detailed_error: '', request_id: 'pbk6q1bfwjrzbqbbb8me56d7xc', status_code: 400 },
      });
      if (request.method !== 'POST' || request.url !== `/hooks/${HOOK}`) {
        return refuse('web.incoming_webhook.invalid.app_error', 'Invalid webhook.');
      }
      if (request.headers['content-type'] !== 'application/json') {
        return refuse('api.webhook.incoming.error', 'Unable to parse incoming data.');
      }
      const body = JSON.parse(request.body) as { text?: string };
      if (!body.text) return refuse('web.incoming_webhook.text.app_error', 'No text specified.');
      return { status: 200, body: 'ok' };
    });
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
