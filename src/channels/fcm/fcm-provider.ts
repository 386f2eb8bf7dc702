import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { createAccessTokenSource, type GoogleServiceAccount } from './google-access-token.js';
import { HTTP } from '../outbound/ssrf.js';

interface FcmConfig {
  /** The service-account key file from the Firebase console, pasted as it is. */
  serviceAccount: GoogleServiceAccount;
  baseUrl?: string;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

interface FcmErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: { '@type'?: string; errorCode?: string; fieldViolations?: { field?: string }[] }[];
  };
}

/**
 * Firebase Cloud Messaging, HTTP v1: POST {baseUrl}/v1/projects/{project_id}/messages:send with
 * `{message: {token, notification, data}}` and an OAuth access token minted from the service
 * account. Success is 200 `{name}`. Errors are Google API errors whose `details` carry an FcmError
 * `errorCode`: UNREGISTERED (404) means the app instance is gone; INVALID_ARGUMENT (400) covers
 * both a malformed token and a bad payload; QUOTA_EXCEEDED (429) and UNAVAILABLE (503) are transient.
 * https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send
 * https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode
 */
export const fcm: ProviderDefinition<'push', FcmConfig> = {
  provider: 'fcm',
  channel: 'push',
  address: 'push',
  pushKind: 'fcm',
  configSchema: Type.Object(
    {
      // The key file has more fields (type, client_id, auth_uri…): accepted so it can be pasted whole.
      serviceAccount: Type.Object({
        project_id: Type.String({ minLength: 1 }),
        client_email: Type.String({ minLength: 3 }),
        private_key: Type.String({ pattern: 'BEGIN PRIVATE KEY' }),
        private_key_id: Type.Optional(Type.String()),
        token_uri: Type.Optional(Type.String({ format: 'uri' })),
      }),
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['serviceAccount'],
  destinationFields: ['baseUrl'],
  urlFields: { baseUrl: HTTP, 'serviceAccount/token_uri': HTTP },
  create(config, context) {
    const account = config.serviceAccount;
    const tokens = createAccessTokenSource(account, SCOPE, context, 'fcm');
    const path = `/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`;
    const sendUrl = endpoint(config.baseUrl, 'https://fcm.googleapis.com', path);
    return {
      async send(message, signal) {
        const device = message.device;
        if (device.kind !== 'fcm')
          return { status: 'failed', reason: `fcm: cannot deliver to a ${device.kind} device` };
        const access = await tokens.get(signal);
        if ('outcome' in access) return access.outcome;
        let response;
        try {
          response = await context.http.request({
            url: sendUrl,
            headers: { authorization: `Bearer ${access.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              message: {
                token: device.token,
                notification: { title: message.title, body: message.body },
                ...(message.data && { data: message.data }),
              },
            }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('fcm', error);
        }
        if (response.status >= 200 && response.status < 300) {
          const body = parseJson(response) as { name?: string } | undefined;
          return sentOutcome('fcm', response, body?.name);
        }
        if (response.status === 401) tokens.drop(access.token);
        const error = (parseJson(response) as FcmErrorBody | undefined)?.error;
        const errorCode = error?.details?.find((detail) => detail['@type']?.endsWith('.FcmError'))?.errorCode;
        const code = errorCode ?? error?.status;
        const detail = error?.message ? `${error.message}${code ? ` (${code})` : ''}` : undefined;
        const outcome = outcomeForStatus('fcm', response, context.now(), {
          goneStatuses: tokenIsGone(errorCode, error) ? [response.status] : [],
          detail,
        });
        // The token belongs to another Firebase project: no retry helps, but the token may be
        // fine and the integration wrong, so it is not removed.
        if (errorCode === 'SENDER_ID_MISMATCH' && outcome.status === 'retry') {
          return { status: 'failed', reason: outcome.reason };
        }
        return outcome;
      },
    };
  },
};

/**
 * UNREGISTERED, or INVALID_ARGUMENT about the token itself (FCM's own example answers "The
 * registration token is not a valid FCM registration token"; a BadRequest may name the field
 * `message.token`). A bare 404 without FcmError is not enough: a wrong project_id or baseUrl
 * must not cost every subscriber their tokens.
 */
function tokenIsGone(errorCode: string | undefined, error: FcmErrorBody['error']): boolean {
  if (errorCode === 'UNREGISTERED') return true;
  if ((errorCode ?? error?.status) !== 'INVALID_ARGUMENT') return false;
  const namesToken = error?.details?.some((detail) =>
    detail.fieldViolations?.some((violation) => violation.field === 'message.token'),
  );
  return Boolean(namesToken) || /registration token/i.test(error?.message ?? '');
}
