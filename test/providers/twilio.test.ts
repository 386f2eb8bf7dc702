import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilio } from '../../src/channels/twilio/twilio-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerTwilio, TWILIO_ACCOUNT, TWILIO_QUEUE_FULL_NUMBER } from '../support/fakes/twilio-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const { accountSid: SID, authToken: TOKEN } = TWILIO_ACCOUNT;
const SERVICE = 'MG0123456789abcdef0123456789abcdef';

describe('Twilio SMS provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (extra: { from?: string; messagingServiceSid?: string } = { from: '+15005550006' }) =>
    twilio.create({ accountSid: SID, authToken: TOKEN, baseUrl: fake.url, ...extra }, context);
  const send = (to = '+14155550100', extra?: { from?: string; messagingServiceSid?: string }) =>
    adapter(extra).send({ messageId: 'msg_1', environmentId: 'env', to, text: 'Your code is 123456' }, sendSignal());

  beforeAll(async () => {
    fake = await startFakeHttp(answerTwilio);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts To, From and Body with basic auth and logs the Message sid', async () => {
    const outcome = await send();
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: 'SM1f0e8ae6ade43cb3c0ce4525424e404f' });
    const form = new URLSearchParams(fake.requests.at(-1)!.body);
    expect(Object.fromEntries(form)).toEqual({ To: '+14155550100', From: '+15005550006', Body: 'Your code is 123456' });
  });

  it('sends through a Messaging Service when one is configured', async () => {
    const outcome = await send('+14155550100', { messagingServiceSid: SERVICE });
    expect(outcome.status).toBe('sent');
    const form = new URLSearchParams(fake.requests.at(-1)!.body);
    expect(form.get('MessagingServiceSid')).toBe(SERVICE);
    expect(form.has('From')).toBe(false);
  });

  it('fails an invalid number for good, with Twilio’s explanation and code', async () => {
    const outcome = await send('+1415');
    expect(outcome).toEqual({
      status: 'failed',
      reason:
        "twilio: HTTP 400: The 'To' number +1415 is not a valid phone number. (code 21211, https://www.twilio.com/docs/errors/21211)",
    });
  });

  it('retries when the credentials are refused: the integration is at fault, not the message', async () => {
    const outcome = await twilio
      .create({ accountSid: SID, authToken: 'wrong', from: '+15005550006', baseUrl: fake.url }, context)
      .send({ messageId: 'msg_2', environmentId: 'env', to: '+14155550100', text: 'hi' }, sendSignal());
    expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('Authenticate (code 20003') });
  });

  it('retries a full sender queue (21611), which Twilio reports as a 400', async () => {
    const outcome = await send(TWILIO_QUEUE_FULL_NUMBER);
    expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('21611') });
  });

  it('requires a sender: from or messagingServiceSid', () => {
    const base = { accountSid: SID, authToken: TOKEN };
    expect(Value.Check(twilio.configSchema, base)).toBe(false);
    expect(Value.Check(twilio.configSchema, { ...base, from: '+15005550006' })).toBe(true);
    expect(Value.Check(twilio.configSchema, { ...base, messagingServiceSid: SERVICE })).toBe(true);
    expect(() => twilio.create(base, context)).toThrow(/from or messagingServiceSid/);
  });

  it('reads twilio:// URLs', () => {
    expect(twilio.fromUrl!(new URL(`twilio://${SID}:${TOKEN}@15005550006`))).toEqual({
      accountSid: SID,
      authToken: TOKEN,
      from: '+15005550006',
    });
    expect(twilio.fromUrl!(new URL(`twilio://${SID}:${TOKEN}@%2B15005550006/%2B14155550100`))).toMatchObject({
      from: '+15005550006',
    });
    expect(twilio.fromUrl!(new URL(`twilio://${SID}:${TOKEN}@12345`))).toMatchObject({ from: '12345' });
    expect(twilio.fromUrl!(new URL(`twilio://${SID}:${TOKEN}@${SERVICE}`))).toEqual({
      accountSid: SID,
      authToken: TOKEN,
      messagingServiceSid: SERVICE,
    });
    expect(() => twilio.fromUrl!(new URL('twilio://15005550006'))).toThrow(/AccountSID.*AuthToken/);
    expect(() => twilio.fromUrl!(new URL(`twilio://${SID}:${TOKEN}@sender`))).toThrow(/not a phone number/);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => send());
  });
});
