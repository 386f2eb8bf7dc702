import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teams } from '../../src/channels/teams/teams-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerTeamsTrigger, TEAMS_RUN_ID, TEAMS_SIGNATURE, teamsTriggerUrl } from '../support/fakes/teams-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const RUN_ID = TEAMS_RUN_ID;
const SIGNATURE = TEAMS_SIGNATURE;

describe('Microsoft Teams Workflows provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = teams.create({}, context);
  const trigger = (workflow?: string, sig?: string) => teamsTriggerUrl(fake.url, workflow, sig);
  const send = (destination: string, blocks: unknown[] | null = null) =>
    adapter.send(
      { messageId: 'msg_1', environmentId: 'env', destination, text: 'Deploy finished', blocks },
      sendSignal(),
    );

  beforeAll(async () => {
    fake = await startFakeHttp(answerTeamsTrigger);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts the text as an Adaptive Card and logs the run id Workflows gives', async () => {
    const outcome = await send(trigger());
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: RUN_ID });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [{ type: 'TextBlock', text: 'Deploy finished', wrap: true }],
          },
        },
      ],
    });
  });

  it('uses the message’s blocks as the card body', async () => {
    const blocks = [
      { type: 'TextBlock', text: 'Deploy finished', weight: 'Bolder' },
      { type: 'FactSet', facts: [{ title: 'Version', value: '1.4.2' }] },
    ];
    await send(trigger(), blocks);
    expect(JSON.parse(fake.requests.at(-1)!.body).attachments[0].content.body).toEqual(blocks);
  });

  it('fails a deleted workflow for good, with Workflows’ explanation', async () => {
    expect(await send(trigger('deleted'))).toEqual({
      status: 'failed',
      reason: "teams: HTTP 404: The workflow 'deleted' could not be found. (WorkflowNotFound)",
    });
  });

  it('fails a URL whose signature is wrong or missing: retrying the same URL cannot work', async () => {
    expect(await send(trigger('a1b2c3', 'forged'))).toEqual({
      status: 'failed',
      reason:
        'teams: HTTP 401: The provided authorization signature is not valid. (DirectApiInvalidAuthorizationSignature)',
    });
    expect(
      await send(`${fake.url}/workflows/a1b2c3/triggers/manual/paths/invoke?api-version=2016-06-01`),
    ).toMatchObject({ status: 'failed', reason: expect.stringContaining('DirectApiAuthorizationRequired') });
  });

  it('retries a throttled flow after the Retry-After it gives', async () => {
    expect(await send(trigger('throttled'))).toMatchObject({
      status: 'retry',
      reason: expect.stringContaining('WorkflowRequestsThrottled'),
      retryAfterMs: 12_000,
    });
  });

  it('uses the fixed webhook for subscribers without one', () => {
    expect(teams.defaultDestination!({ webhookUrl: 'https://example.com/hook' })).toBe('https://example.com/hook');
    expect(teams.defaultDestination!({})).toBeUndefined();
  });

  describe('Apprise URLs', () => {
    const fromUrl = (url: string) => teams.fromUrl!(new URL(url)).webhookUrl;

    it('reads workflows:// as the Workflows trigger URL', () => {
      expect(
        fromUrl(`workflows://prod-161.westeurope.logic.azure.com:443/643e69f83c8944438d68119179a10a64/${SIGNATURE}`),
      ).toBe(
        'https://prod-161.westeurope.logic.azure.com/workflows/643e69f83c8944438d68119179a10a64/triggers/manual/paths/invoke' +
          `?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIGNATURE}`,
      );
    });

    it('reads the Power Automate form, a chosen api-version, a port and query tokens', () => {
      expect(fromUrl(`workflow://example.logic.azure.com:8443/wf-1/${SIGNATURE}?pa=yes`)).toBe(
        'https://example.logic.azure.com:8443/powerautomate/automations/direct/workflows/wf-1/triggers/manual/paths/invoke' +
          `?api-version=2022-03-01-preview&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIGNATURE}`,
      );
      expect(fromUrl(`workflows://example.logic.azure.com/?id=wf-1&sig=${SIGNATURE}&ver=2016-10-01`)).toBe(
        'https://example.logic.azure.com/workflows/wf-1/triggers/manual/paths/invoke' +
          `?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIGNATURE}`,
      );
    });

    it('refuses malformed workflows:// and the retired msteams:// connector URLs, saying why', () => {
      expect(() => fromUrl('workflows://example.logic.azure.com/wf-1')).toThrow(/\{workflow\}\/\{signature\}/);
      expect(() => fromUrl('workflows://example.logic.azure.com/wf.1/sig')).toThrow(/\{workflow\}\/\{signature\}/);
      expect(() => fromUrl('msteams://team/tokenA@tenant/tokenB/tokenC/tokenD')).toThrow(/retired/);
    });

    it('produces a URL the adapter posts to', async () => {
      const webhookUrl = fromUrl(`workflows://${new URL(fake.url).host}/a1b2c3/${SIGNATURE}`)!.replace(
        'https:',
        'http:',
      );
      expect(await send(webhookUrl)).toMatchObject({ status: 'sent', providerMessageId: RUN_ID });
    });
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => send(trigger()));
  });
});
