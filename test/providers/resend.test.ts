import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resend } from '../../src/channels/resend/resend-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { createResendFake } from '../support/fakes/resend-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

describe('Resend provider', () => {
  let fake: FakeHttp;
  const resendApi = createResendFake();
  const context = testProviderContext();
  const adapter = (config: { apiKey?: string; from?: string } = {}) =>
    resend.create({ apiKey: 're_test_key', baseUrl: fake.url, ...config }, context);
  const email = (messageId: string, to = 'ann@example.com', toName: string | null = 'Ann Lee', html?: string) => ({
    messageId,
    environmentId: 'env',
    to,
    toName,
    subject: 'Your code',
    text: 'Code: 123456',
    html,
  });

  beforeAll(async () => {
    fake = await startFakeHttp(resendApi.handle);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('sends with Herald’s id as the idempotency key, header and tag, and logs Resend’s id', async () => {
    const before = resendApi.sent;
    const outcome = await adapter().send(email('msg_first', 'ann@example.com', 'Ann Lee', '<p>Code</p>'), sendSignal());
    expect(outcome).toMatchObject({
      status: 'sent',
      providerMessageId: `49a3999c-0ce1-4ea6-ab68-afcd6dc2e79${before + 1}`,
    });
    const request = fake.requests.at(-1)!;
    expect(request.headers['idempotency-key']).toBe('msg_first');
    expect(JSON.parse(request.body)).toEqual({
      from: '"Herald" <herald@example.com>',
      to: ['"Ann Lee" <ann@example.com>'],
      subject: 'Your code',
      text: 'Code: 123456',
      html: '<p>Code</p>',
      headers: { 'X-Herald-Message-Id': 'msg_first' },
      tags: [{ name: 'herald_message_id', value: 'msg_first' }],
    });
  });

  it('sends a retried message once: the second attempt gets the first one’s id', async () => {
    const before = resendApi.sent;
    const first = await adapter().send(email('msg_retried'), sendSignal());
    const second = await adapter().send(email('msg_retried'), sendSignal());
    expect(second).toMatchObject({
      status: 'sent',
      providerMessageId: (first as { providerMessageId: string }).providerMessageId,
    });
    expect(resendApi.sent - before).toBe(1);
  });

  it('uses the configured sender, and the bare address of a recipient without a name', async () => {
    const outcome = await adapter({ from: 'Acme <alerts@example.org>' }).send(
      email('msg_2', 'bob@example.com', null),
      sendSignal(),
    );
    expect(outcome.status).toBe('sent');
    expect(JSON.parse(fake.requests.at(-1)!.body)).toMatchObject({
      from: '"Acme" <alerts@example.org>',
      to: ['bob@example.com'],
    });
  });

  it('fails an invalid recipient for good, with Resend’s explanation', async () => {
    const outcome = await adapter().send(email('msg_3', 'not-an-address', null), sendSignal());
    expect(outcome).toEqual({
      status: 'failed',
      reason:
        'resend: HTTP 422: Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format. (validation_error)',
    });
  });

  it('retries while an earlier attempt with the same key is in progress, or the key is refused', async () => {
    expect(await adapter().send(email('msg_4', 'inflight@example.com'), sendSignal())).toEqual({
      status: 'retry',
      reason:
        'resend: HTTP 409: Same idempotency key used while original request is still in progress. (concurrent_idempotent_requests)',
    });
    expect(await adapter({ apiKey: 're_revoked' }).send(email('msg_5'), sendSignal())).toMatchObject({
      status: 'retry',
      reason: 'resend: HTTP 403: API key is invalid. (invalid_api_key)',
    });
  });

  it('reads resend:// URLs', () => {
    expect(resend.fromUrl!(new URL('resend://re_abc123:noreply@example.com/ops@example.com'))).toEqual({
      apiKey: 're_abc123',
      from: 'noreply@example.com',
    });
    expect(resend.fromUrl!(new URL('resend://re_abc123:noreply@example.com?name=Acme'))).toEqual({
      apiKey: 're_abc123',
      from: 'Acme <noreply@example.com>',
    });
    expect(() => resend.fromUrl!(new URL('resend://re_abc123@example.com'))).toThrow(/from_user/);
  });

  it('validates its config: what fromUrl reads passes, unknown or malformed fields do not', () => {
    expect(Value.Check(resend.configSchema, resend.fromUrl!(new URL('resend://re_abc:noreply@example.com')))).toBe(
      true,
    );
    expect(Value.Check(resend.configSchema, { apiKey: 're_abc', baseUrl: 'https://api.resend.com' })).toBe(true);
    expect(Value.Check(resend.configSchema, { apiKey: 're_abc', from: 'no-at-sign' })).toBe(false);
    expect(Value.Check(resend.configSchema, { apiKey: 're_abc', baseUrl: 'https://api.resend.com', extra: 1 })).toBe(
      false,
    );
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => adapter().send(email(`msg_fault_${fault}`), sendSignal()));
  });
});
