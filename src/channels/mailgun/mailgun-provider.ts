import { Type } from 'typebox';
import { apiHeaders } from '../email/compose-email.js';
import { FromField, mailboxText, senderFromUrl, senderOf } from '../email/sender.js';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface MailgunConfig {
  apiKey: string;
  /** The sending domain registered with Mailgun, e.g. `mg.example.com`. */
  domain: string;
  /** Where the domain lives: `us` (default) or `eu`. */
  region?: 'us' | 'eu';
  /** `addr` or `Name <addr>`; HERALD_EMAIL_FROM when absent. */
  from?: string;
  /** Overrides the region's API host. */
  baseUrl?: string;
}

const REGION_HOSTS = { us: 'https://api.mailgun.net', eu: 'https://api.eu.mailgun.net' } as const;

const DOMAIN = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)+$/;

/**
 * Mailgun Messages API: POST /v3/{domain}/messages, form-encoded, HTTP basic auth `api:{key}`, on
 * the host of the domain's region. Mailgun answers 200 `{id: "<…@domain>", message: "Queued. Thank
 * you."}`; errors carry `{message}` (401 is a bare "Forbidden"). Mailgun has no idempotency key:
 * Herald's id travels as the X-Herald-Message-Id header (`h:`) and the `herald_message_id` variable
 * (`v:`, echoed in webhooks).
 * https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Messages/
 */
export const mailgun: ProviderDefinition<'email', MailgunConfig> = {
  provider: 'mailgun',
  channel: 'email',
  address: 'email',
  configSchema: Type.Object(
    {
      apiKey: Type.String({ minLength: 1 }),
      domain: Type.String({ pattern: DOMAIN.source }),
      region: Type.Optional(Type.Union([Type.Literal('us'), Type.Literal('eu')])),
      from: FromField,
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['apiKey'],
  destinationFields: ['domain', 'region', 'baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['mailgun'],
  // mailgun://{user}@{domain}/{apikey}/{targets…}?region=eu&name=…&from=…: the sender is
  // {user}@{domain} unless ?from= names another; targets are ignored (Herald sends to the subscriber).
  fromUrl(url) {
    const user = decodeURIComponent(url.username);
    const domain = url.hostname;
    const apiKey = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)[0];
    const region = (url.searchParams.get('region') || 'us').toLowerCase();
    if (!user || !domain || !apiKey) throw new Error('expected mailgun://{user}@{domain}/{apikey}');
    if (region !== 'us' && region !== 'eu') throw new Error('mailgun: ?region= must be us or eu');
    return { apiKey, domain, ...(region === 'eu' && { region }), from: senderFromUrl(url, user) };
  },
  create(config, context) {
    const path = `/v3/${encodeURIComponent(config.domain)}/messages`;
    const url = endpoint(config.baseUrl, REGION_HOSTS[config.region ?? 'us'], path);
    const authorization = `Basic ${Buffer.from(`api:${config.apiKey}`).toString('base64')}`;
    const from = mailboxText(senderOf(config.from, context));
    return {
      async send(message, signal) {
        const form = new URLSearchParams({
          from,
          to: mailboxText({ address: message.to, name: message.toName }),
          subject: message.subject,
          text: message.text,
        });
        if (message.html) form.set('html', message.html);
        for (const [name, value] of Object.entries(apiHeaders(message))) form.set(`h:${name}`, value);
        form.set('v:herald_message_id', message.messageId);
        let response;
        try {
          response = await context.http.request({
            url,
            headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
            body: form.toString(),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('mailgun', error);
        }
        const body = parseJson(response) as { id?: string; message?: string } | undefined;
        if (response.status >= 200 && response.status < 300) return sentOutcome('mailgun', response, body?.id);
        return outcomeForStatus('mailgun', response, context.now(), { detail: body?.message || undefined });
      },
    };
  },
};
