import { Type } from 'typebox';
import { outcomeForFailure, outcomeForStatus, parseJson } from '../outbound/classify-response.js';
import type { ProviderDefinition } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface MattermostConfig {
  /** A fixed incoming webhook (https://{server}/hooks/{id}), for subscribers without `chat.mattermost`. */
  webhookUrl?: string;
  /** Display name for the posts; Mattermost ignores it unless its admin lets webhooks override names. */
  username?: string;
}

/**
 * Mattermost incoming webhooks: POST {webhook} with JSON `{text}`. Mattermost answers 200 with
 * the text `ok` (no post id); errors are JSON `{id, message, status_code}`, e.g. 400
 * `web.incoming_webhook.invalid.app_error` for a deleted webhook.
 * https://developers.mattermost.com/integrate/webhooks/incoming/
 */
export const mattermost: ProviderDefinition<'chat', MattermostConfig> = {
  provider: 'mattermost',
  channel: 'chat',
  address: 'chat',
  configSchema: Type.Object(
    {
      webhookUrl: Type.Optional(Type.String({ format: 'uri' })),
      username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
  secretFields: ['webhookUrl'],
  destinationFields: [],
  urlFields: { webhookUrl: HTTP },
  urlSchemes: ['mmost', 'mmosts'],
  // mmost[s]://[{botname}@]{host}[:{port}][/{path}]/{token} → http[s]://{host}[:{port}][/{path}]/hooks/{token}
  fromUrl(url) {
    const segments = url.pathname.split('/').filter(Boolean);
    const token = segments.pop();
    if (!url.hostname || !token) throw new Error('expected mmost[s]://{host}[:{port}][/{path}]/{webhook_token}');
    const query = url.searchParams;
    if (query.get('channel') || query.get('channels') || query.get('to')) {
      // A webhook posts to its own channel unless told otherwise; Herald does not redirect it.
      throw new Error('mmost: channel overrides are not supported; create the webhook in the channel to post to');
    }
    const scheme = url.protocol === 'mmosts:' ? 'https' : 'http';
    const prefix = segments.length ? `/${segments.join('/')}` : '';
    const username = decodeURIComponent(url.username);
    return {
      webhookUrl: `${scheme}://${url.host}${prefix}/hooks/${token}`,
      ...(username && { username }),
    };
  },
  chatKey: 'mattermost',
  defaultDestination: (config) => config.webhookUrl,
  create(config, context) {
    return {
      async send(message, signal) {
        let response;
        try {
          response = await context.http.request({
            url: message.destination,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ text: message.text, ...(config.username && { username: config.username }) }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('mattermost', error);
        }
        // A webhook post has no id to log: the answer is the word "ok".
        if (response.status >= 200 && response.status < 300) {
          return { status: 'sent', detail: `mattermost: HTTP ${response.status}` };
        }
        const body = parseJson(response) as { id?: string; message?: string } | undefined;
        const detail = body?.message ? `${body.message}${body.id ? ` (${body.id})` : ''}` : undefined;
        return outcomeForStatus('mattermost', response, context.now(), { detail });
      },
    };
  },
};
