import { createECDH } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage, WebPushSubscription } from '../../src/channels/provider.js';
import { webpush } from '../../src/channels/webpush/webpush-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';
import { startFakePushService, type FakePushService } from '../support/push-web-push-service.js';

// The application server's VAPID key pair, made the way any P-256 tool makes one. Node gives the
// private key without leading zero bytes (one key in 256 is 31 bytes long); VAPID keys are the
// full 32 bytes, as web-push-generated ones are.
const vapid = createECDH('prime256v1');
vapid.generateKeys();
const privateKey = vapid.getPrivateKey();
const config = {
  vapidPublicKey: vapid.getPublicKey().toString('base64url'),
  vapidPrivateKey: Buffer.concat([Buffer.alloc(32 - privateKey.length), privateKey]).toString('base64url'),
  subject: 'mailto:ops@example.com',
  ttlSeconds: 3600,
};

describe('Web Push provider', () => {
  let service: FakePushService;
  // The fault matrix runs against the shared HTTP fake; the push service above needs the raw
  // (binary) body to decrypt, which the shared fake does not record.
  let faultFake: FakeHttp;
  const context = testProviderContext();
  const adapter = webpush.create(config, context);
  const message = (subscription: WebPushSubscription, body = 'Your build passed'): PushMessage => ({
    messageId: 'msg_1',
    environmentId: 'env',
    device: { kind: 'webPush', subscription },
    title: 'CI',
    body,
    data: { url: '/builds/42' },
  });

  beforeAll(async () => {
    service = await startFakePushService(config.vapidPublicKey);
    faultFake = await startFakeHttp(() => ({ status: 201, headers: { location: 'x' } }));
  });
  afterAll(async () => {
    await service.close();
    await faultFake.close();
    await context.http.close();
  });

  it('encrypts the payload for the subscription, signs VAPID, and logs the Location', async () => {
    const subscription = service.subscribe();
    const outcome = await adapter.send(message(subscription), sendSignal());
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: `${service.url}/message/1` });
    const push = service.delivered.at(-1)!;
    expect(push.payload).toEqual({
      title: 'CI',
      body: 'Your build passed',
      data: { url: '/builds/42' },
      messageId: 'msg_1',
    });
    expect(push.vapidClaims).toMatchObject({ aud: service.url, sub: 'mailto:ops@example.com' });
    expect(push.headers.ttl).toBe('3600');
    expect(push.headers['content-type']).toBe('application/octet-stream');
  });

  it('reports a withdrawn subscription (410) as gone', async () => {
    const subscription = service.subscribe();
    service.unsubscribe(subscription);
    const outcome = await adapter.send(message(subscription), sendSignal());
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'webpush: HTTP 410: Subscription is no longer valid',
      gone: true,
    });
  });

  it('reports an unknown subscription (404) as gone', async () => {
    const subscription = { ...service.subscribe(), endpoint: `${service.url}/push/expired` };
    const outcome = await adapter.send(message(subscription), sendSignal());
    expect(outcome).toMatchObject({ status: 'failed', gone: true, reason: expect.stringContaining('invalid token') });
  });

  it('fails a payload the service refuses as too large (413), keeping the subscription', async () => {
    const outcome = await adapter.send(message(service.subscribe(), 'x'.repeat(5000)), sendSignal());
    expect(outcome).toEqual({ status: 'failed', reason: 'webpush: HTTP 413: Body too large' });
  });

  it('retries when the service rejects the VAPID signature (a key the browser did not subscribe with)', async () => {
    const other = createECDH('prime256v1');
    other.generateKeys();
    const misconfigured = webpush.create(
      {
        ...config,
        vapidPublicKey: other.getPublicKey().toString('base64url'),
        vapidPrivateKey: other.getPrivateKey().toString('base64url'),
      },
      context,
    );
    const outcome = await misconfigured.send(message(service.subscribe()), sendSignal());
    expect(outcome).toMatchObject({ status: 'retry', reason: 'webpush: HTTP 401: Invalid VAPID header' });
  });

  it('reports a subscription whose keys can never encrypt as gone, without a request', async () => {
    const subscription = service.subscribe();
    const broken = { ...subscription, keys: { ...subscription.keys, p256dh: 'c2hvcnQ' } };
    const outcome = await adapter.send(message(broken), sendSignal());
    expect(outcome).toMatchObject({ status: 'failed', gone: true, reason: expect.stringContaining('p256dh') });
  });

  it('refuses a device of another kind', async () => {
    const outcome = await adapter.send(
      { ...message(service.subscribe()), device: { kind: 'fcm', token: 't' } },
      sendSignal(),
    );
    expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringContaining('fcm device') });
  });

  it('refuses a configuration web-push cannot sign with', () => {
    expect(() => webpush.create({ ...config, subject: 'ops@example.com' }, context)).toThrow(/subject/i);
  });

  it('declares its push kind and keeps the private key secret', () => {
    expect(webpush.pushKind).toBe('webPush');
    expect(webpush.secretFields).toEqual(['vapidPrivateKey']);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    const subscription = { ...service.subscribe(), endpoint: `${faultFake.url}/push/abc` };
    await expectFaultOutcome(faultFake, fault, () => adapter.send(message(subscription), sendSignal()));
  });
});
