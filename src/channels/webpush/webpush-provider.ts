import { Type } from 'typebox';
import webpushLibrary from 'web-push';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import type { ProviderDefinition, WebPushSubscription } from '../provider.js';

interface WebPushConfig {
  /** The application server key the browser subscribed with: an uncompressed P-256 point, base64url. */
  vapidPublicKey: string;
  /** Its private half: 32 bytes, base64url. */
  vapidPrivateKey: string;
  /** How the push service can reach the sender: a mailto: or https: URL (RFC 8292). */
  subject: string;
  /** How long the push service keeps an undelivered message; web-push's default is four weeks. */
  ttlSeconds?: number;
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291).
 * `web-push` builds the encrypted body and headers; the POST goes through Herald's guarded client
 * because the endpoint comes from a browser, i.e. from whoever registered the subscription.
 * A push service answers 201 Created with a Location naming the message; 404 and 410 mean the
 * subscription has expired or was withdrawn; 413 means the payload is too large.
 * https://web.dev/articles/push-notifications-web-push-protocol
 */
export const webpush: ProviderDefinition<'push', WebPushConfig> = {
  provider: 'webpush',
  channel: 'push',
  address: 'push',
  pushKind: 'webPush',
  configSchema: Type.Object(
    {
      vapidPublicKey: Type.String({ pattern: '^[A-Za-z0-9_-]{87}$' }),
      vapidPrivateKey: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
      subject: Type.String({ pattern: '^(mailto:|https://)\\S+$' }),
      ttlSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_419_200 })),
    },
    { additionalProperties: false },
  ),
  secretFields: ['vapidPrivateKey'],
  destinationFields: [],
  urlFields: {},
  create(config, context) {
    const vapidDetails = {
      subject: config.subject,
      publicKey: config.vapidPublicKey,
      privateKey: config.vapidPrivateKey,
    };
    // Signs once with web-push's own checks, so unusable keys or subject refuse the integration
    // when it is saved (create() throwing) rather than at the first send.
    webpushLibrary.getVapidHeaders(
      'https://push.example',
      vapidDetails.subject,
      vapidDetails.publicKey,
      vapidDetails.privateKey,
      'aes128gcm',
    );
    return {
      async send(message, signal) {
        const device = message.device;
        if (device.kind !== 'webPush') {
          return { status: 'failed', reason: `webpush: cannot deliver to a ${device.kind} device` };
        }
        const problem = subscriptionProblem(device.subscription);
        if (problem) return { status: 'failed', reason: `webpush: ${problem}`, gone: true };

        const payload = JSON.stringify({
          title: message.title,
          body: message.body,
          data: message.data,
          messageId: message.messageId,
        });
        let details;
        try {
          details = webpushLibrary.generateRequestDetails(device.subscription, payload, {
            vapidDetails,
            contentEncoding: 'aes128gcm',
            ...(config.ttlSeconds !== undefined && { TTL: config.ttlSeconds }),
          });
        } catch (error) {
          // The subscription and the keys passed their checks: nothing the message can change.
          return { status: 'failed', reason: `webpush: cannot encrypt: ${(error as Error).message}` };
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(details.headers)) {
          // The client computes Content-Length from the body it actually sends.
          if (name.toLowerCase() !== 'content-length') headers[name.toLowerCase()] = String(value);
        }
        let response;
        try {
          response = await context.http.request({
            url: details.endpoint,
            method: 'POST',
            headers,
            body: details.body,
            signal,
          });
        } catch (error) {
          return outcomeForFailure('webpush', error);
        }
        if (response.status >= 200 && response.status < 300) {
          return sentOutcome('webpush', response, response.headers.location);
        }
        // Mozilla's autopush answers {code, errno, error, message}; Apple's service {reason}.
        const body = parseJson(response) as { message?: unknown; reason?: unknown; error?: unknown } | undefined;
        const explained = [body?.message, body?.reason, body?.error].find((value) => typeof value === 'string');
        return outcomeForStatus('webpush', response, context.now(), {
          goneStatuses: [404, 410],
          detail: explained as string | undefined,
        });
      },
    };
  },
};

/**
 * Why a subscription can never receive a message, or undefined when it looks deliverable: the
 * encryption needs a 65-byte uncompressed P-256 key and an auth secret of at least 16 bytes.
 */
function subscriptionProblem(subscription: WebPushSubscription): string | undefined {
  let endpoint: URL;
  try {
    endpoint = new URL(subscription.endpoint);
  } catch {
    return 'the subscription endpoint is not a URL';
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
    return `the subscription endpoint is not an HTTP URL (${endpoint.protocol})`;
  }
  const key = decodeBase64Url(subscription.keys?.p256dh);
  if (!key || key.length !== 65 || key[0] !== 0x04) {
    return 'the subscription p256dh key is not an uncompressed P-256 public key';
  }
  const auth = decodeBase64Url(subscription.keys?.auth);
  if (!auth || auth.length < 16) return 'the subscription auth secret is shorter than 16 bytes';
  return undefined;
}

function decodeBase64Url(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_\-+/]+=*$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url');
}
