import { Type } from 'typebox';
import { apiHeaders } from '../email/compose-email.js';
import { FromField, mailboxText, senderFromUrl, senderOf } from '../email/sender.js';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface PostmarkConfig {
  serverToken: string;
  /** `addr` or `Name <addr>`, a confirmed sender signature; HERALD_EMAIL_FROM when absent. */
  from?: string;
  /** Postmark's message stream; its default transactional stream (`outbound`) when absent. */
  messageStream?: string;
  /** Default `https://api.postmarkapp.com`. */
  baseUrl?: string;
}

/**
 * Postmark error codes that concern the account, not this message (100 maintenance, 405 out of
 * credits, 413 account may not send): retried like a 401, so messages wait for the account. Every
 * other code (406 inactive recipient, 300 invalid request, …) fails the message.
 * https://postmarkapp.com/developer/api/overview#error-codes
 */
const ACCOUNT_ERROR_CODES = new Set([100, 405, 413]);

/**
 * Postmark Email API: POST /email with X-Postmark-Server-Token. Postmark answers 200
 * `{To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK"}`; a refused message is 422 with a
 * non-zero `ErrorCode` and `Message`. Postmark has no idempotency key: Herald's id travels as the
 * X-Herald-Message-Id header and `herald_message_id` metadata (echoed in webhooks).
 * https://postmarkapp.com/developer/api/email-api
 */
export const postmark: ProviderDefinition<'email', PostmarkConfig> = {
  provider: 'postmark',
  channel: 'email',
  address: 'email',
  configSchema: Type.Object(
    {
      serverToken: Type.String({ minLength: 1 }),
      from: FromField,
      messageStream: Type.Optional(Type.String({ minLength: 1 })),
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['serverToken'],
  destinationFields: ['baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['postmark'],
  // postmark://{apikey}:{from_user}@{from_domain}/{targets…}: targets are ignored (Herald sends to
  // the subscriber); ?apikey=, ?from= and ?name= override as in Apprise.
  fromUrl(url) {
    const serverToken = url.searchParams.get('apikey') || decodeURIComponent(url.username);
    const from = senderFromUrl(url, decodeURIComponent(url.password));
    if (!serverToken || !from) throw new Error('expected postmark://{apikey}:{from_user}@{from_domain}');
    return { serverToken, from };
  },
  create(config, context) {
    const url = endpoint(config.baseUrl, 'https://api.postmarkapp.com', '/email');
    const from = mailboxText(senderOf(config.from, context));
    return {
      async send(message, signal) {
        let response;
        try {
          response = await context.http.request({
            url,
            headers: {
              accept: 'application/json',
              'content-type': 'application/json',
              'x-postmark-server-token': config.serverToken,
            },
            body: JSON.stringify({
              From: from,
              To: mailboxText({ address: message.to, name: message.toName }),
              Subject: message.subject,
              TextBody: message.text,
              ...(message.html && { HtmlBody: message.html }),
              Headers: Object.entries(apiHeaders(message)).map(([Name, Value]) => ({ Name, Value })),
              Metadata: { herald_message_id: message.messageId },
              ...(config.messageStream && { MessageStream: config.messageStream }),
            }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('postmark', error);
        }
        const body = parseJson(response) as { MessageID?: string; ErrorCode?: number; Message?: string } | undefined;
        if (response.status >= 200 && response.status < 300) return sentOutcome('postmark', response, body?.MessageID);
        const code = typeof body?.ErrorCode === 'number' ? body.ErrorCode : undefined;
        const detail = body?.Message ? `${body.Message}${code !== undefined ? ` (ErrorCode ${code})` : ''}` : undefined;
        const outcome = outcomeForStatus('postmark', response, context.now(), { detail });
        return outcome.status === 'failed' && code !== undefined && ACCOUNT_ERROR_CODES.has(code)
          ? { status: 'retry', reason: outcome.reason }
          : outcome;
      },
    };
  },
};
