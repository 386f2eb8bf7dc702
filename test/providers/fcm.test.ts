import { generateKeyPairSync } from 'node:crypto';
import { importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fcm } from '../../src/channels/fcm/fcm-provider.js';
import type { PushMessage } from '../../src/channels/provider.js';
import { FAULTS, startFakeHttp, type FakeAnswer, type FakeHttp } from '../support/fake-http.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const PROJECT = 'herald-test-5e1f2';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

function rsaKeyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** A Google API error as FCM sends it, with an FcmError detail when `errorCode` is given. */
function googleError(code: number, status: string, message: string, errorCode?: string): FakeAnswer {
  const details = errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [];
  return { status: code, body: { error: { code, message, status, details } } };
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
    // Google's OAuth token endpoint: verifies the assertion's signature with the account's public
    // key, its iss/aud/scope/lifetime, and answers {access_token, expires_in, token_type}.
    tokenFake = await startFakeHttp(async (request) => {
      if (request.method !== 'POST' || request.url !== '/token') return { status: 404, body: 'Not Found' };
      const form = new URLSearchParams(request.body);
      if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') {
        return { status: 400, body: { error: 'invalid_request', error_description: 'Bad content type' } };
      }
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
      }
      try {
        const { payload } = await jwtVerify(form.get('assertion') ?? '', publicKey, {
          algorithms: ['RS256'],
          issuer: serviceAccount.client_email,
          audience: serviceAccount.token_uri,
          currentDate: new Date(clock.now),
        });
        if (payload.scope !== SCOPE || payload.exp! - payload.iat! > 3600) throw new Error('bad claims');
      } catch {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
      }
      const token = `ya29.c.fake-${issued.size + 1}`;
      issued.add(token);
      return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
    });
    // FCM's messages:send, answering per device token the way FCM documents each case.
    fcmFake = await startFakeHttp((request) => {
      if (request.method !== 'POST' || request.url !== `/v1/projects/${PROJECT}/messages:send`) {
        return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
      }
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!bearer || !issued.has(bearer)) {
        return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
      }
      if (request.headers['content-type'] !== 'application/json') return googleError(400, 'INVALID_ARGUMENT', 'JSON');
      const { message: sent } = JSON.parse(request.body) as { message: Record<string, any> };
      if (typeof sent.notification?.title !== 'string' || typeof sent.notification?.body !== 'string') {
        return googleError(400, 'INVALID_ARGUMENT', 'Invalid notification');
      }
      if (sent.data && 'from' in sent.data) {
        const violation = { field: 'message.data', description: 'Invalid data payload key: from' };
        const details = [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [violation] }];
        const error = { code: 400, message: 'Invalid data payload key: from', status: 'INVALID_ARGUMENT', details };
        return { status: 400, body: { error } };
      }
      switch (sent.token) {
        case 'unregistered-token':
          return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
        case 'truncated-token':
          return googleError(
            400,
            'INVALID_ARGUMENT',
            'The registration token is not a valid FCM registration token',
            'INVALID_ARGUMENT',
          );
        case 'other-project-token':
          return googleError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
        case 'throttled-token':
          return {
            ...googleError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED'),
            headers: { 'retry-after': '60' },
          };
        case 'busy-token':
          return googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE');
      }
      return { status: 200, body: { name: `projects/${PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96` } };
    });
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
