import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postmark } from '../../src/channels/postmark/postmark-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerPostmark } from '../support/fakes/postmark-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

describe('Postmark provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (config: { serverToken?: string; from?: string; messageStream?: string } = {}) =>
    postmark.create({ serverToken: 'server-token', baseUrl: fake.url, ...config }, context);
  const email = (to = 'ann@example.com', toName: string | null = 'Ann Lee', html?: string) => ({
    messageId: 'msg_01jd9x4k2m',
    environmentId: 'env',
    to,
    toName,
    subject: 'Your code',
    text: 'Code: 123456',
    html,
  });

  beforeAll(async () => {
    fake = await startFakeHttp(answerPostmark);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('sends with Herald’s id in a header and metadata, and logs the MessageID', async () => {
    const outcome = await adapter().send(email('ann@example.com', 'Ann Lee', '<p>Code</p>'), sendSignal());
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817' });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({
      From: '"Herald" <herald@example.com>',
      To: '"Ann Lee" <ann@example.com>',
      Subject: 'Your code',
      TextBody: 'Code: 123456',
      HtmlBody: '<p>Code</p>',
      Headers: [{ Name: 'X-Herald-Message-Id', Value: 'msg_01jd9x4k2m' }],
      Metadata: { herald_message_id: 'msg_01jd9x4k2m' },
    });
  });

  it('uses the configured sender and message stream', async () => {
    const outcome = await adapter({ from: 'alerts@example.org', messageStream: 'alerts' }).send(
      email('bob@example.com', null),
      sendSignal(),
    );
    expect(outcome.status).toBe('sent');
    expect(JSON.parse(fake.requests.at(-1)!.body)).toMatchObject({
      From: 'alerts@example.org',
      To: 'bob@example.com',
      MessageStream: 'alerts',
    });
  });

  it('fails an inactive recipient (ErrorCode 406) for good, with Postmark’s explanation', async () => {
    const outcome = await adapter().send(email('bounced@example.com'), sendSignal());
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(
        /^postmark: HTTP 422: You tried to send to recipient\(s\) that have been marked as inactive.*\(ErrorCode 406\)$/,
      ),
    });
  });

  it('retries when the account is out of credits (ErrorCode 405) or the token is refused', async () => {
    expect(await adapter().send(email('credits@example.com'), sendSignal())).toEqual({
      status: 'retry',
      reason: 'postmark: HTTP 422: Not allowed to send: you have run out of credits. (ErrorCode 405)',
    });
    expect(await adapter({ serverToken: 'wrong' }).send(email(), sendSignal())).toMatchObject({
      status: 'retry',
      reason: 'postmark: HTTP 401: Request does not contain a valid Server token. (ErrorCode 10)',
    });
  });

  it('reads postmark:// URLs', () => {
    expect(postmark.fromUrl!(new URL('postmark://server-token:noreply@example.com/ops@example.com'))).toEqual({
      serverToken: 'server-token',
      from: 'noreply@example.com',
    });
    expect(postmark.fromUrl!(new URL('postmark://server-token:noreply@example.com?name=Acme%20Alerts'))).toEqual({
      serverToken: 'server-token',
      from: 'Acme Alerts <noreply@example.com>',
    });
    expect(() => postmark.fromUrl!(new URL('postmark://server-token@example.com'))).toThrow(/from_user/);
  });

  it('validates its config: what fromUrl reads passes, unknown or malformed fields do not', () => {
    expect(
      Value.Check(postmark.configSchema, postmark.fromUrl!(new URL('postmark://token:noreply@example.com?name=Acme'))),
    ).toBe(true);
    expect(Value.Check(postmark.configSchema, { serverToken: 't', messageStream: 'outbound' })).toBe(true);
    expect(Value.Check(postmark.configSchema, { serverToken: '' })).toBe(false);
    expect(Value.Check(postmark.configSchema, { serverToken: 't', messageStream: 'outbound', extra: 1 })).toBe(false);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => adapter().send(email(), sendSignal()));
  });
});
