import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../src/channels/outbound/http-client.js';
import { signingKey, signRequest } from '../../src/channels/ses/aws-sigv4.js';
import { ses } from '../../src/channels/ses/ses-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerSes, AWS_EXAMPLE_CREDENTIALS, AWS_SESSION_TOKEN } from '../support/fakes/ses-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const EXAMPLE = AWS_EXAMPLE_CREDENTIALS;
const SUITE_DATE = new Date('2015-08-30T12:36:00Z');
const SESSION_TOKEN = AWS_SESSION_TOKEN;

describe('AWS Signature Version 4', () => {
  const suite = (method: string, url: string, headers: Record<string, string>, body = '') =>
    signRequest({ method, url, headers, body }, EXAMPLE, { region: 'us-east-1', service: 'service' }, SUITE_DATE)
      .authorization;

  it('derives the signing key of AWS’s worked example (20120215/us-east-1/iam)', () => {
    expect(signingKey(EXAMPLE.secretAccessKey, '20120215', 'us-east-1', 'iam').toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it('signs AWS’s IAM ListUsers example to the published signature', () => {
    const headers = signRequest(
      {
        method: 'GET',
        url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: '',
      },
      EXAMPLE,
      { region: 'us-east-1', service: 'iam' },
      SUITE_DATE,
    );
    expect(headers).toMatchObject({ host: 'iam.amazonaws.com', 'x-amz-date': '20150830T123600Z' });
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
  });

  it('matches the SigV4 test suite (get-vanilla, post-vanilla-query, post-x-www-form-urlencoded)', () => {
    expect(suite('GET', 'https://example.amazonaws.com/', {})).toContain(
      'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(suite('POST', 'https://example.amazonaws.com/?Param1=value1', {})).toContain(
      'Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
    );
    expect(
      suite(
        'POST',
        'https://example.amazonaws.com/',
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        'Param1=value1',
      ),
    ).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    );
  });
});

describe('Amazon SES v2 provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (config: Partial<Parameters<typeof ses.create>[0]> = {}) =>
    ses.create({ region: 'us-east-1', ...EXAMPLE, baseUrl: fake.url, ...config }, context);
  const email = (to = 'ann@example.com', toName: string | null = 'Ann Lee') => ({
    messageId: 'msg_01jd9x4k2m',
    environmentId: 'env',
    to,
    toName,
    subject: 'Your code',
    text: 'Code: 123456',
    html: '<p>Code: <b>123456</b></p>',
  });

  beforeAll(async () => {
    fake = await startFakeHttp(answerSes);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('sends a signed Simple message carrying Herald’s id, and logs the SES MessageId', async () => {
    const outcome = await adapter().send(email(), sendSignal());
    expect(outcome).toMatchObject({
      status: 'sent',
      providerMessageId: '010001918a1b2c3d-6a1e0f7e-4c1b-4a4e-9f5a-000000000000-000000',
    });
    const request = fake.requests.at(-1)!;
    expect(request.headers['x-amz-security-token']).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual({
      FromEmailAddress: '"Herald" <herald@example.com>',
      Destination: { ToAddresses: ['"Ann Lee" <ann@example.com>'] },
      Content: {
        Simple: {
          Subject: { Data: 'Your code', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'Code: 123456', Charset: 'UTF-8' },
            Html: { Data: '<p>Code: <b>123456</b></p>', Charset: 'UTF-8' },
          },
          Headers: [{ Name: 'X-Herald-Message-Id', Value: 'msg_01jd9x4k2m' }],
        },
      },
      EmailTags: [{ Name: 'herald_message_id', Value: 'msg_01jd9x4k2m' }],
    });
  });

  it('signs the session token of temporary credentials and uses the configured sender', async () => {
    const outcome = await adapter({ sessionToken: SESSION_TOKEN, from: 'alerts@example.org' }).send(
      email('bob@example.com', null),
      sendSignal(),
    );
    expect(outcome.status).toBe('sent');
    const request = fake.requests.at(-1)!;
    expect(request.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
    expect(JSON.parse(request.body)).toMatchObject({
      FromEmailAddress: 'alerts@example.org',
      Destination: { ToAddresses: ['bob@example.com'] },
    });
  });

  it('retries when AWS refuses the signature (the integration’s credentials, not the message)', async () => {
    const outcome = await adapter({ secretAccessKey: 'not-the-secret' }).send(email(), sendSignal());
    expect(outcome).toMatchObject({
      status: 'retry',
      reason: expect.stringContaining('ses: HTTP 403: SignatureDoesNotMatch'),
    });
  });

  it('fails a rejected message for good, with SES’s explanation', async () => {
    const outcome = await adapter().send(email('unverified@example.com'), sendSignal());
    expect(outcome).toEqual({
      status: 'failed',
      reason:
        'ses: HTTP 400: MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: unverified@example.com',
    });
  });

  it('retries while the account’s sending is paused', async () => {
    const outcome = await adapter().send(email('paused@example.com'), sendSignal());
    expect(outcome).toEqual({
      status: 'retry',
      reason: 'ses: HTTP 400: SendingPausedException: Sending is paused for this account.',
    });
  });

  it('sends to the region’s SES endpoint by default', async () => {
    // The real guarded client with a test DNS pointing every name at loopback, which the guard
    // refuses: nothing leaves the machine, and the refusal names the host the adapter chose.
    const http = createHttpClient({ allowedNetworks: [], timeoutMs: 400, resolve: async () => ['127.0.0.1'] });
    try {
      const adapter = ses.create({ region: 'eu-west-1', ...EXAMPLE }, { ...context, http });
      expect(await adapter.send(email(), sendSignal())).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^ses: refused: email\.eu-west-1\.amazonaws\.com resolves to a refused address/),
      });
    } finally {
      await http.close();
    }
  });

  it('reads ses:// URLs, secrets with slashes included', () => {
    expect(
      ses.fromUrl!(
        new URL(
          'ses://noreply@example.com/AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG/bPxRfiCY/us-east-2/ops@example.com',
        ),
      ),
    ).toEqual({
      region: 'us-east-2',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY',
      from: 'noreply@example.com',
    });
    expect(
      ses.fromUrl!(new URL('ses://noreply@example.com/AKID/abc%2Bdef%2Fghi/eu-west-1?name=Acme%20Alerts')),
    ).toEqual({
      region: 'eu-west-1',
      accessKeyId: 'AKID',
      secretAccessKey: 'abc+def/ghi',
      from: 'Acme Alerts <noreply@example.com>',
    });
    expect(() => ses.fromUrl!(new URL('ses://noreply@example.com/AKID/secret'))).toThrow(/\{region\}/);
    expect(() => ses.fromUrl!(new URL('ses://example.com/AKID/secret/us-east-1'))).toThrow(/from_user/);
  });

  it('validates its config: what fromUrl reads passes, unknown or malformed fields do not', () => {
    expect(
      Value.Check(ses.configSchema, ses.fromUrl!(new URL('ses://noreply@example.com/AKID/secret/us-east-1?name=Acme'))),
    ).toBe(true);
    expect(
      Value.Check(ses.configSchema, { region: 'us-east-1', ...EXAMPLE, baseUrl: 'https://ses.internal.example' }),
    ).toBe(true);
    expect(Value.Check(ses.configSchema, { region: 'mars-1', ...EXAMPLE })).toBe(false);
    expect(
      Value.Check(ses.configSchema, {
        ...{ region: 'us-east-1', ...EXAMPLE, baseUrl: 'https://ses.internal.example' },
        extra: 1,
      }),
    ).toBe(false);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => adapter().send(email(), sendSignal()));
  });
});
