import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { HeraldError } from '../core/errors.js';
import type { IntegrationInput } from '../core/integrations.js';
import type { ChannelType } from '../core/types.js';
import { fieldErrorsOf } from '../core/validation-errors.js';
import { HTTP, vetUrl, type AddressPolicy, type OutboundProtocol } from './outbound/ssrf.js';
import type { ProviderDefinition } from './provider.js';
import { findProvider, PROVIDERS, providerForScheme } from './registry.js';
import { generateWebhookSecret, isWebhookSecret, type WebhookSecret } from './webhook/sign-webhook.js';

export const WEBHOOK_PROVIDER = 'webhook';
/** `secret`: the signing secret (generated when absent); `url`: where webhook steps POST when neither the step nor the subscriber names a URL. */
const WEBHOOK_CONFIG_FIELDS = ['secret', 'url'];

// `verbose`: the error messages read the failing schema (known fields, allowed values).
const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, verbose: true });
addFormats.default(ajv);
const validators = new Map<ProviderDefinition, ReturnType<typeof ajv.compile>>();

/** Checks a provider's config against its schema; throws 422 naming each field. */
export function validateProviderConfig(definition: ProviderDefinition, config: Record<string, unknown>): void {
  let validate = validators.get(definition);
  if (!validate) {
    validate = ajv.compile(definition.configSchema);
    validators.set(definition, validate);
  }
  if (!validate(config)) {
    const errors = fieldErrorsOf(validate.errors ?? [], { prefix: '/config' });
    throw new HeraldError(
      'VALIDATION_FAILED',
      `Invalid ${definition.provider} config: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      errors,
    );
  }
}

/** `••••` plus the last 4 characters of longer strings: enough to tell two keys apart. */
export function mask(value: unknown): string {
  if (typeof value === 'string' && value.length >= 16) return `••••${value.slice(-4)}`;
  return '••••';
}

/** The providers of a channel, for errors that name the choices. */
const providersOf = (channel: ChannelType) =>
  PROVIDERS.filter((definition) => definition.channel === channel).map((definition) => definition.provider);

/** The Apprise-style URL schemes Herald reads (of a channel, when given), for errors that name the choices. */
const schemesOf = (channel?: ChannelType) => [
  ...PROVIDERS.filter((definition) => !channel || definition.channel === channel).flatMap((definition) =>
    (definition.urlSchemes ?? []).map((scheme) => `${scheme}://`),
  ),
  ...(!channel || channel === 'webhook' ? ['json://', 'jsons://'] : []),
];

/** Apprise writes Telegram's `bot_id:token` as host:port, which is not a URL: make it one. */
function normaliseAppriseUrl(raw: string): string {
  return raw.replace(/^tgram:\/\/(bot)?(\d+):/i, 'tgram://$1$2/');
}

/** Provider and config from the input: either `url` (Apprise style) or `provider` + `config`. */
export function resolveIntegrationInput(input: IntegrationInput): {
  channel: ChannelType;
  provider: string;
  config: Record<string, unknown>;
  definition?: ProviderDefinition;
} {
  if (input.url !== undefined) {
    if (input.config !== undefined) {
      throw new HeraldError('VALIDATION_FAILED', 'Give either url or config, not both', [
        { path: '/url', message: 'cannot be combined with config' },
      ]);
    }
    let url: URL;
    try {
      url = new URL(normaliseAppriseUrl(input.url));
    } catch {
      throw new HeraldError('VALIDATION_FAILED', 'url is not a URL', [{ path: '/url', message: 'is not a URL' }]);
    }
    // Apprise's json:// and jsons:// POST JSON to one URL: Herald's webhook channel, signed.
    if ((url.protocol === 'json:' || url.protocol === 'jsons:') && (!input.channel || input.channel === 'webhook')) {
      let target: URL;
      try {
        target = new URL(input.url.replace(/^jsons?:/i, url.protocol === 'jsons:' ? 'https:' : 'http:'));
      } catch {
        // json:// is lenient about hosts that http:// refuses (`json://%zz/`).
        throw new HeraldError('VALIDATION_FAILED', 'url does not name a valid host', [
          { path: '/url', message: 'does not name a valid host' },
        ]);
      }
      return { channel: 'webhook', provider: WEBHOOK_PROVIDER, config: { url: target.toString() } };
    }
    const definition = providerForScheme(url.protocol);
    if (!definition || (input.channel && definition.channel !== input.channel)) {
      throw new HeraldError(
        'VALIDATION_FAILED',
        `No ${input.channel ?? ''} provider reads ${url.protocol}// URLs`.replace('  ', ' '),
        [
          {
            path: '/url',
            message: `unsupported scheme ${url.protocol}; one of ${schemesOf(input.channel).join(', ')}`,
          },
        ],
      );
    }
    if (input.provider && input.provider !== definition.provider) {
      throw new HeraldError('VALIDATION_FAILED', `${url.protocol}// is a ${definition.provider} URL`, [
        { path: '/provider', message: `does not match the url (${definition.provider})` },
      ]);
    }
    try {
      return {
        channel: definition.channel,
        provider: definition.provider,
        config: { ...definition.fromUrl!(url) },
        definition,
      };
    } catch (error) {
      throw new HeraldError('VALIDATION_FAILED', `url: ${(error as Error).message}`, [
        { path: '/url', message: (error as Error).message },
      ]);
    }
  }
  if (!input.channel || !input.provider) {
    throw new HeraldError('VALIDATION_FAILED', 'Give channel and provider (with config), or an Apprise-style url', [
      { path: input.channel ? '/provider' : '/channel', message: 'is required without url' },
    ]);
  }
  if (input.channel === 'webhook') {
    if (input.provider !== WEBHOOK_PROVIDER) {
      throw new HeraldError('VALIDATION_FAILED', 'The webhook channel has one provider: webhook', [
        { path: '/provider', message: 'must be webhook' },
      ]);
    }
    return { channel: 'webhook', provider: WEBHOOK_PROVIDER, config: { ...(input.config ?? {}) } };
  }
  const definition = findProvider(input.channel, input.provider);
  if (!definition) {
    const known = providersOf(input.channel).join(', ');
    throw new HeraldError(
      'VALIDATION_FAILED',
      `No ${input.channel} provider named ${input.provider}; one of ${known}`,
      [{ path: '/provider', message: `unknown ${input.channel} provider; one of ${known}` }],
    );
  }
  return { channel: input.channel, provider: input.provider, config: { ...(input.config ?? {}) }, definition };
}

/** Refuses, with a 422 naming the field, an outbound URL the SSRF guard would refuse. */
function vetConfigUrl(path: string, value: string, policy: AddressPolicy, protocol: OutboundProtocol = HTTP): void {
  try {
    vetUrl(value, policy, protocol);
  } catch (error) {
    // The refusal names the host or address, never the URL: it may hold a password or a token.
    const message = `refused: ${(error as Error).message}`;
    throw new HeraldError('VALIDATION_FAILED', `config.${path.replace(/\//g, '.')}: ${message}`, [
      { path: `/config/${path}`, message },
    ]);
  }
}

/** Vets the config fields a provider declares as outbound URLs when saved, not only when used. */
export function vetConfigUrls(
  definition: ProviderDefinition,
  config: Record<string, unknown>,
  policy: AddressPolicy,
): void {
  for (const [path, protocol] of Object.entries(definition.urlFields)) {
    let value: unknown = config;
    for (const key of path.split('/')) value = (value as Record<string, unknown> | undefined)?.[key];
    if (typeof value === 'string') vetConfigUrl(path, value, policy, protocol);
  }
}

/**
 * A credential is bound to where it is sent. When a save changes a destination field, every
 * stored secret that came back masked (and would otherwise be kept) must be sent again: 422 naming
 * each. `kept` lists the secret fields whose masked value was sent back.
 */
export function requireSecretsForNewDestination(
  definition: ProviderDefinition,
  config: Record<string, unknown>,
  previous: Record<string, unknown>,
  kept: readonly string[],
): void {
  if (kept.length === 0) return;
  const moved = definition.destinationFields.filter((field) => !isDeepStrictEqual(config[field], previous[field]));
  if (moved.length === 0) return;
  const why = `the destination changed (${moved.join(', ')}): send the credential again, not its masked value`;
  throw new HeraldError(
    'VALIDATION_FAILED',
    `Changing ${moved.join(', ')} requires every credential again: ${kept.map((field) => `config.${field}`).join(', ')}`,
    kept.map((field) => ({ path: `/config/${field}`, message: why })),
  );
}

/**
 * The webhook integration's config: `url` (vetted) stays plain; the signing secrets are the given
 * `secret`, else the stored ones (also when the masked value comes back unchanged), else a new one,
 * which is returned as `shown` for the create response (the only time it is shown).
 */
export function webhookConfig(
  config: Record<string, unknown>,
  stored: WebhookSecret[] | undefined,
  policy: AddressPolicy,
): { plain: Record<string, unknown>; secrets: { secrets: WebhookSecret[] }; shown?: string } {
  const unknown = Object.keys(config).filter((key) => !WEBHOOK_CONFIG_FIELDS.includes(key));
  if (unknown.length > 0) {
    throw new HeraldError(
      'VALIDATION_FAILED',
      'The webhook integration takes only config.secret and config.url',
      unknown.map((key) => ({
        path: `/config/${key}`,
        message: `is not a known field; known fields: ${WEBHOOK_CONFIG_FIELDS.join(', ')}`,
      })),
    );
  }
  const plain: Record<string, unknown> = {};
  if (config.url !== undefined) {
    if (typeof config.url !== 'string') {
      throw new HeraldError('VALIDATION_FAILED', 'config.url must be a URL', [
        { path: '/config/url', message: 'must be a URL' },
      ]);
    }
    vetConfigUrl('url', config.url, policy); // also refuses schemes other than http(s)
    plain.url = config.url;
  }
  const given = config.secret;
  if (given !== undefined && !(stored && given === mask(stored[0]?.secret))) {
    if (typeof given !== 'string' || !isWebhookSecret(given)) {
      throw new HeraldError('VALIDATION_FAILED', 'config.secret must be whsec_ followed by 24–64 bytes in base64', [
        { path: '/config/secret', message: 'must be whsec_ + base64 of 24–64 bytes' },
      ]);
    }
    return { plain, secrets: { secrets: [{ secret: given, expiresAt: null }] } };
  }
  if (stored) return { plain, secrets: { secrets: stored } };
  const shown = generateWebhookSecret();
  return { plain, secrets: { secrets: [{ secret: shown, expiresAt: null }] }, shown };
}
