import { Type } from 'typebox';
import { apiHeaders } from '../email/compose-email.js';
import { FromField, mailboxText, senderFromUrl, senderOf } from '../email/sender.js';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition } from '../provider.js';
import { signRequest } from './aws-sigv4.js';
import { HTTP } from '../outbound/ssrf.js';

interface SesConfig {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** `addr` or `Name <addr>`; HERALD_EMAIL_FROM when absent. */
  from?: string;
  /** Default `https://email.{region}.amazonaws.com`. */
  baseUrl?: string;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Errors about the account rather than this message (quota, paused or suspended sending, an
 * unverified MAIL FROM domain): retried like a 401/403, so messages wait for the account to be fixed.
 */
const ACCOUNT_ERRORS = new Set([
  'LimitExceededException',
  'SendingPausedException',
  'AccountSuspendedException',
  'MailFromDomainNotVerifiedException',
]);

/** SES tag values allow only these characters; ids outside them go without the tag. */
const TAG_VALUE = /^[\w-]{1,256}$/;

/** The error type from `x-amzn-ErrorType` (`MessageRejected:http://…`) or the body's `__type`. */
function errorType(header: string | undefined, body: { __type?: string; code?: string } | undefined): string {
  const raw = String(header ?? body?.__type ?? body?.code ?? '');
  return raw.split(':')[0]!.split('#').at(-1)!;
}

/**
 * Amazon SES API v2 SendEmail: POST /v2/email/outbound-emails with a Simple message, signed with
 * AWS Signature Version 4 (service `ses`). SES answers 200 `{MessageId}`; errors carry their type in
 * `x-amzn-ErrorType` and `{message}` in the body. SES replaces Message-ID with its own, so Herald's
 * id travels as the X-Herald-Message-Id header and the `herald_message_id` email tag.
 * https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
 */
export const ses: ProviderDefinition<'email', SesConfig> = {
  provider: 'ses',
  channel: 'email',
  address: 'email',
  configSchema: Type.Object(
    {
      region: Type.String({ pattern: REGION.source }),
      accessKeyId: Type.String({ minLength: 1 }),
      secretAccessKey: Type.String({ minLength: 1 }),
      sessionToken: Type.Optional(Type.String({ minLength: 1 })),
      from: FromField,
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['secretAccessKey', 'sessionToken'],
  destinationFields: ['region', 'baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['ses'],
  // ses://{from_user}@{from_domain}/{access_key_id}/{secret_access_key}/{region}/{targets…}
  // The secret may hold slashes: it runs until the segment that is a region. Targets are ignored
  // (Herald sends to the subscriber); ?from=, ?name=, ?access=, ?secret=, ?region= override.
  fromUrl(url) {
    const query = url.searchParams;
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const firstSegment = segments.shift();
    const accessKeyId = query.get('access') || firstSegment;
    const regionAt = segments.findIndex((segment) => REGION.test(segment.toLowerCase()));
    const secretAccessKey = query.get('secret') || (regionAt === -1 ? segments : segments.slice(0, regionAt)).join('/');
    const region = (query.get('region') || segments[regionAt])?.toLowerCase();
    const from = senderFromUrl(url, decodeURIComponent(url.username));
    if (!accessKeyId || !secretAccessKey || !region || !REGION.test(region) || !from) {
      throw new Error('expected ses://{from_user}@{from_domain}/{access_key_id}/{secret_access_key}/{region}');
    }
    return { region, accessKeyId, secretAccessKey, from };
  },
  create(config, context) {
    const url = endpoint(config.baseUrl, `https://email.${config.region}.amazonaws.com`, '/v2/email/outbound-emails');
    const from = mailboxText(senderOf(config.from, context));
    const credentials = {
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      sessionToken: config.sessionToken,
    };
    return {
      async send(message, signal) {
        const body = JSON.stringify({
          FromEmailAddress: from,
          Destination: { ToAddresses: [mailboxText({ address: message.to, name: message.toName })] },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: message.text, Charset: 'UTF-8' },
                ...(message.html && { Html: { Data: message.html, Charset: 'UTF-8' } }),
              },
              Headers: Object.entries(apiHeaders(message)).map(([Name, Value]) => ({ Name, Value })),
            },
          },
          ...(TAG_VALUE.test(message.messageId) && {
            EmailTags: [{ Name: 'herald_message_id', Value: message.messageId }],
          }),
        });
        let response;
        try {
          const headers = signRequest(
            { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
            credentials,
            { region: config.region, service: 'ses' },
            new Date(context.now()),
          );
          response = await context.http.request({ url, headers, body, signal });
        } catch (error) {
          return outcomeForFailure('ses', error);
        }
        const answer = parseJson(response) as
          { MessageId?: string; message?: string; Message?: string; __type?: string; code?: string } | undefined;
        if (response.status >= 200 && response.status < 300) return sentOutcome('ses', response, answer?.MessageId);
        const type = errorType(response.headers['x-amzn-errortype'], answer);
        const text = answer?.message ?? answer?.Message;
        const detail = text ? (type ? `${type}: ${text}` : text) : type || undefined;
        const outcome = outcomeForStatus('ses', response, context.now(), { detail });
        return outcome.status === 'failed' && ACCOUNT_ERRORS.has(type)
          ? { status: 'retry', reason: outcome.reason }
          : outcome;
      },
    };
  },
};
