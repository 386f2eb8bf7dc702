import { jwtVerify } from 'jose';
import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The Firebase project the fake's messages:send serves. */
export const FCM_PROJECT = 'herald-test-5e1f2';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** Device tokens the fake answers with a documented FCM error. */
export const FCM_TOKENS = {
  unregistered: 'unregistered-token',
  truncated: 'truncated-token',
  otherProject: 'other-project-token',
  throttled: 'throttled-token',
  busy: 'busy-token',
} as const;

/** A Google API error as FCM sends it, with an FcmError detail when `errorCode` is given. */
export function googleError(code: number, status: string, message: string, errorCode?: string): FakeAnswer {
  const details = errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [];
  return { status: code, body: { error: { code, message, status, details } } };
}

export interface GoogleTokenFakeOptions {
  /** The service account's public key: the assertion must be signed with its private key. */
  publicKey: Parameters<typeof jwtVerify>[1];
  /** The account whose assertions are accepted (read per request: its token_uri names the fake). */
  account(): { client_email: string; token_uri: string };
  /** Access tokens issued so far; the messages:send fake accepts these. */
  issued: Set<string>;
  now(): number;
}

/**
 * Google's OAuth token endpoint: verifies the assertion's signature with the account's public
 * key, its iss/aud/scope/lifetime, and answers {access_token, expires_in, token_type}.
 */
export function answerGoogleToken(options: GoogleTokenFakeOptions) {
  return async (request: RecordedRequest): Promise<FakeAnswer> => {
    if (request.method !== 'POST' || request.url !== '/token') return { status: 404, body: 'Not Found' };
    const form = new URLSearchParams(request.body);
    if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      return { status: 400, body: { error: 'invalid_request', error_description: 'Bad content type' } };
    }
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    }
    try {
      const account = options.account();
      const { payload } = await jwtVerify(form.get('assertion') ?? '', options.publicKey, {
        algorithms: ['RS256'],
        issuer: account.client_email,
        audience: account.token_uri,
        currentDate: new Date(options.now()),
      });
      if (payload.scope !== SCOPE || payload.exp! - payload.iat! > 3600) throw new Error('bad claims');
    } catch {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
    }
    const token = `ya29.c.fake-${options.issued.size + 1}`;
    options.issued.add(token);
    return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
  };
}

/** FCM's messages:send, answering per device token (FCM_TOKENS) the way FCM documents each case. */
export function answerFcmSend(issued: Set<string>) {
  return (request: RecordedRequest): FakeAnswer => {
    if (request.method !== 'POST' || request.url !== `/v1/projects/${FCM_PROJECT}/messages:send`) {
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
      case FCM_TOKENS.unregistered:
        return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
      case FCM_TOKENS.truncated:
        return googleError(
          400,
          'INVALID_ARGUMENT',
          'The registration token is not a valid FCM registration token',
          'INVALID_ARGUMENT',
        );
      case FCM_TOKENS.otherProject:
        return googleError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
      case FCM_TOKENS.throttled:
        return {
          ...googleError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED'),
          headers: { 'retry-after': '60' },
        };
      case FCM_TOKENS.busy:
        return googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE');
    }
    return { status: 200, body: { name: `projects/${FCM_PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96` } };
  };
}
