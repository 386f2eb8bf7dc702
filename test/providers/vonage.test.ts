import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vonage } from '../../src/channels/vonage/vonage-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerVonage } from '../support/fakes/vonage-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

describe('Vonage SMS provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (apiSecret = 'secret') =>
    vonage.create({ apiKey: 'abcd1234', apiSecret, from: '+447700900000', baseUrl: fake.url }, context);
  const send = (to = '+447700900123', text = 'Your code is 123456', apiSecret?: string) =>
    adapter(apiSecret).send({ messageId: 'msg_1', environmentId: 'env', to, text }, sendSignal());

  beforeAll(async () => {
    fake = await startFakeHttp(answerVonage);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts the form Vonage expects and logs the message-id', async () => {
    const outcome = await send();
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: '0C000000217B7F02' });
    const form = Object.fromEntries(new URLSearchParams(fake.requests.at(-1)!.body));
    expect(form).toEqual({
      api_key: 'abcd1234',
      api_secret: 'secret',
      from: '447700900000',
      to: '447700900123',
      text: 'Your code is 123456',
      'client-ref': 'msg_1',
    });
  });

  it('sends text outside GSM-7 as unicode', async () => {
    await send('+447700900123', 'Ваш код 123456 ✅');
    expect(new URLSearchParams(fake.requests.at(-1)!.body).get('type')).toBe('unicode');
  });

  it('reads the error from the 200 body: a barred number fails for good', async () => {
    expect(await send('+447700900007')).toEqual({ status: 'failed', reason: 'vonage: status 7: Number barred.' });
    expect(await send('+447700900029')).toEqual({
      status: 'failed',
      reason: 'vonage: status 29: Non-Whitelisted Destination - rejected',
    });
  });

  it('retries throttling and refused credentials', async () => {
    expect(await send('+447700900001')).toMatchObject({ status: 'retry', reason: expect.stringContaining('status 1') });
    expect(await send('+447700900123', 'hi', 'wrong')).toEqual({
      status: 'retry',
      reason: 'vonage: status 4: Bad Credentials',
    });
  });

  it('does not retry a text whose first part was already accepted', async () => {
    const outcome = await send('+447700900123', 'x'.repeat(300));
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'vonage: status 1: Throttled (other parts of the text were accepted)',
    });
  });

  it('reads vonage:// and nexmo:// URLs', () => {
    expect(vonage.fromUrl!(new URL('vonage://abcd1234:s3cr3t@%2B44%207700%20900000/447700900123'))).toEqual({
      apiKey: 'abcd1234',
      apiSecret: 's3cr3t',
      from: '447700900000',
    });
    expect(vonage.fromUrl!(new URL('nexmo://abcd1234:s3cr3t@447700900000'))).toMatchObject({ from: '447700900000' });
    expect(vonage.fromUrl!(new URL('vonage://abcd1234:s3cr3t@Herald'))).toMatchObject({ from: 'Herald' });
    expect(() => vonage.fromUrl!(new URL('vonage://abcd1234@447700900000'))).toThrow(/ApiKey.*ApiSecret/);
    expect(() => vonage.fromUrl!(new URL('vonage://k:s@far-too-long-sender'))).toThrow(/alphanumeric/);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => send());
  });
});
