import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** A Twilio number (E.164), short code or alphanumeric sender id. */
  from?: string;
  /** MG…: Twilio picks the sender from the service's pool. */
  messagingServiceSid?: string;
  baseUrl?: string;
}

const TWILIO_API = 'https://api.twilio.com';

/**
 * Twilio error codes that come with a 4xx but pass: 21611 means the sender's queue is full
 * (https://www.twilio.com/docs/api/errors/21611), so the same message succeeds later.
 */
const TRANSIENT_CODES = new Set([21611]);

/**
 * Twilio Programmable Messaging: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form
 * encoded `To`, `From` (or `MessagingServiceSid`) and `Body`, with basic auth sid:token. Twilio
 * answers 201 with the Message resource, whose `sid` is logged; errors carry
 * `{code, message, more_info, status}` (21211 invalid To → failed, 20003 authentication → retry).
 * https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 */
export const twilio: ProviderDefinition<'sms', TwilioConfig> = {
  provider: 'twilio',
  channel: 'sms',
  address: 'phone',
  configSchema: Type.Object(
    {
      accountSid: Type.String({ pattern: '^AC[0-9a-fA-F]{32}$' }),
      authToken: Type.String({ minLength: 1 }),
      from: Type.Optional(Type.String({ minLength: 1 })),
      messagingServiceSid: Type.Optional(Type.String({ pattern: '^MG[0-9a-fA-F]{32}$' })),
      baseUrl: BaseUrlField,
    },
    // Twilio needs a sender: a number of the account or a Messaging Service to pick one.
    { additionalProperties: false, anyOf: [{ required: ['from'] }, { required: ['messagingServiceSid'] }] },
  ),
  secretFields: ['authToken'],
  destinationFields: ['accountSid', 'baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['twilio'],
  // twilio://{AccountSID}:{AuthToken}@{FromPhoneNo}[/{ToPhoneNo}…]; the recipients of a Herald
  // message are its subscribers, so targets in the path are ignored.
  fromUrl(url) {
    const query = url.searchParams;
    const accountSid = query.get('sid') ?? decodeURIComponent(url.username);
    const authToken = query.get('token') ?? decodeURIComponent(url.password);
    const sender = query.get('from') ?? query.get('source') ?? decodeURIComponent(url.hostname);
    if (!accountSid || !authToken || !sender) {
      throw new Error('expected twilio://{AccountSID}:{AuthToken}@{FromPhoneNo}');
    }
    if (query.has('apikey')) {
      throw new Error('twilio: API key (apikey=) sign-in is not supported; use the account SID and auth token');
    }
    if (/^MG[0-9a-f]{32}$/i.test(sender)) return { accountSid, authToken, messagingServiceSid: sender };
    const digits = sender.replace(/[\s()+-]/g, '');
    if (!/^\d+$/.test(digits)) throw new Error('twilio: the sender (after @) is not a phone number or short code');
    // Apprise's rule: 5-6 digits are a short code, anything longer an E.164 number.
    return { accountSid, authToken, from: digits.length <= 6 ? digits : `+${digits}` };
  },
  create(config, context) {
    if (!config.from && !config.messagingServiceSid) throw new Error('twilio: set from or messagingServiceSid');
    const path = `/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`;
    const url = endpoint(config.baseUrl, TWILIO_API, path);
    const authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`;
    return {
      async send(message, signal) {
        const form = new URLSearchParams({ To: message.to, Body: message.text });
        if (config.messagingServiceSid) form.set('MessagingServiceSid', config.messagingServiceSid);
        if (config.from) form.set('From', config.from);
        let response;
        try {
          response = await context.http.request({
            url,
            headers: {
              authorization,
              'content-type': 'application/x-www-form-urlencoded',
              accept: 'application/json',
            },
            body: form.toString(),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('twilio', error);
        }
        const body = parseJson(response) as
          { sid?: string; code?: number; message?: string; more_info?: string } | undefined;
        if (response.status >= 200 && response.status < 300) return sentOutcome('twilio', response, body?.sid);
        const detail = body?.message
          ? `${body.message}${body.code ? ` (code ${body.code}${body.more_info ? `, ${body.more_info}` : ''})` : ''}`
          : undefined;
        if (body?.code !== undefined && TRANSIENT_CODES.has(body.code)) {
          return { status: 'retry', reason: `twilio: HTTP ${response.status}: ${detail}`.slice(0, 500) };
        }
        return outcomeForStatus('twilio', response, context.now(), { detail });
      },
    };
  },
};
