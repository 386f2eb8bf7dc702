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
import { answerMailgun, MAILGUN_ACCOUNT } from '../support/fakes/mailgun-fake.js';
import { answerPostmark, POSTMARK_SERVER_TOKEN } from '../support/fakes/postmark-fake.js';
import { createResendFake, RESEND_API_KEY } from '../support/fakes/resend-fake.js';
import { answerSendgrid, SENDGRID_API_KEY } from '../support/fakes/sendgrid-fake.js';
import { answerSes, AWS_EXAMPLE_CREDENTIALS, SES_REGION } from '../support/fakes/ses-fake.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const WELCOME_STEP = {
  type: 'email',
  subject: 'Welcome {{ subscriber.name }}',
  html: '<p>Hi <b>{{ subscriber.name }}</b>, your plan is {{ data.plan }}</p>',
  text: 'Hi {{ subscriber.name }}, your plan is {{ data.plan }}',
};
/** Herald's default --email-from, as the providers write it. */
const FROM = '"Herald" <herald@localhost.localdomain>';

let h: TestHerald;
const fakes: Record<'ses' | 'sendgrid' | 'postmark' | 'resend' | 'mailgun', FakeHttp> = {} as never;

beforeAll(async () => {
  [h, fakes.ses, fakes.sendgrid, fakes.postmark, fakes.resend, fakes.mailgun] = await Promise.all([
    startTestHerald(CHANNEL_TEST_SETTINGS),
    startFakeHttp(answerSes),
    startFakeHttp(answerSendgrid),
    startFakeHttp(answerPostmark),
    startFakeHttp(createResendFake().handle),
    startFakeHttp(answerMailgun),
  ]);
  await putSubscriber(h, 'mail-ann', { email: 'ann@example.com', name: 'Ann Lee' });
});
afterAll(async () => {
  await Promise.all([h.close(), ...Object.values(fakes).map((fake) => fake.close())]);
});

/** Triggers the welcome email for Ann and answers the settled message. */
async function welcome(key: string, status = 'sent'): Promise<any> {
  const id = await triggerStep(h, key, WELCOME_STEP, 'mail-ann', { plan: 'pro' });
  return settledMessage(h, id, status);
}

describe('email APIs through the API', () => {
  const putIntegration = integrationsPerTest(() => h);

  it('sends through Amazon SES with a valid SigV4 signature', async () => {
    await putIntegration('mail-ses', {
      channel: 'email',
      provider: 'ses',
      config: { region: SES_REGION, ...AWS_EXAMPLE_CREDENTIALS, baseUrl: fakes.ses.url },
    });
    const message = await welcome('mail-ses');
    expectSentVia(message, 'mail-ses', 'ses', '010001918a1b2c3d-6a1e0f7e-4c1b-4a4e-9f5a-000000000000-000000');
    expect(message).toMatchObject({ recipient: 'ann@example.com', subject: 'Welcome Ann Lee' });
    expect(JSON.parse(fakes.ses.requests.at(-1)!.body)).toMatchObject({
      FromEmailAddress: FROM,
      Destination: { ToAddresses: ['"Ann Lee" <ann@example.com>'] },
      Content: {
        Simple: {
          Subject: { Data: 'Welcome Ann Lee' },
          Body: {
            Text: { Data: 'Hi Ann Lee, your plan is pro' },
            Html: { Data: '<p>Hi <b>Ann Lee</b>, your plan is pro</p>' },
          },
          Headers: [{ Name: 'X-Herald-Message-Id', Value: message.id }],
        },
      },
    });
  });

  it('sends through SendGrid set up from a sendgrid:// URL, then pointed at the fake (the key sent again)', async () => {
    const created = await putIntegration('mail-sendgrid', {
      url: `sendgrid://${SENDGRID_API_KEY}:noreply@example.com`,
    });
    expect(created).toMatchObject({ channel: 'email', config: { apiKey: '••••', from: 'noreply@example.com' } });
    await putIntegration('mail-sendgrid', {
      channel: 'email',
      provider: 'sendgrid',
      // A new destination needs the credential itself: a masked one would be refused.
      config: { ...created.config, apiKey: SENDGRID_API_KEY, baseUrl: fakes.sendgrid.url },
    });
    const message = await welcome('mail-sendgrid');
    expectSentVia(message, 'mail-sendgrid', 'sendgrid', 'W6A2oNz8TmuTOi3wbHc8hQ');
    expect(JSON.parse(fakes.sendgrid.requests.at(-1)!.body)).toEqual({
      personalizations: [{ to: [{ email: 'ann@example.com', name: 'Ann Lee' }] }],
      from: { email: 'noreply@example.com' },
      subject: 'Welcome Ann Lee',
      content: [
        { type: 'text/plain', value: 'Hi Ann Lee, your plan is pro' },
        { type: 'text/html', value: '<p>Hi <b>Ann Lee</b>, your plan is pro</p>' },
      ],
      headers: { 'X-Herald-Message-Id': message.id },
      custom_args: { herald_message_id: message.id },
    });
  });

  it('sends through Postmark on the configured message stream', async () => {
    await putIntegration('mail-postmark', {
      channel: 'email',
      provider: 'postmark',
      config: { serverToken: POSTMARK_SERVER_TOKEN, messageStream: 'outbound', baseUrl: fakes.postmark.url },
    });
    const message = await welcome('mail-postmark');
    expectSentVia(message, 'mail-postmark', 'postmark', 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817');
    expect(JSON.parse(fakes.postmark.requests.at(-1)!.body)).toMatchObject({
      From: FROM,
      To: '"Ann Lee" <ann@example.com>',
      Subject: 'Welcome Ann Lee',
      TextBody: 'Hi Ann Lee, your plan is pro',
      HtmlBody: '<p>Hi <b>Ann Lee</b>, your plan is pro</p>',
      MessageStream: 'outbound',
      Metadata: { herald_message_id: message.id },
    });
  });

  it('fails an address Postmark marks inactive, with Postmark’s explanation, after one attempt', async () => {
    await putIntegration('mail-postmark', {
      channel: 'email',
      provider: 'postmark',
      config: { serverToken: POSTMARK_SERVER_TOKEN, baseUrl: fakes.postmark.url },
    });
    await putSubscriber(h, 'mail-bounced', { email: 'bounced@example.com' });
    const id = await triggerStep(h, 'mail-bounced', WELCOME_STEP, 'mail-bounced', { plan: 'free' });
    const message = await settledMessage(h, id, 'failed');
    expect(message.reason).toMatch(
      /^postmark: HTTP 422: You tried to send to recipient\(s\) that have been marked as inactive.*\(ErrorCode 406\)$/,
    );
    expect(message.attempts).toEqual([
      expect.objectContaining({ outcome: 'failed', integrationId: 'mail-postmark', provider: 'postmark' }),
    ]);
  });

  it('sends through Resend with the message id as the idempotency key', async () => {
    await putIntegration('mail-resend', {
      channel: 'email',
      provider: 'resend',
      config: { apiKey: RESEND_API_KEY, from: 'Acme <alerts@example.org>', baseUrl: fakes.resend.url },
    });
    const message = await welcome('mail-resend');
    expectSentVia(message, 'mail-resend', 'resend', '49a3999c-0ce1-4ea6-ab68-afcd6dc2e791');
    const request = fakes.resend.requests.at(-1)!;
    expect(request.headers['idempotency-key']).toBe(message.id);
    expect(JSON.parse(request.body)).toMatchObject({
      from: '"Acme" <alerts@example.org>',
      to: ['"Ann Lee" <ann@example.com>'],
      subject: 'Welcome Ann Lee',
      text: 'Hi Ann Lee, your plan is pro',
      html: '<p>Hi <b>Ann Lee</b>, your plan is pro</p>',
    });
  });

  it('sends through Mailgun to the configured domain', async () => {
    await putIntegration('mail-mailgun', {
      channel: 'email',
      provider: 'mailgun',
      config: { ...MAILGUN_ACCOUNT, baseUrl: fakes.mailgun.url },
    });
    const message = await welcome('mail-mailgun');
    expectSentVia(message, 'mail-mailgun', 'mailgun', '<20261128140900.1.ABCDEF0123456789@mg.example.com>');
    const request = fakes.mailgun.requests.at(-1)!;
    expect(request.url).toBe(`/v3/${MAILGUN_ACCOUNT.domain}/messages`);
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      from: FROM,
      to: '"Ann Lee" <ann@example.com>',
      subject: 'Welcome Ann Lee',
      text: 'Hi Ann Lee, your plan is pro',
      html: '<p>Hi <b>Ann Lee</b>, your plan is pro</p>',
      'h:X-Herald-Message-Id': message.id,
      'v:herald_message_id': message.id,
    });
  });

  it('sends a test email: POST /v1/integrations/{id}/test', async () => {
    await putIntegration('mail-mailgun', {
      channel: 'email',
      provider: 'mailgun',
      config: { ...MAILGUN_ACCOUNT, baseUrl: fakes.mailgun.url },
    });
    const res = await h.api('POST', '/v1/integrations/mail-mailgun/test', { to: 'ops@example.com' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      status: 'sent',
      providerMessageId: '<20261128140900.1.ABCDEF0123456789@mg.example.com>',
    });
    expect(new URLSearchParams(fakes.mailgun.requests.at(-1)!.body).get('to')).toBe('ops@example.com');
  });
});
