import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition, ProviderOutcome } from '../provider.js';
import { isTransientVonageStatus, needsUnicode } from './vonage-status.js';
import { HTTP } from '../outbound/ssrf.js';

interface VonageConfig {
  apiKey: string;
  apiSecret: string;
  /** A Vonage number (digits, no +) or an alphanumeric sender id. */
  from: string;
  baseUrl?: string;
}

interface VonagePart {
  status?: string;
  'message-id'?: string;
  'error-text'?: string;
}

const VONAGE_API = 'https://rest.nexmo.com';

/**
 * Vonage (Nexmo) SMS API: POST /sms/json, form encoded api_key, api_secret, from, to and text.
 * It answers HTTP 200 even when it refuses the message: the body lists one entry per message part
 * (`{"message-count", "messages": [{status, "message-id", "error-text"}]}`) and a non-"0" status is
 * the real error, classified in vonage-status.ts.
 * https://developer.vonage.com/en/api/sms#send-an-sms
 */
export const vonage: ProviderDefinition<'sms', VonageConfig> = {
  provider: 'vonage',
  channel: 'sms',
  address: 'phone',
  configSchema: Type.Object(
    {
      apiKey: Type.String({ minLength: 1 }),
      apiSecret: Type.String({ minLength: 1 }),
      from: Type.String({ minLength: 1, maxLength: 15 }),
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['apiSecret'],
  destinationFields: ['apiKey', 'baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['vonage', 'nexmo'],
  // vonage://{ApiKey}:{ApiSecret}@{FromPhoneNo}[/{ToPhoneNo}…] (nexmo:// alike); recipients are
  // Herald's subscribers, so targets in the path are ignored.
  fromUrl(url) {
    const query = url.searchParams;
    const apiKey = query.get('key') ?? decodeURIComponent(url.username);
    const apiSecret = query.get('secret') ?? decodeURIComponent(url.password);
    const sender = query.get('from') ?? query.get('source') ?? decodeURIComponent(url.hostname);
    if (!apiKey || !apiSecret || !sender) throw new Error('expected vonage://{ApiKey}:{ApiSecret}@{FromPhoneNo}');
    const digits = sender.replace(/[\s()+-]/g, '');
    if (/^\d{5,15}$/.test(digits)) return { apiKey, apiSecret, from: digits };
    if (/^[A-Za-z0-9 ]{1,11}$/.test(sender)) return { apiKey, apiSecret, from: sender };
    throw new Error('vonage: the sender (after @) is neither a phone number nor an alphanumeric id (11 characters)');
  },
  create(config, context) {
    const url = endpoint(config.baseUrl, VONAGE_API, '/sms/json');
    return {
      async send(message, signal) {
        // Vonage wants international numbers without the leading + (or 00).
        const form = new URLSearchParams({
          api_key: config.apiKey,
          api_secret: config.apiSecret,
          from: config.from.replace(/^\+/, ''),
          to: message.to.replace(/^\+/, ''),
          text: message.text,
          'client-ref': message.messageId.slice(0, 100),
        });
        if (needsUnicode(message.text)) form.set('type', 'unicode');
        let response;
        try {
          response = await context.http.request({
            url,
            headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
            body: form.toString(),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('vonage', error);
        }
        if (response.status < 200 || response.status >= 300) {
          return outcomeForStatus('vonage', response, context.now());
        }
        const body = parseJson(response) as { messages?: VonagePart[] } | undefined;
        const parts = Array.isArray(body?.messages) ? body.messages : [];
        return outcomeForParts(parts) ?? sentOutcome('vonage', response, parts[0]?.['message-id']);
      },
    };
  },
};

/** The outcome of a 200 whose parts carry an error; undefined when every part was accepted. */
function outcomeForParts(parts: VonagePart[]): ProviderOutcome | undefined {
  const refused = parts.find((part) => part.status !== undefined && String(part.status) !== '0');
  if (!refused) return undefined;
  const status = String(refused.status);
  const reason = `vonage: status ${status}: ${refused['error-text'] ?? 'no error text'}`.slice(0, 500);
  // A long text goes out as several parts; once one is accepted, a retry would send it again.
  if (parts.some((part) => String(part.status) === '0')) {
    return { status: 'failed', reason: `${reason} (other parts of the text were accepted)` };
  }
  return isTransientVonageStatus(status) ? { status: 'retry', reason } : { status: 'failed', reason };
}
