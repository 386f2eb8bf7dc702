import { createECDH, generateKeyPairSync } from 'node:crypto';
import { importSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apnsId } from '../../src/channels/apns/apns-provider.js';
import {
  CHANNEL_TEST_SETTINGS,
  expectSentVia,
  integrationsPerTest,
  putSubscriber,
  settledMessage,
  triggerStep,
} from '../support/channel-delivery.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerApns, APNS_ACCOUNT, APNS_TOKENS } from '../support/fakes/apns-fake.js';
import { answerFcmSend, answerGoogleToken, FCM_PROJECT, FCM_TOKENS } from '../support/fakes/fcm-fake.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { selfSignedCertificate, startFakeH2, type FakeH2 } from '../support/push-h2-fake.js';
import { startFakePushService, type FakePushService } from '../support/push-web-push-service.js';

const SHIPPED_STEP = {
  type: 'push',
  title: 'Order {{ data.order }} shipped',
  body: 'Arrives {{ data.day }}',
  data: { url: '/orders/{{ data.order }}' },
};
const SHIPPED_DATA = { order: '42', day: 'Tuesday' };
const FCM_MESSAGE_NAME = `projects/${FCM_PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96`;

const vapid = createECDH('prime256v1');
vapid.generateKeys();
// A VAPID private key is 32 bytes; Node drops leading zero bytes (one key in 256).
const vapidPrivate = vapid.getPrivateKey();
const webpushConfig = {
  vapidPublicKey: vapid.getPublicKey().toString('base64url'),
  vapidPrivateKey: Buffer.concat([Buffer.alloc(32 - vapidPrivate.length), vapidPrivate]).toString('base64url'),
  subject: 'mailto:ops@example.com',
};
const fcmKeys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const apnsKeys = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const tls = selfSignedCertificate();

let h: TestHerald;
let pushService: FakePushService;
let tokenFake: FakeHttp;
let fcmFake: FakeHttp;
let apnsFake: FakeH2;
const issued = new Set<string>();
let serviceAccount: { project_id: string; client_email: string; private_key: string; token_uri: string };

beforeAll(async () => {
  const [fcmPublicKey, apnsPublicKey] = await Promise.all([
    importSPKI(fcmKeys.publicKey, 'RS256'),
    importSPKI(apnsKeys.publicKey, 'ES256'),
  ]);
  [h, pushService, tokenFake, fcmFake, apnsFake] = await Promise.all([
    startTestHerald(CHANNEL_TEST_SETTINGS),
    startFakePushService(webpushConfig.vapidPublicKey),
    startFakeHttp(answerGoogleToken({ publicKey: fcmPublicKey, account: () => serviceAccount, issued, now: Date.now })),
    startFakeHttp(answerFcmSend(issued)),
    startFakeH2(tls, answerApns({ publicKey: apnsPublicKey, now: Date.now })),
  ]);
  serviceAccount = {
    project_id: FCM_PROJECT,
    client_email: `herald@${FCM_PROJECT}.iam.gserviceaccount.com`,
    private_key: fcmKeys.privateKey,
    token_uri: `${tokenFake.url}/token`,
  };
});
afterAll(async () => {
  await Promise.all([h.close(), pushService.close(), tokenFake.close(), fcmFake.close(), apnsFake.close()]);
});

describe('push through the API', () => {
  const putIntegration = integrationsPerTest(() => h);
  const webpushIntegration = () =>
    putIntegration('push-webpush', { channel: 'push', provider: 'webpush', config: webpushConfig });
  const fcmIntegration = () =>
    putIntegration('push-fcm', { channel: 'push', provider: 'fcm', config: { serviceAccount, baseUrl: fcmFake.url } });
  const apnsIntegration = () =>
    putIntegration('push-apns', {
      channel: 'push',
      provider: 'apns',
      config: { ...APNS_ACCOUNT, privateKey: apnsKeys.privateKey, baseUrl: apnsFake.url, ca: tls.cert },
    });
  const shipped = async (subscriberId: string, status = 'sent') =>
    settledMessage(h, await triggerStep(h, `push-${subscriberId}`, SHIPPED_STEP, subscriberId, SHIPPED_DATA), status);

  it('sends an encrypted, VAPID-signed Web Push to the subscriber’s browser', async () => {
    await webpushIntegration();
    await putSubscriber(h, 'webpush-1', { push: { webPush: [pushService.subscribe()] } });

    const message = await shipped('webpush-1');
    expectSentVia(message, 'push-webpush', 'webpush', `${pushService.url}/message/${pushService.delivered.length}`);
    expect(message.recipient).toBe('1 device');
    expect(pushService.delivered.at(-1)!.payload).toEqual({
      title: 'Order 42 shipped',
      body: 'Arrives Tuesday',
      data: { url: '/orders/42' },
      messageId: message.id,
    });
  });

  it('sends through FCM with an access token minted from the service account', async () => {
    await fcmIntegration();
    await putSubscriber(h, 'fcm-1', { push: { fcm: ['device-token-1'] } });

    expectSentVia(await shipped('fcm-1'), 'push-fcm', 'fcm', FCM_MESSAGE_NAME);
    expect(JSON.parse(fcmFake.requests.at(-1)!.body)).toEqual({
      message: {
        token: 'device-token-1',
        notification: { title: 'Order 42 shipped', body: 'Arrives Tuesday' },
        data: { url: '/orders/42' },
      },
    });
  });

  it('sends through APNs over HTTP/2 with a signed provider token', async () => {
    await apnsIntegration();
    await putSubscriber(h, 'apns-1', { push: { apns: [APNS_TOKENS.device] } });

    const message = await shipped('apns-1');
    expectSentVia(message, 'push-apns', 'apns', apnsId(message.id));
    const request = apnsFake.requests.at(-1)!;
    expect(request).toMatchObject({ httpVersion: '2.0', url: `/3/device/${APNS_TOKENS.device}` });
    expect(JSON.parse(request.body)).toEqual({
      url: '/orders/42',
      aps: { alert: { title: 'Order 42 shipped', body: 'Arrives Tuesday' } },
    });
  });

  it('sends to every device and removes the ones each provider reports gone', async () => {
    // Saved before the sends: checking an APNs config once closed the HTTP client the others share.
    await Promise.all([webpushIntegration(), fcmIntegration(), apnsIntegration()]);
    const [browser, withdrawn] = [pushService.subscribe(), pushService.subscribe()];
    pushService.unsubscribe(withdrawn); // the push service answers 410 Gone
    await putSubscriber(h, 'devices-1', {
      push: {
        webPush: [browser, withdrawn],
        fcm: ['device-token-1', FCM_TOKENS.unregistered],
        apns: [APNS_TOKENS.device, APNS_TOKENS.unregistered],
      },
    });

    const message = await shipped('devices-1');
    expect(message.recipient).toBe('6 devices');
    const outcomes = message.attempts.map((a: any) => `${a.integrationId}/${a.provider}: ${a.outcome}`).sort();
    expect(outcomes).toEqual([
      'push-apns/apns: failed',
      'push-apns/apns: sent',
      'push-fcm/fcm: failed',
      'push-fcm/fcm: sent',
      'push-webpush/webpush: failed',
      'push-webpush/webpush: sent',
    ]);
    const subscriber = (await h.api('GET', '/v1/subscribers/devices-1')).body;
    expect(subscriber.push).toEqual({ webPush: [browser], fcm: ['device-token-1'], apns: [APNS_TOKENS.device] });
  });

  it('fails a message whose only device is gone, and removes the device', async () => {
    await fcmIntegration();
    await putSubscriber(h, 'fcm-gone', { push: { fcm: [FCM_TOKENS.unregistered] } });

    const message = await shipped('fcm-gone', 'failed');
    expect(message.reason).toBe('no device took it: fcm: HTTP 404: Requested entity was not found. (UNREGISTERED)');
    expect(message.attempts).toEqual([expect.objectContaining({ outcome: 'failed', integrationId: 'push-fcm' })]);
    expect((await h.api('GET', '/v1/subscribers/fcm-gone')).body.push).toEqual({ fcm: [] });
  });

  it('skips a subscriber without devices, or without an integration for its devices', async () => {
    await fcmIntegration();
    await putSubscriber(h, 'no-devices', { name: 'No devices' });
    await putSubscriber(h, 'apns-only', { push: { apns: [APNS_TOKENS.device] } });

    expect(await shipped('no-devices', 'skipped')).toMatchObject({ reason: 'subscriber has no push devices' });
    expect(await shipped('apns-only', 'skipped')).toMatchObject({ reason: 'no enabled push integration for apns' });
  });

  it('sends a test push: POST /v1/integrations/{id}/test', async () => {
    await fcmIntegration();
    const res = await h.api('POST', '/v1/integrations/push-fcm/test', { to: 'device-token-2', text: 'Ping' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'sent', providerMessageId: FCM_MESSAGE_NAME });
    expect(JSON.parse(fcmFake.requests.at(-1)!.body).message).toMatchObject({
      token: 'device-token-2',
      notification: { body: 'Ping' },
    });
  });
});
