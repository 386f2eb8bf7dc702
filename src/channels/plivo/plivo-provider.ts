import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface PlivoConfig {
  authId: string;
  authToken: string;
  /** A Plivo number (E.164), short code or alphanumeric sender id. */
  from: string;
  baseUrl?: string;
}

const PLIVO_API = 'https://api.plivo.com';

/**
 * Plivo Messaging: POST /v1/Account/{auth_id}/Message/ with JSON `{src, dst, text}` and basic
 * auth id:token. Plivo answers 202 `{api_id, message, message_uuid: [..]}` (one uuid per part; the
 * first is logged); errors carry `{api_id, error}`.
 * https://www.plivo.com/docs/messaging/api/message/send-a-message
 */
export const plivo: ProviderDefinition<'sms', PlivoConfig> = {
  provider: 'plivo',
  channel: 'sms',
  address: 'phone',
  configSchema: Type.Object(
    {
      authId: Type.String({ pattern: '^[A-Za-z0-9]+$' }),
      authToken: Type.String({ minLength: 1 }),
      from: Type.String({ minLength: 1 }),
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['authToken'],
  destinationFields: ['authId', 'baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['plivo'],
  // plivo://{AuthID}@{Token}/{FromPhoneNo}[/{ToPhoneNo}…] (Apprise puts the token in the host);
  // recipients are Herald's subscribers, so further targets are ignored.
  fromUrl(url) {
    const query = url.searchParams;
    const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const authId = query.get('id') ?? decodeURIComponent(url.username);
    // With ?token= the host is the first phone number, as in Apprise.
    const authToken = query.get('token') ?? decodeURIComponent(url.hostname);
    if (query.has('token') && url.hostname) path.unshift(decodeURIComponent(url.hostname));
    const sender = query.get('from') ?? path[0];
    if (!authId || !authToken || !sender) throw new Error('expected plivo://{AuthID}@{Token}/{FromPhoneNo}');
    const digits = sender.replace(/[\s()+-]/g, '');
    if (!/^\d{5,15}$/.test(digits)) throw new Error('plivo: the sender (the first path segment) is not a phone number');
    return { authId, authToken, from: digits.length <= 6 ? digits : `+${digits}` };
  },
  create(config, context) {
    const url = endpoint(config.baseUrl, PLIVO_API, `/v1/Account/${encodeURIComponent(config.authId)}/Message/`);
    const authorization = `Basic ${Buffer.from(`${config.authId}:${config.authToken}`).toString('base64')}`;
    return {
      async send(message, signal) {
        let response;
        try {
          response = await context.http.request({
            url,
            headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify({ src: config.from, dst: message.to, text: message.text }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('plivo', error);
        }
        const body = parseJson(response) as { message_uuid?: unknown; error?: unknown } | undefined;
        if (response.status >= 200 && response.status < 300) {
          const uuids = Array.isArray(body?.message_uuid) ? body.message_uuid : [];
          return sentOutcome('plivo', response, typeof uuids[0] === 'string' ? uuids[0] : undefined);
        }
        // `error` is a sentence, or an object naming the refused fields.
        const error = body?.error;
        const detail = typeof error === 'string' ? error : error ? JSON.stringify(error) : undefined;
        return outcomeForStatus('plivo', response, context.now(), { detail });
      },
    };
  },
};
