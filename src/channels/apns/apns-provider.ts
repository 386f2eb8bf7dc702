import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { HttpClient } from '../outbound/http-client.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface ApnsConfig {
  /** The 10-character Team ID the signing key belongs to (the JWT's `iss`). */
  teamId: string;
  /** The 10-character Key ID of the .p8 key (the JWT's `kid`). */
  keyId: string;
  /** The .p8 signing key (PKCS#8 PEM, P-256). */
  privateKey: string;
  /** The app's bundle ID, sent as apns-topic. */
  bundleId: string;
  /** false for development builds (the sandbox); default true. */
  production?: boolean;
  baseUrl?: string;
  /** A CA (PEM) to trust instead of the system roots, for private deployments. */
  ca?: string;
}

const PRODUCTION_URL = 'https://api.push.apple.com';
const SANDBOX_URL = 'https://api.sandbox.push.apple.com';
/**
 * Apple refuses provider tokens older than an hour (ExpiredProviderToken) and throttles ones
 * renewed more often than every 20 minutes (TooManyProviderTokenUpdates): renew at 50 minutes.
 */
const PROVIDER_TOKEN_LIFETIME_MS = 50 * 60_000;
/** Fixed namespace for the UUIDv5 apns-id derived from Herald's message id. */
const APNS_ID_NAMESPACE = Buffer.from('5d0c1a8e7b3f4e2a9c6d8b1f0e4a7c32', 'hex');

/**
 * Apple Push Notification service over HTTP/2 with token (JWT) authentication: POST
 * /3/device/{token} with apns-topic, apns-push-type and `authorization: bearer <ES256 JWT>`.
 * 200 means accepted (apns-id echoed); errors carry `{reason}`: 410 Unregistered/ExpiredToken and
 * 400 BadDeviceToken mean the token is dead; 403 Expired/InvalidProviderToken asks for a new JWT;
 * 429 and 5xx are transient.
 * https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
 * https://developer.apple.com/documentation/usernotifications/handling-error-responses-from-apns
 */
export const apns: ProviderDefinition<'push', ApnsConfig> = {
  provider: 'apns',
  channel: 'push',
  address: 'push',
  pushKind: 'apns',
  configSchema: Type.Object(
    {
      teamId: Type.String({ pattern: '^[A-Z0-9]{10}$' }),
      keyId: Type.String({ pattern: '^[A-Z0-9]{10}$' }),
      privateKey: Type.String({ pattern: 'BEGIN PRIVATE KEY' }),
      bundleId: Type.String({ minLength: 1 }),
      production: Type.Optional(Type.Boolean()),
      baseUrl: BaseUrlField,
      ca: Type.Optional(Type.String({ pattern: 'BEGIN CERTIFICATE' })),
    },
    { additionalProperties: false },
  ),
  secretFields: ['privateKey'],
  destinationFields: ['production', 'baseUrl', 'ca'],
  urlFields: { baseUrl: HTTP },
  create(config, context) {
    const key = p256PrivateKey(config.privateKey);
    const defaultOrigin = config.production === false ? SANDBOX_URL : PRODUCTION_URL;
    // APNs speaks only HTTP/2; a dedicated client negotiates it by ALPN. It is opened at the first
    // send: an instance that never sends (built to check a config when it is saved) must close
    // nothing, as the client its context hands out then may be one it does not own.
    let client: HttpClient | undefined;
    const http = () => (client ??= context.createHttpClient({ allowH2: true, ...(config.ca && { ca: config.ca }) }));
    let cached: { jwt: string; issuedAt: number } | undefined;

    async function providerToken(): Promise<string> {
      const now = context.now();
      if (cached && now - cached.issuedAt < PROVIDER_TOKEN_LIFETIME_MS) return cached.jwt;
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: config.keyId })
        .setIssuer(config.teamId)
        .setIssuedAt(Math.floor(now / 1000))
        .sign(key);
      cached = { jwt, issuedAt: now };
      return jwt;
    }

    return {
      async send(message, signal) {
        const device = message.device;
        if (device.kind !== 'apns')
          return { status: 'failed', reason: `apns: cannot deliver to a ${device.kind} device` };
        const jwt = await providerToken();
        let response;
        try {
          response = await http().request({
            url: endpoint(config.baseUrl, defaultOrigin, `/3/device/${encodeURIComponent(device.token)}`),
            headers: {
              authorization: `bearer ${jwt}`,
              'apns-topic': config.bundleId,
              'apns-push-type': 'alert',
              'apns-id': apnsId(message.messageId),
              'content-type': 'application/json',
            },
            // `aps` last: the app's data may not override the alert.
            body: JSON.stringify({ ...message.data, aps: { alert: { title: message.title, body: message.body } } }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('apns', error);
        }
        if (response.status >= 200 && response.status < 300) {
          return sentOutcome('apns', response, response.headers['apns-id']);
        }
        const reason = (parseJson(response) as { reason?: unknown } | undefined)?.reason;
        const detail = typeof reason === 'string' ? reason : undefined;
        if (response.status === 403 && (detail === 'ExpiredProviderToken' || detail === 'InvalidProviderToken')) {
          if (cached?.jwt === jwt) cached = undefined; // the retry signs a fresh one
        }
        const gone = response.status === 410 || (response.status === 400 && detail === 'BadDeviceToken');
        return outcomeForStatus('apns', response, context.now(), {
          goneStatuses: gone ? [response.status] : [],
          detail,
        });
      },
      close: async () => {
        await client?.close();
      },
    };
  },
};

/**
 * The .p8 key, checked when the integration is saved (create() throwing refuses the config):
 * Apple's token keys are P-256. Keys pasted through an environment variable often carry "\n" escapes.
 */
function p256PrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.replace(/\\n/g, '\n'));
  } catch (error) {
    throw new Error(`privateKey is not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('privateKey is not a P-256 key: use the .p8 file Apple issued');
  }
  return key;
}

/**
 * The apns-id for a message: a UUIDv5 of Herald's message id, so every retry of one message
 * carries the same id and Apple's logs and ours line up.
 */
export function apnsId(messageId: string): string {
  const hash = createHash('sha1').update(APNS_ID_NAMESPACE).update(messageId).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
