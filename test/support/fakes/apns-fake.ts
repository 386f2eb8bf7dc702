import { jwtVerify } from 'jose';
import type { FakeAnswer } from '../fake-http.js';
import type { H2RecordedRequest } from '../push-h2-fake.js';

/** The developer account and app the APNs fake serves. */
export const APNS_ACCOUNT = { teamId: 'ABCDE12345', keyId: 'KEY9876543', bundleId: 'com.example.herald' };

/** Device tokens: one that takes pushes, one Apple reports unregistered (410), one throttled (429). */
export const APNS_TOKENS = {
  device: 'a'.repeat(64),
  unregistered: '0'.repeat(64),
  throttled: 'f'.repeat(64),
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const apnsReject = (status: number, reason: string, extra: object = {}): FakeAnswer => ({
  status,
  headers: { 'apns-id': 'ignored' },
  body: { reason, ...extra },
});

export interface ApnsFakeOptions {
  /** The .p8 key's public half: provider tokens must be signed with the private one. */
  publicKey: Parameters<typeof jwtVerify>[1];
  now(): number;
  /** Provider tokens issued before this (seconds) are expired, as Apple decides. */
  expiredBefore?(): number;
}

/**
 * APNs as Apple documents it: provider-token auth, apns-topic/push-type/id headers, JSON `{reason}`
 * on errors, the apns-id echoed on success. Serve it with startFakeH2 (APNs speaks only HTTP/2).
 */
export function answerApns(options: ApnsFakeOptions) {
  return async (request: H2RecordedRequest): Promise<FakeAnswer> => {
    const token = /^\/3\/device\/([^/]+)$/.exec(request.url)?.[1];
    if (request.method !== 'POST') return apnsReject(405, 'MethodNotAllowed');
    if (!token) return apnsReject(404, 'BadPath');
    const jwt = /^bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    if (!jwt) return apnsReject(403, 'MissingProviderToken');
    const now = options.now();
    try {
      const { payload, protectedHeader } = await jwtVerify(jwt, options.publicKey, {
        algorithms: ['ES256'],
        issuer: APNS_ACCOUNT.teamId,
        currentDate: new Date(now),
      });
      if (protectedHeader.kid !== APNS_ACCOUNT.keyId || typeof payload.iat !== 'number') throw new Error('claims');
      if (payload.iat < (options.expiredBefore?.() ?? 0) || payload.iat < now / 1000 - 3600)
        return apnsReject(403, 'ExpiredProviderToken');
    } catch {
      return apnsReject(403, 'InvalidProviderToken');
    }
    if (!request.headers['apns-topic']) return apnsReject(400, 'MissingTopic');
    if (request.headers['apns-topic'] !== APNS_ACCOUNT.bundleId) return apnsReject(400, 'DeviceTokenNotForTopic');
    if (request.headers['apns-push-type'] !== 'alert') return apnsReject(400, 'InvalidPushType');
    const id = String(request.headers['apns-id']);
    if (!UUID.test(id)) return apnsReject(400, 'BadMessageId');
    if (Buffer.byteLength(request.body) > 4096) return apnsReject(413, 'PayloadTooLarge');
    const payload = JSON.parse(request.body) as { aps?: { alert?: { title?: string; body?: string } } };
    if (!payload.aps?.alert?.title) return apnsReject(400, 'PayloadEmpty');
    if (!/^[0-9a-f]{64}$/i.test(token)) return apnsReject(400, 'BadDeviceToken');
    if (token === APNS_TOKENS.unregistered) return apnsReject(410, 'Unregistered', { timestamp: now - 60_000 });
    if (token === APNS_TOKENS.throttled) return apnsReject(429, 'TooManyRequests');
    return { status: 200, headers: { 'apns-id': id } };
  };
}
