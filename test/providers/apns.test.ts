import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, importSPKI } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apns, apnsId } from '../../src/channels/apns/apns-provider.js';
import type { ProviderInstance, PushMessage } from '../../src/channels/provider.js';
import { FAULTS } from '../support/fake-http.js';
import { answerApns, APNS_ACCOUNT, APNS_TOKENS } from '../support/fakes/apns-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';
import { H2_FAULTS, selfSignedCertificate, startFakeH2, type FakeH2 } from '../support/push-h2-fake.js';

const { teamId: TEAM_ID, keyId: KEY_ID, bundleId: BUNDLE_ID } = APNS_ACCOUNT;
const { device: DEVICE, unregistered: UNREGISTERED, throttled: THROTTLED } = APNS_TOKENS;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function p8KeyPair() {
  return generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

describe('APNs provider', () => {
  const keys = p8KeyPair();
  const tls = selfSignedCertificate();
  const clock = { now: Date.now() };
  const context = { ...testProviderContext(), now: () => clock.now };
  /** Provider tokens issued before this (seconds) are expired, as Apple decides. */
  let expiredBefore = 0;
  let fake: FakeH2;
  const opened: ProviderInstance<'push'>[] = [];
  const adapterFor = (overrides: { privateKey?: string; bundleId?: string } = {}) => {
    const adapter = apns.create(
      {
        teamId: TEAM_ID,
        keyId: KEY_ID,
        privateKey: keys.privateKey,
        bundleId: BUNDLE_ID,
        baseUrl: fake.url,
        ca: tls.cert,
        ...overrides,
      },
      context,
    );
    opened.push(adapter);
    return adapter;
  };
  const message = (token: string, messageId = 'msg_1'): PushMessage => ({
    messageId,
    environmentId: 'env',
    device: { kind: 'apns', token },
    title: 'Delivery',
    body: 'Your parcel is out for delivery',
    data: { orderId: '42' },
  });

  beforeAll(async () => {
    const publicKey = await importSPKI(keys.publicKey, 'ES256');
    fake = await startFakeH2(tls, answerApns({ publicKey, now: () => clock.now, expiredBefore: () => expiredBefore }));
  });
  beforeEach(() => {
    clock.now = Date.now();
    expiredBefore = 0;
  });
  afterAll(async () => {
    await Promise.all(opened.map((adapter) => adapter.close?.()));
    await fake.close();
    await context.http.close();
  });

  it('sends the alert over HTTP/2 with a signed provider token, logging the apns-id', async () => {
    const outcome = await adapterFor().send(message(DEVICE), sendSignal());
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: apnsId('msg_1') });
    const request = fake.requests.at(-1)!;
    expect(request.httpVersion).toBe('2.0');
    expect(request.url).toBe(`/3/device/${DEVICE}`);
    expect(request.headers).toMatchObject({ 'apns-topic': BUNDLE_ID, 'apns-push-type': 'alert' });
    expect(JSON.parse(request.body)).toEqual({
      aps: { alert: { title: 'Delivery', body: 'Your parcel is out for delivery' } },
      orderId: '42',
    });
  });

  it('derives the apns-id from the message id, the same on every retry', () => {
    expect(apnsId('msg_1')).toMatch(UUID);
    expect(apnsId('msg_1')).toBe(apnsId('msg_1'));
    expect(apnsId('msg_2')).not.toBe(apnsId('msg_1'));
  });

  it('reuses the provider token for up to 50 minutes, then signs a new one', async () => {
    const adapter = adapterFor();
    const jwts = async () => {
      await adapter.send(message(DEVICE), sendSignal());
      return String(fake.requests.at(-1)!.headers.authorization);
    };
    const first = await jwts();
    expect(decodeJwt(first.slice('bearer '.length))).toMatchObject({ iss: TEAM_ID });
    clock.now += 49 * 60_000;
    expect(await jwts()).toBe(first);
    clock.now += 2 * 60_000;
    expect(await jwts()).not.toBe(first);
  });

  it('signs a fresh provider token after ExpiredProviderToken, and the retry goes through', async () => {
    const adapter = adapterFor();
    await adapter.send(message(DEVICE), sendSignal());
    expiredBefore = Math.floor(clock.now / 1000) + 1;
    clock.now += 2000;
    expect(await adapter.send(message(DEVICE), sendSignal())).toMatchObject({
      status: 'retry',
      reason: 'apns: HTTP 403: ExpiredProviderToken',
    });
    expect(await adapter.send(message(DEVICE), sendSignal())).toMatchObject({ status: 'sent' });
  });

  it('retries when Apple rejects the signing key (InvalidProviderToken)', async () => {
    const outcome = await adapterFor({ privateKey: p8KeyPair().privateKey }).send(message(DEVICE), sendSignal());
    expect(outcome).toMatchObject({ status: 'retry', reason: 'apns: HTTP 403: InvalidProviderToken' });
  });

  it('reports an unregistered token (410) as gone', async () => {
    const outcome = await adapterFor().send(message(UNREGISTERED), sendSignal());
    expect(outcome).toEqual({ status: 'failed', reason: 'apns: HTTP 410: Unregistered', gone: true });
  });

  it('reports a BadDeviceToken as gone', async () => {
    const outcome = await adapterFor().send(message('not-a-device-token'), sendSignal());
    expect(outcome).toEqual({ status: 'failed', reason: 'apns: HTTP 400: BadDeviceToken', gone: true });
  });

  it('fails other 400 reasons without dropping the token', async () => {
    const outcome = await adapterFor({ bundleId: 'com.example.other' }).send(message(DEVICE), sendSignal());
    expect(outcome).toEqual({ status: 'failed', reason: 'apns: HTTP 400: DeviceTokenNotForTopic' });
  });

  it('retries TooManyRequests', async () => {
    const outcome = await adapterFor().send(message(THROTTLED), sendSignal());
    expect(outcome).toMatchObject({ status: 'retry', reason: 'apns: HTTP 429: TooManyRequests' });
  });

  it('refuses a private key that is not a P-256 .p8 key', () => {
    expect(() => adapterFor({ privateKey: 'garbage' })).toThrow(/privateKey is not a PEM private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => adapterFor({ privateKey: String(rsa) })).toThrow(/not a P-256 key/);
  });

  it('opens its HTTP/2 client at the first send: an instance that never sent closes nothing', async () => {
    // Saving an integration builds and closes an adapter to check the config, with a context that
    // hands out Herald's shared client: closing that would cut every other provider off.
    let clients = 0;
    const counting = { ...context, createHttpClient: () => ((clients += 1), context.http) };
    const config = { teamId: TEAM_ID, keyId: KEY_ID, privateKey: keys.privateKey, bundleId: BUNDLE_ID };
    await apns.create(config, counting).close!();
    expect(clients).toBe(0);
  });

  it('declares its push kind and keeps the private key secret', () => {
    expect(apns.pushKind).toBe('apns');
    expect(apns.secretFields).toEqual(['privateKey']);
  });

  it.each(FAULTS)('ends %s (over HTTP/2) in its documented state', async (fault) => {
    const adapter = adapterFor();
    await expectFaultOutcome(fake, fault, () => adapter.send(message(DEVICE), sendSignal()));
  });

  it.each(H2_FAULTS)('retries after an HTTP/2 %s', async (fault) => {
    const adapter = adapterFor();
    const before = fake.requests.length;
    fake.setFault(fault);
    try {
      expect(await adapter.send(message(DEVICE), sendSignal())).toMatchObject({ status: 'retry' });
      expect(fake.requests.length - before).toBe(1); // no hidden resend on a new stream
    } finally {
      fake.setFault(undefined);
    }
    expect(await adapter.send(message(DEVICE), sendSignal())).toMatchObject({ status: 'sent' });
  });
});
