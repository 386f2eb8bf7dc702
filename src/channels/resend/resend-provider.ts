import { Type } from 'typebox';
import { apiHeaders } from '../email/compose-email.js';
import { FromField, mailboxText, senderFromUrl, senderOf } from '../email/sender.js';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface ResendConfig {
  apiKey: string;
  /** `addr` or `Name <addr>` on a verified domain; HERALD_EMAIL_FROM when absent. */
  from?: string;
  /** Default `https://api.resend.com`. */
  baseUrl?: string;
}

/**
 * 409 `concurrent_idempotent_requests`: an earlier attempt with the same key is still running at
 * Resend; asking again later returns its result. (409 `invalid_idempotent_request`, the same key
 * with another payload, fails like any 4xx.)
 */
const IN_PROGRESS = 'concurrent_idempotent_requests';

/** Resend tag values allow only these characters; ids outside them go without the tag. */
const TAG_VALUE = /^[\w-]{1,256}$/;

/**
 * Resend: POST /emails with a Bearer API key. Resend answers 200 `{id}`; errors carry
 * `{statusCode, name, message}`. Herald's message id is the Idempotency-Key, so a retry after a
 * lost answer returns the first send instead of sending again (Resend keeps keys 24 hours); it also
 * travels as the X-Herald-Message-Id header and the `herald_message_id` tag.
 * https://resend.com/docs/api-reference/emails/send-email
 */
export const resend: ProviderDefinition<'email', ResendConfig> = {
  provider: 'resend',
  channel: 'email',
  address: 'email',
  configSchema: Type.Object(
    {
      apiKey: Type.String({ minLength: 1 }),
      from: FromField,
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['apiKey'],
  destinationFields: ['baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['resend'],
  // resend://{apikey}:{from_user}@{from_domain}/{targets…}: targets are ignored (Herald sends to the
  // subscriber); ?apikey=, ?from= and ?name= override as in Apprise.
  fromUrl(url) {
    const apiKey = url.searchParams.get('apikey') || decodeURIComponent(url.username);
    const from = senderFromUrl(url, decodeURIComponent(url.password));
    if (!apiKey || !from) throw new Error('expected resend://{apikey}:{from_user}@{from_domain}');
    return { apiKey, from };
  },
  create(config, context) {
    const url = endpoint(config.baseUrl, 'https://api.resend.com', '/emails');
    const from = mailboxText(senderOf(config.from, context));
    return {
      async send(message, signal) {
        let response;
        try {
          response = await context.http.request({
            url,
            headers: {
              authorization: `Bearer ${config.apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': message.messageId,
            },
            body: JSON.stringify({
              from,
              to: [mailboxText({ address: message.to, name: message.toName })],
              subject: message.subject,
              text: message.text,
              ...(message.html && { html: message.html }),
              headers: apiHeaders(message),
              ...(TAG_VALUE.test(message.messageId) && {
                tags: [{ name: 'herald_message_id', value: message.messageId }],
              }),
            }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('resend', error);
        }
        const body = parseJson(response) as { id?: string; name?: string; message?: string } | undefined;
        if (response.status >= 200 && response.status < 300) return sentOutcome('resend', response, body?.id);
        const detail = body?.message ? `${body.message}${body.name ? ` (${body.name})` : ''}` : undefined;
        const outcome = outcomeForStatus('resend', response, context.now(), { detail });
        return outcome.status === 'failed' && body?.name === IN_PROGRESS
          ? { status: 'retry', reason: outcome.reason }
          : outcome;
      },
    };
  },
};
