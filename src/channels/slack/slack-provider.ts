import { Type } from 'typebox';
import { outcomeForFailure, parseJson, sentOutcome } from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ChatMessage, ProviderContext, ProviderDefinition, ProviderOutcome } from '../provider.js';
import { apiErrorOutcome, apiStatusOutcome, webhookErrorOutcome, type SlackApiAnswer } from './slack-errors.js';
import { slackConfigFromUrl, type SlackConfig } from './slack-url.js';
import { HTTP } from '../outbound/ssrf.js';

const SLACK_API = 'https://slack.com';

/** A destination that is a URL is an incoming webhook; anything else is a channel (or user) id. */
function isWebhook(destination: string): boolean {
  return /^https?:\/\//i.test(destination);
}

/** Slack shows `text` in notifications and as the fallback when there are blocks. */
function messageFields(message: ChatMessage): { text: string; blocks?: unknown[] } {
  return message.blocks && message.blocks.length > 0
    ? { text: message.text, blocks: message.blocks }
    : { text: message.text };
}

/**
 * Slack, two ways, chosen per message by its destination:
 * - an incoming webhook URL: POST `{text, blocks?}`; Slack answers 200 `ok`, or a status with a
 *   bare error code as the body (400 invalid_payload, 403 action_prohibited, 404 no_service,
 *   410 channel_is_archived, 429 with Retry-After). Webhooks give no message id.
 *   https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
 * - a channel id: chat.postMessage with the bot token. Slack answers HTTP 200 for most errors,
 *   with `{ok: false, error}`; the `error` string decides retry or fail (slack-errors.ts). The
 *   message's `ts` is its id. Rate limits come as HTTP 429 with Retry-After.
 *   https://docs.slack.dev/reference/methods/chat.postMessage
 */
export const slack: ProviderDefinition<'chat', SlackConfig> = {
  provider: 'slack',
  channel: 'chat',
  address: 'chat',
  configSchema: Type.Object(
    {
      botToken: Type.Optional(Type.String({ minLength: 1 })),
      webhookUrl: Type.Optional(Type.String({ format: 'uri' })),
      channel: Type.Optional(Type.String({ minLength: 1 })),
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['botToken', 'webhookUrl'],
  destinationFields: ['baseUrl'],
  urlFields: { webhookUrl: HTTP, baseUrl: HTTP },
  urlSchemes: ['slack'],
  fromUrl: slackConfigFromUrl,
  chatKey: 'slack',
  defaultDestination: (config) => config.webhookUrl ?? config.channel,
  create(config, context) {
    const postMessageUrl = endpoint(config.baseUrl, SLACK_API, '/api/chat.postMessage');
    return {
      send(message, signal) {
        if (isWebhook(message.destination)) return postToWebhook(context, message, signal);
        if (!config.botToken) {
          return Promise.resolve({
            status: 'failed',
            reason:
              `slack: "${message.destination}" is a channel id, and posting to a channel needs a bot token ` +
              '(chat.postMessage): set botToken on the integration, or give an incoming webhook URL instead',
          });
        }
        return postWithBot(context, postMessageUrl, config.botToken, message, signal);
      },
    };
  },
};

async function postToWebhook(
  context: ProviderContext,
  message: ChatMessage,
  signal: AbortSignal,
): Promise<ProviderOutcome> {
  let response;
  try {
    response = await context.http.request({
      url: message.destination,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(messageFields(message)),
      signal,
    });
  } catch (error) {
    return outcomeForFailure('slack', error);
  }
  if (response.status >= 200 && response.status < 300) {
    return { status: 'sent', detail: `slack: HTTP ${response.status} (incoming webhooks give no message id)` };
  }
  return webhookErrorOutcome(response, context.now());
}

async function postWithBot(
  context: ProviderContext,
  url: string,
  botToken: string,
  message: ChatMessage,
  signal: AbortSignal,
): Promise<ProviderOutcome> {
  let response;
  try {
    response = await context.http.request({
      url,
      headers: {
        authorization: `Bearer ${botToken}`,
        // Without the charset Slack answers with a missing_charset warning.
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify({ channel: message.destination, ...messageFields(message) }),
      signal,
    });
  } catch (error) {
    return outcomeForFailure('slack', error);
  }
  const answer = parseJson(response) as SlackApiAnswer | undefined;
  if (response.status < 200 || response.status >= 300) return apiStatusOutcome(response, answer, context.now());
  // A 2xx whose body cannot be read still means Slack has the message: only an explicit
  // `ok: false` is a refusal.
  if (answer?.ok === false) return apiErrorOutcome(response, answer, context.now());
  return sentOutcome('slack', response, typeof answer?.ts === 'string' ? answer.ts : undefined);
}
