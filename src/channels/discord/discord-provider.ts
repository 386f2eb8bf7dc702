import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson, sentOutcome } from '../outbound/classify-response.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface DiscordConfig {
  /** A fixed channel webhook, used for subscribers without `chat.discord`. */
  webhookUrl?: string;
}

/**
 * Discord channel webhooks: POST {webhook}?wait=true with `{content}` (2,000 characters at most).
 * With wait=true Discord answers 200 with the created message, whose `id` is logged. Errors carry
 * `{code, message}`; 429 carries `retry_after` seconds and a Retry-After header.
 * https://discord.com/developers/docs/resources/webhook#execute-webhook
 */
export const discord: ProviderDefinition<'chat', DiscordConfig> = {
  provider: 'discord',
  channel: 'chat',
  address: 'chat',
  configSchema: Type.Object(
    { webhookUrl: Type.Optional(Type.String({ format: 'uri' })) },
    { additionalProperties: false },
  ),
  secretFields: ['webhookUrl'],
  destinationFields: [],
  urlFields: { webhookUrl: HTTP },
  urlSchemes: ['discord'],
  // discord://{webhook_id}/{webhook_token}
  fromUrl(url) {
    const id = url.hostname;
    const token = url.pathname.split('/').filter(Boolean)[0];
    if (!id || !token) throw new Error('expected discord://{webhook_id}/{webhook_token}');
    return { webhookUrl: `https://discord.com/api/webhooks/${id}/${token}` };
  },
  chatKey: 'discord',
  defaultDestination: (config) => config.webhookUrl,
  create(_config, context) {
    return {
      async send(message, signal) {
        const url = new URL(message.destination);
        url.searchParams.set('wait', 'true');
        let response;
        try {
          response = await context.http.request({
            url: url.toString(),
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ content: message.text.slice(0, 2000), allowed_mentions: { parse: [] } }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('discord', error);
        }
        const body = parseJson(response) as { id?: string; message?: string; code?: number } | undefined;
        if (response.status >= 200 && response.status < 300) return sentOutcome('discord', response, body?.id);
        const detail = body?.message ? `${body.message}${body.code ? ` (code ${body.code})` : ''}` : undefined;
        return outcomeForStatus('discord', response, context.now(), { detail });
      },
    };
  },
};
