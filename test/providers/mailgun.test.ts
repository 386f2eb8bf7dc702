import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailgun } from '../../src/channels/mailgun/mailgun-provider.js';
import { createHttpClient } from '../../src/channels/outbound/http-client.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerMailgun } from '../support/fakes/mailgun-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

describe('Mailgun provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (config: { apiKey?: string; from?: string; domain?: string } = {}) =>
    mailgun.create({ apiKey: 'key-test', domain: 'mg.example.com', baseUrl: fake.url, ...config }, context);
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
    fake = await startFakeHttp(answerMailgun);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts the form with Herald’s id as header and variable, and logs Mailgun’s id', async () => {
    const outcome = await adapter().send(email('ann@example.com', 'Ann Lee', '<p>Code</p>'), sendSignal());
    expect(outcome).toMatchObject({
      status: 'sent',
      providerMessageId: '<20261128140900.1.ABCDEF0123456789@mg.example.com>',
    });
    const request = fake.requests.at(-1)!;
    expect(request.url).toBe('/v3/mg.example.com/messages');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      from: '"Herald" <herald@example.com>',
      to: '"Ann Lee" <ann@example.com>',
      subject: 'Your code',
      text: 'Code: 123456',
      html: '<p>Code</p>',
      'h:X-Herald-Message-Id': 'msg_01jd9x4k2m',
      'v:herald_message_id': 'msg_01jd9x4k2m',
    });
  });

  it('uses the configured sender, and the bare address of a recipient without a name', async () => {
    const outcome = await adapter({ from: 'alerts@mg.example.com' }).send(email('bob@example.com', null), sendSignal());
    expect(outcome.status).toBe('sent');
    const form = new URLSearchParams(fake.requests.at(-1)!.body);
    expect([form.get('from'), form.get('to'), form.has('html')]).toEqual([
      'alerts@mg.example.com',
      'bob@example.com',
      false,
    ]);
  });

  it('fails an invalid recipient for good, with Mailgun’s explanation', async () => {
    const outcome = await adapter().send(email('not-an-address', null), sendSignal());
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'mailgun: HTTP 400: to parameter is not a valid address. please check documentation',
    });
  });

  it('retries on a refused key: Mailgun’s plain "Forbidden"', async () => {
    const outcome = await adapter({ apiKey: 'key-wrong' }).send(email(), sendSignal());
    expect(outcome).toMatchObject({ status: 'retry', reason: 'mailgun: HTTP 401: Forbidden' });
  });

  it('picks the API host from the region', async () => {
    // The real guarded client with a test DNS pointing every name at loopback, which the guard
    // refuses: nothing leaves the machine, and the refusal names the host the adapter chose.
    const http = createHttpClient({ allowedNetworks: [], timeoutMs: 400, resolve: async () => ['127.0.0.1'] });
    const hostFor = async (region: 'us' | 'eu') => {
      const adapter = mailgun.create({ apiKey: 'k', domain: 'mg.example.com', region }, { ...context, http });
      return ((await adapter.send(email(), sendSignal())) as { reason: string }).reason;
    };
    try {
      expect(await hostFor('eu')).toMatch(/^mailgun: refused: api\.eu\.mailgun\.net resolves to a refused address/);
      expect(await hostFor('us')).toMatch(/^mailgun: refused: api\.mailgun\.net resolves to a refused address/);
    } finally {
      await http.close();
    }
  });

  it('reads mailgun:// URLs', () => {
    expect(mailgun.fromUrl!(new URL('mailgun://noreply@mg.example.com/key-abc123/ops@example.com'))).toEqual({
      apiKey: 'key-abc123',
      domain: 'mg.example.com',
      from: 'noreply@mg.example.com',
    });
    expect(mailgun.fromUrl!(new URL('mailgun://noreply@mg.example.com/key-abc123?region=EU&name=Acme%20Ops'))).toEqual({
      apiKey: 'key-abc123',
      domain: 'mg.example.com',
      region: 'eu',
      from: 'Acme Ops <noreply@mg.example.com>',
    });
    expect(() => mailgun.fromUrl!(new URL('mailgun://noreply@mg.example.com'))).toThrow(/\{apikey\}/);
    expect(() => mailgun.fromUrl!(new URL('mailgun://noreply@mg.example.com/key?region=asia'))).toThrow(/us or eu/);
  });

  it('validates its config: what fromUrl reads passes, unknown or malformed fields do not', () => {
    expect(
      Value.Check(mailgun.configSchema, mailgun.fromUrl!(new URL('mailgun://noreply@mg.example.com/key-1?region=eu'))),
    ).toBe(true);
    expect(Value.Check(mailgun.configSchema, { apiKey: 'k', domain: 'MG.Example.com', region: 'us' })).toBe(true);
    expect(Value.Check(mailgun.configSchema, { apiKey: 'k', domain: 'mg.example.com', region: 'asia' })).toBe(false);
    expect(Value.Check(mailgun.configSchema, { apiKey: 'k', domain: 'MG.Example.com', region: 'us', extra: 1 })).toBe(
      false,
    );
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => adapter().send(email(), sendSignal()));
  });
});
