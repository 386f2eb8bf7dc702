import { Type } from 'typebox';
import { apiHeaders } from '../email/compose-email.js';
import { FromField, senderOf } from '../email/sender.js';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface SendGridConfig {
  apiKey: string;
  /** `addr` or `Name <addr>`; HERALD_EMAIL_FROM when absent. */
  from?: string;
  /** Default `https://api.sendgrid.com` (`https://api.eu.sendgrid.com` for EU regional subusers). */
  baseUrl?: string;
}

/**
 * Twilio SendGrid v3 Mail Send: POST /v3/mail/send with a Bearer API key. SendGrid answers 202
 * with an empty body and the message id in the X-Message-Id header; errors carry
 * `{errors: [{message, field, help}]}`. SendGrid has no idempotency key: Herald's id travels as the
 * X-Herald-Message-Id header and the `herald_message_id` custom arg (echoed in event webhooks).
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
 */
export const sendgrid: ProviderDefinition<'email', SendGridConfig> = {
  provider: 'sendgrid',
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
  urlSchemes: ['sendgrid'],
  // sendgrid://{apikey}:{from_user}@{from_domain}/{targets…}: targets are ignored (Herald sends to
  // the subscriber).
  fromUrl(url) {
    const apiKey = decodeURIComponent(url.username);
    const user = decodeURIComponent(url.password);
    if (!apiKey || !user || !url.hostname) throw new Error('expected sendgrid://{apikey}:{from_user}@{from_domain}');
    return { apiKey, from: `${user}@${url.hostname}` };
  },
  create(config, context) {
    const url = endpoint(config.baseUrl, 'https://api.sendgrid.com', '/v3/mail/send');
    const from = senderOf(config.from, context);
    const fromObject = from.name ? { email: from.address, name: from.name } : { email: from.address };
    return {
      async send(message, signal) {
        const to = message.toName ? { email: message.to, name: message.toName } : { email: message.to };
        // SendGrid requires text/plain before text/html.
        const content = [{ type: 'text/plain', value: message.text }];
        if (message.html) content.push({ type: 'text/html', value: message.html });
        let response;
        try {
          response = await context.http.request({
            url,
            headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              personalizations: [{ to: [to] }],
              from: fromObject,
              subject: message.subject,
              content,
              headers: apiHeaders(message),
              custom_args: { herald_message_id: message.messageId },
            }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('sendgrid', error);
        }
        if (response.status >= 200 && response.status < 300) {
          return sentOutcome('sendgrid', response, response.headers['x-message-id']);
        }
        const body = parseJson(response) as { errors?: { message?: string; field?: string | null }[] } | undefined;
        const detail = Array.isArray(body?.errors)
          ? body.errors
              .filter((error) => error?.message)
              .map((error) => (error.field ? `${error.message} (${error.field})` : error.message))
              .join('; ') || undefined
          : undefined;
        return outcomeForStatus('sendgrid', response, context.now(), { detail });
      },
    };
  },
};
