import { generateKeyPairSync } from 'node:crypto';
import { importSPKI } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fcm } from '../../src/channels/fcm/fcm-provider.js';
import type { PushMessage } from '../../src/channels/provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerFcmSend, answerGoogleToken, FCM_PROJECT } from '../support/fakes/fcm-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const PROJECT = FCM_PROJECT;

function rsaKeyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

describe('FCM HTTP v1 provider', () => {
  const keys = rsaKeyPair();
  const clock = { now: Date.now() };
  const context = { ...testProviderContext(), now: () => clock.now };
  let tokenFake: FakeHttp;
  let fcmFake: FakeHttp;
  const issued = new Set<string>();
  let serviceAccount: {
    type: string;
    project_id: string;
    private_key_id: string;
    private_key: string;
    client_email: string;
    token_uri: string;
  };
  const adapterFor = (account = serviceAccount) =>
    fcm.create({ serviceAccount: account, baseUrl: fcmFake.url }, context);
  const message = (token: string, data: Record<string, string> | null = { orderId: '42' }): PushMessage => ({
    messageId: 'msg_1',
    environmentId: 'env',
    device: { kind: 'fcm', token },
    title: 'Order shipped',
    body: 'Arrives Tuesday',
    data,
  });

  beforeAll(async () => {
    const publicKey = await importSPKI(keys.publicKey, 'RS256');
    tokenFake = await startFakeHttp(
      answerGoogleToken({ publicKey, account: () => serviceAccount, issued, now: () => clock.now }),
    );
    fcmFake = await startFakeHttp(answerFcmSend(issued));
    serviceAccount = {
      type: 'service_account',
      project_id: PROJECT,
      private_key_id: 'a1b2c3',
      private_key: keys.privateKey,
      client_email: `herald@${PROJECT}.iam.gserviceaccount.com`,
      token_uri: `${tokenFake.url}/token`,
    };
  });
  beforeEach(() => {
    clock.now = Date.now(); // a test may have moved it; Retry-After dates are read against it
  });
  afterAll(async () => {
    await tokenFake.close();
    await fcmFake.close();
    await context.http.close();
  });

  it('sends the notification with a minted access token and logs the message name', async () => {
    const outcome = await adapterFor().send(message('device-token-1'), sendSignal());
    expect(outcome).toMatchObject({
      status: 'sent',
      providerMessageId: `projects/${PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96`,
    });
    expect(JSON.parse(fcmFake.requests.at(-1)!.body)).toEqual({
      message: {
        token: 'device-token-1',
        notification: { title: 'Order shipped', body: 'Arrives Tuesday' },
        data: { orderId: '42' },
      },
    });
  });

  it('reuses the access token until shortly before it expires', async () => {
    const adapter = adapterFor();
    const before = tokenFake.requests.length;
    await Promise.all([adapter.send(message('a'), sendSignal()), adapter.send(message('b'), sendSignal())]);
    await adapter.send(message('c', null), sendSignal());
    expect(tokenFake.requests.length - before).toBe(1);
    clock.now += 56 * 60_000; // the token said 3599 s; within five minutes of that it is renewed
    expect(await adapter.send(message('d'), sendSignal())).toMatchObject({ status: 'sent' });
    expect(tokenFake.requests.length - before).toBe(2);
  });

  it('drops a token FCM no longer accepts (401) and mints a new one on the retry', async () => {
    const adapter = adapterFor();
    await adapter.send(message('a'), sendSignal());
    issued.clear(); // FCM revokes every token issued so far
    const outcome = await adapter.send(message('a'), sendSignal());
    expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('UNAUTHENTICATED') });
    expect(await adapter.send(message('a'), sendSignal())).toMatchObject({ status: 'sent' });
  });

  it('reports an unregistered token as gone, with FCM’s explanation', async () => {
    const outcome = await adapterFor().send(message('unregistered-token'), sendSignal());
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'fcm: HTTP 404: Requested entity was not found. (UNREGISTERED)',
      gone: true,
    });
  });

  it('reports a malformed token (INVALID_ARGUMENT about the token) as gone', async () => {
    const outcome = await adapterFor().send(message('truncated-token'), sendSignal());
    expect(outcome).toMatchObject({ status: 'failed', gone: true, reason: expect.stringContaining('not a valid FCM') });
  });

  it('fails an invalid payload without touching the token', async () => {
    const outcome = await adapterFor().send(message('device-token-1', { from: 'me' }), sendSignal());
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'fcm: HTTP 400: Invalid data payload key: from (INVALID_ARGUMENT)',
    });
  });

  it('fails a token of another Firebase project for good, but keeps it', async () => {
    const outcome = await adapterFor().send(message('other-project-token'), sendSignal());
    expect(outcome).toEqual({ status: 'failed', reason: 'fcm: HTTP 403: SenderId mismatch (SENDER_ID_MISMATCH)' });
  });

  it('retries QUOTA_EXCEEDED after Retry-After, and UNAVAILABLE', async () => {
    const adapter = adapterFor();
    expect(await adapter.send(message('throttled-token'), sendSignal())).toMatchObject({
      status: 'retry',
      retryAfterMs: 60_000,
      reason: expect.stringContaining('QUOTA_EXCEEDED'),
    });
    expect(await adapter.send(message('busy-token'), sendSignal())).toMatchObject({
      status: 'retry',
      reason: expect.stringContaining('UNAVAILABLE'),
    });
  });

  it('retries when the token endpoint rejects the service account, naming why', async () => {
    const stranger = rsaKeyPair();
    const outcome = await adapterFor({ ...serviceAccount, private_key: stranger.privateKey }).send(
      message('device-token-1'),
      sendSignal(),
    );
    expect(outcome).toEqual({
      status: 'retry',
      reason: 'fcm: token endpoint: HTTP 400: invalid_grant: Invalid JWT Signature.',
    });
  });

  it('refuses a service account whose private_key is not an RSA key', () => {
    expect(() => adapterFor({ ...serviceAccount, private_key: 'not a key' })).toThrow(/private_key is not a PEM/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => adapterFor({ ...serviceAccount, private_key: String(ec) })).toThrow(/not an RSA key/);
  });

  it('declares its push kind and keeps the service account secret', () => {
    expect(fcm.pushKind).toBe('fcm');
    expect(fcm.secretFields).toEqual(['serviceAccount']);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    const adapter = adapterFor();
    await adapter.send(message('warm-up'), sendSignal()); // the fault hits the send, not the token exchange
    await expectFaultOutcome(fcmFake, fault, () => adapter.send(message('device-token-1'), sendSignal()));
  });
});
