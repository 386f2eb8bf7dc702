import { Type } from 'typebox';
import { HTTP } from '../outbound/ssrf.js';
import type { ProviderDefinition } from '../provider.js';
import { sendWebhook } from './send-webhook.js';
import type { WebhookSecret } from './sign-webhook.js';

/** The webhook integration's config once opened: the default URL and the signing secrets (sealed). */
export interface WebhookConfig {
  url?: string;
  secrets?: WebhookSecret[];
}

/**
 * Herald's own webhooks: a signed JSON POST (Standard Webhooks) to the step's URL, the
 * subscriber's `webhookUrl` or the integration's `url`. Each URL's origin is a receiver with its
 * own breaker and slots (core/delivery-policy.ts, guardOf), and the webhook channel has this one
 * provider. The API takes `secret` and `url`; integration-input.ts (webhookConfig) turns them into
 * the stored config, generating a secret when none is given and keeping the rotated-out one for
 * a day (POST /v1/integrations/{id}/rotate-secret).
 */
export const webhook: ProviderDefinition<'webhook', WebhookConfig> = {
  provider: 'webhook',
  channel: 'webhook',
  address: 'url',
  defaultDestination: (config) => config.url,
  configSchema: Type.Object(
    {
      secret: Type.Optional(Type.String({ minLength: 1 })),
      url: Type.Optional(Type.String({ format: 'uri' })),
    },
    { additionalProperties: false },
  ),
  secretFields: ['secret'],
  // The signing secret goes in a header to whichever URL a step names: it is bound to no field.
  destinationFields: [],
  urlFields: { url: HTTP },
  create(config, context) {
    const secrets = config.secrets ?? [];
    const deps = { http: context.http, clock: context };
    return {
      send: (message, signal) => sendWebhook(deps, secrets, message.messageId, message.url, message.body, signal),
    };
  },
};
