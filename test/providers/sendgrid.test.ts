import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendgrid } from '../../src/channels/sendgrid/sendgrid-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerSendgrid } from '../support/fakes/sendgrid-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

describe('SendGrid provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (config: { apiKey?: string; from?: string } = {}) =>
    sendgrid.create({ apiKey: 'SG.test-key', baseUrl: fake.url, ...config }, context);
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
    fake = await startFakeHttp(answerSendgrid);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('sends text and HTML with Herald’s id, and logs X-Message-Id', async () => {
    const outcome = await adapter().send(email('ann@example.com', 'Ann Lee', '<p>Code</p>'), sendSignal());
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: 'W6A2oNz8TmuTOi3wbHc8hQ' });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({
      personalizations: [{ to: [{ email: 'ann@example.com', name: 'Ann Lee' }] }],
      from: { email: 'herald@example.com', name: 'Herald' },
      subject: 'Your code',
      content: [
        { type: 'text/plain', value: 'Code: 123456' },
        { type: 'text/html', value: '<p>Code</p>' },
      ],
      headers: { 'X-Herald-Message-Id': 'msg_01jd9x4k2m' },
      custom_args: { herald_message_id: 'msg_01jd9x4k2m' },
    });
  });

  it('uses the configured sender, and the bare address of a recipient without a name', async () => {
    const outcome = await adapter({ from: 'Acme Alerts <alerts@example.org>' }).send(
      email('bob@example.com', null),
      sendSignal(),
    );
    expect(outcome.status).toBe('sent');
    expect(JSON.parse(fake.requests.at(-1)!.body)).toMatchObject({
      personalizations: [{ to: [{ email: 'bob@example.com' }] }],
      from: { email: 'alerts@example.org', name: 'Acme Alerts' },
      content: [{ type: 'text/plain', value: 'Code: 123456' }],
    });
  });

  it('fails an invalid recipient for good, with SendGrid’s explanation', async () => {
    const outcome = await adapter().send(email('not-an-address'), sendSignal());
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'sendgrid: HTTP 400: Does not contain a valid address. (personalizations.0.to.0.email)',
    });
  });

  it('retries on a revoked key (the integration’s fault, not the message’s)', async () => {
    const outcome = await adapter({ apiKey: 'SG.revoked' }).send(email(), sendSignal());
    expect(outcome).toMatchObject({
      status: 'retry',
      reason: 'sendgrid: HTTP 401: The provided authorization grant is invalid, expired, or revoked',
    });
  });

  it('reads sendgrid:// URLs', () => {
    expect(sendgrid.fromUrl!(new URL('sendgrid://SG.abc-123:noreply@example.com/ops@example.com'))).toEqual({
      apiKey: 'SG.abc-123',
      from: 'noreply@example.com',
    });
    expect(() => sendgrid.fromUrl!(new URL('sendgrid://SG.abc@example.com'))).toThrow(/from_user/);
  });

  it('validates its config: what fromUrl reads passes, unknown or malformed fields do not', () => {
    expect(
      Value.Check(sendgrid.configSchema, sendgrid.fromUrl!(new URL('sendgrid://SG.abc:noreply@example.com'))),
    ).toBe(true);
    expect(Value.Check(sendgrid.configSchema, { apiKey: 'SG.abc', from: 'Acme <a@example.com>' })).toBe(true);
    expect(Value.Check(sendgrid.configSchema, { apiKey: 'SG.abc', from: 'a@example.com\r\nBcc: x@example.com' })).toBe(
      false,
    );
    expect(Value.Check(sendgrid.configSchema, { apiKey: 'SG.abc', from: 'Acme <a@example.com>', extra: 1 })).toBe(
      false,
    );
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => adapter().send(email(), sendSignal()));
  });
});
