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
import { answerPlivo, PLIVO_ACCOUNT } from '../support/fakes/plivo-fake.js';
import { answerTwilio, TWILIO_ACCOUNT } from '../support/fakes/twilio-fake.js';
import { answerVonage, VONAGE_ACCOUNT } from '../support/fakes/vonage-fake.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const CODE_STEP = { type: 'sms', text: 'Your code is {{ data.code }}' };

let h: TestHerald;
let twilioFake: FakeHttp;
let vonageFake: FakeHttp;
let plivoFake: FakeHttp;

beforeAll(async () => {
  [h, twilioFake, vonageFake, plivoFake] = await Promise.all([
    startTestHerald(CHANNEL_TEST_SETTINGS),
    startFakeHttp(answerTwilio),
    startFakeHttp(answerVonage),
    startFakeHttp(answerPlivo),
  ]);
});
afterAll(async () => {
  await Promise.all([h.close(), twilioFake.close(), vonageFake.close(), plivoFake.close()]);
});

describe('SMS through the API', () => {
  const putIntegration = integrationsPerTest(() => h);
  const twilioConfig = () => ({ ...TWILIO_ACCOUNT, from: '+15005550006', baseUrl: twilioFake.url });

  it('sends through Twilio set up from a twilio:// URL, then pointed at the fake with its token', async () => {
    const { accountSid, authToken } = TWILIO_ACCOUNT;
    const created = await putIntegration('sms-twilio', { url: `twilio://${accountSid}:${authToken}@15005550006` });
    expect(created).toMatchObject({
      channel: 'sms',
      provider: 'twilio',
      config: { accountSid, authToken: '••••', from: '+15005550006' },
    });
    // The view sent back with baseUrl added: a new destination needs the token itself, not its mask.
    await putIntegration('sms-twilio', {
      channel: 'sms',
      provider: 'twilio',
      config: { ...created.config, authToken, baseUrl: twilioFake.url },
    });
    await putSubscriber(h, 'sms-ann', { phone: '+1 (415) 555-0100' });

    const id = await triggerStep(h, 'sms-twilio', CODE_STEP, 'sms-ann', { code: '123456' });
    const message = await settledMessage(h, id, 'sent');
    expectSentVia(message, 'sms-twilio', 'twilio', 'SM1f0e8ae6ade43cb3c0ce4525424e404f');
    expect(message.recipient).toBe('+14155550100');
    const form = Object.fromEntries(new URLSearchParams(twilioFake.requests.at(-1)!.body));
    expect(form).toEqual({ To: '+14155550100', From: '+15005550006', Body: 'Your code is 123456' });
  });

  it('sends through Vonage', async () => {
    await putIntegration('sms-vonage', {
      channel: 'sms',
      provider: 'vonage',
      config: { ...VONAGE_ACCOUNT, from: 'Herald', baseUrl: vonageFake.url },
    });
    await putSubscriber(h, 'sms-bob', { phone: '+44 7700 900123' });

    const id = await triggerStep(h, 'sms-vonage', CODE_STEP, 'sms-bob', { code: '654321' });
    expectSentVia(await settledMessage(h, id, 'sent'), 'sms-vonage', 'vonage', '0C000000217B7F02');
    expect(Object.fromEntries(new URLSearchParams(vonageFake.requests.at(-1)!.body))).toMatchObject({
      from: 'Herald',
      to: '447700900123',
      text: 'Your code is 654321',
      'client-ref': id,
    });
  });

  it('sends through Plivo', async () => {
    await putIntegration('sms-plivo', {
      channel: 'sms',
      provider: 'plivo',
      config: { ...PLIVO_ACCOUNT, from: '+14155550000', baseUrl: plivoFake.url },
    });
    await putSubscriber(h, 'sms-cy', { phone: '+14155550101' });

    const id = await triggerStep(h, 'sms-plivo', CODE_STEP, 'sms-cy', { code: '111111' });
    expectSentVia(await settledMessage(h, id, 'sent'), 'sms-plivo', 'plivo', 'db3ce55a-7f1d-11e1-8ea7-1231380bc196');
    expect(JSON.parse(plivoFake.requests.at(-1)!.body)).toEqual({
      src: '+14155550000',
      dst: '+14155550101',
      text: 'Your code is 111111',
    });
  });

  it('fails a number Twilio rejects (21211) at once, with Twilio’s explanation, after one attempt', async () => {
    await putIntegration('sms-twilio', { channel: 'sms', provider: 'twilio', config: twilioConfig() });
    await putSubscriber(h, 'sms-bad-number', { phone: '+1415' });

    const id = await triggerStep(h, 'sms-bad-number', CODE_STEP, 'sms-bad-number', { code: '1' });
    const message = await settledMessage(h, id, 'failed');
    expect(message.reason).toBe(
      "twilio: HTTP 400: The 'To' number +1415 is not a valid phone number. (code 21211, https://www.twilio.com/docs/errors/21211)",
    );
    expect(message.attemptCount).toBe(1);
    expect(message.attempts).toEqual([
      expect.objectContaining({ outcome: 'failed', integrationId: 'sms-twilio', provider: 'twilio' }),
    ]);
  });

  it('skips a subscriber without a phone number', async () => {
    await putIntegration('sms-twilio', { channel: 'sms', provider: 'twilio', config: twilioConfig() });
    await putSubscriber(h, 'sms-no-phone', { email: 'nophone@example.com' });

    const id = await triggerStep(h, 'sms-no-phone', CODE_STEP, 'sms-no-phone', { code: '1' });
    const message = await settledMessage(h, id, 'skipped');
    expect(message).toMatchObject({ reason: 'subscriber has no phone number', attempts: [] });
  });

  it('skips when no sms integration is enabled, and never uses a disabled one', async () => {
    await putSubscriber(h, 'sms-dee', { phone: '+14155550102' });
    const none = await triggerStep(h, 'sms-none', CODE_STEP, 'sms-dee', { code: '1' });
    expect(await settledMessage(h, none, 'skipped')).toMatchObject({ reason: 'no enabled sms integration' });

    const before = twilioFake.requests.length;
    await putIntegration('sms-twilio', { channel: 'sms', provider: 'twilio', config: twilioConfig(), enabled: false });
    const disabled = await triggerStep(h, 'sms-disabled', CODE_STEP, 'sms-dee', { code: '2' });
    expect(await settledMessage(h, disabled, 'skipped')).toMatchObject({ reason: 'no enabled sms integration' });

    // The disabled integration comes first by priority and is passed over all the same.
    await putIntegration('sms-plivo', {
      channel: 'sms',
      provider: 'plivo',
      config: { ...PLIVO_ACCOUNT, from: '+14155550000', baseUrl: plivoFake.url },
      priority: 5,
    });
    const enabled = await triggerStep(h, 'sms-disabled', CODE_STEP, 'sms-dee', { code: '3' });
    expectSentVia(await settledMessage(h, enabled, 'sent'), 'sms-plivo', 'plivo');
    expect(twilioFake.requests.length).toBe(before);
  });

  it('sends a test message: POST /v1/integrations/{id}/test', async () => {
    await putIntegration('sms-twilio', { channel: 'sms', provider: 'twilio', config: twilioConfig() });
    const res = await h.api('POST', '/v1/integrations/sms-twilio/test', {
      to: '+14155550100',
      text: 'Hello from Herald',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'sent', providerMessageId: 'SM1f0e8ae6ade43cb3c0ce4525424e404f' });
    expect(new URLSearchParams(twilioFake.requests.at(-1)!.body).get('Body')).toBe('Hello from Herald');
  });
});
