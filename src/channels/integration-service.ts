import { HeraldError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { IntegrationInput, IntegrationService, IntegrationView } from '../core/integrations.js';
import type { SecretBox } from '../core/secret-box.js';
import type { StoredIntegration, IntegrationStore } from '../core/store.js';
import {
  mask,
  requireSecretsForNewDestination,
  resolveIntegrationInput,
  validateProviderConfig,
  vetConfigUrls,
  webhookConfig,
} from './integration-input.js';
import { sealedFor, type IntegrationDirectory } from './integration-directory.js';
import type { HttpClient } from './outbound/http-client.js';
import type { AddressPolicy } from './outbound/ssrf.js';
import type { ProviderOutcome } from './provider.js';
import { findProvider } from './registry.js';
import { testMessage } from './test-message.js';
import { generateWebhookSecret, ROTATION_OVERLAP_MS, type WebhookSecret } from './webhook/sign-webhook.js';

export interface IntegrationServiceDeps {
  store: IntegrationStore;
  directory: IntegrationDirectory;
  secretBox: SecretBox;
  http: HttpClient;
  clock: { now(): number };
  policy: AddressPolicy & { timeoutMs: number };
  fromEnvironment: readonly Omit<StoredIntegration, 'environmentId'>[];
}

export function createIntegrationService(deps: IntegrationServiceDeps): IntegrationService {
  const { store, directory, clock } = deps;

  const environmentOne = (env: string, id: string) => {
    const found = deps.fromEnvironment.find((integration) => integration.id === id);
    return found ? { ...found, environmentId: env } : undefined;
  };

  function view(integration: StoredIntegration, source: IntegrationView['source']): IntegrationView {
    const definition = findProvider(integration.channel, integration.provider);
    const isWebhook = integration.channel === 'webhook';
    const secretNames = isWebhook ? ['secret'] : (definition?.secretFields ?? []);
    const config: Record<string, unknown> = { ...integration.config };
    // Environment integrations hold their credentials in config; stored ones hold them sealed.
    for (const name of secretNames) if (config[name] !== undefined) config[name] = mask(config[name]);
    if (integration.sealedSecrets !== null) {
      // Show which credentials are set (and their last characters), never what they are; if they
      // cannot be opened (another HERALD_SECRET_KEY), show that they are set.
      const opened = safeOpen(integration);
      for (const name of secretNames) {
        const value = isWebhook ? (opened?.secrets as WebhookSecret[] | undefined)?.[0]?.secret : opened?.[name];
        if (opened === undefined || value !== undefined) config[name] = mask(value);
      }
    }
    return {
      id: integration.id,
      channel: integration.channel,
      provider: integration.provider,
      config,
      priority: integration.priority === Number.MAX_SAFE_INTEGER ? 1_000_000 : integration.priority,
      enabled: integration.enabled,
      rateLimit: integration.rateLimit,
      circuit: integration.circuit,
      source,
      createdAt: integration.createdAt,
      updatedAt: integration.updatedAt,
    };
  }

  function safeOpen(integration: StoredIntegration): Record<string, unknown> | undefined {
    try {
      return directory.openConfig(integration);
    } catch {
      return undefined;
    }
  }

  function seal(env: string, id: string, secrets: Record<string, unknown>): string | null {
    if (Object.keys(secrets).length === 0) return null;
    return deps.secretBox.seal(JSON.stringify(secrets), sealedFor({ environmentId: env, id }));
  }

  async function stored(env: string, id: string): Promise<StoredIntegration> {
    const integration = await store.getIntegration(env, id);
    if (!integration) throw new HeraldError('INTEGRATION_NOT_FOUND', `No integration with id ${JSON.stringify(id)}`);
    return integration;
  }

  function refuseEnvironment(env: string, id: string): void {
    if (environmentOne(env, id)) {
      throw new HeraldError(
        'INTEGRATION_READ_ONLY',
        `${id} comes from HERALD_SMTP_URL; change the environment variable`,
      );
    }
  }

  return {
    async put(env, id, input) {
      refuseEnvironment(env, id);
      const { channel, provider, config, definition } = resolveIntegrationInput(input);
      const existing = await store.getIntegration(env, id);
      const previous =
        existing && existing.channel === channel && existing.provider === provider ? safeOpen(existing) : undefined;
      const now = clock.now();
      let secrets: Record<string, unknown> = {};
      const plain: Record<string, unknown> = {};
      let shownSecret: string | undefined;

      if (channel === 'webhook') {
        const webhook = fromAppriseUrl(input, () =>
          webhookConfig(config, previous?.secrets as WebhookSecret[] | undefined, deps.policy),
        );
        Object.assign(plain, webhook.plain);
        secrets = webhook.secrets;
        shownSecret = webhook.shown;
      } else {
        // A masked value sent back unchanged (GET, edit, PUT) keeps the stored credential, as long
        // as the integration still sends where it did.
        const kept = definition!.secretFields.filter(
          (field) => previous && config[field] !== undefined && config[field] === mask(previous[field]),
        );
        if (previous) requireSecretsForNewDestination(definition!, config, previous, kept);
        for (const field of kept) config[field] = previous![field];
        validateProviderConfig(definition!, config);
        fromAppriseUrl(input, () => vetConfigUrls(definition!, config, deps.policy));
        for (const [key, value] of Object.entries(config)) {
          if (definition!.secretFields.includes(key)) secrets[key] = value;
          else plain[key] = value;
        }
        try {
          definition!
            .create(config as never, { ...nullContext(deps) })
            .close?.()
            .catch(() => undefined);
        } catch (error) {
          throw new HeraldError('VALIDATION_FAILED', `Invalid ${provider} config: ${(error as Error).message}`, [
            { path: '/config', message: (error as Error).message },
          ]);
        }
      }
      const integration: StoredIntegration = {
        environmentId: env,
        id,
        channel,
        provider,
        config: plain,
        sealedSecrets: seal(env, id, secrets),
        priority: input.priority ?? 0,
        enabled: input.enabled ?? true,
        rateLimit: input.rateLimit ?? null,
        circuit: null,
        createdAt: now,
        updatedAt: now,
      };
      const result = await store.putIntegration(integration);
      directory.invalidate(env);
      return { view: view(result.integration, 'api'), created: result.created, secret: shownSecret };
    },

    async get(env, id) {
      const fromEnvironment = environmentOne(env, id);
      if (fromEnvironment) return view(fromEnvironment, 'environment');
      return view(await stored(env, id), 'api');
    },

    async list(env) {
      const views = (await store.listIntegrations(env)).map((integration) => view(integration, 'api'));
      for (const integration of deps.fromEnvironment)
        views.push(view({ ...integration, environmentId: env }, 'environment'));
      return views;
    },

    async remove(env, id) {
      refuseEnvironment(env, id);
      if (!(await store.deleteIntegration(env, id))) {
        throw new HeraldError('INTEGRATION_NOT_FOUND', `No integration with id ${JSON.stringify(id)}`);
      }
      directory.invalidate(env);
    },

    async rotateSecret(env, id) {
      const integration = await stored(env, id);
      if (integration.channel !== 'webhook') {
        throw new HeraldError('VALIDATION_FAILED', 'Only the webhook integration has a signing secret to rotate', [
          { path: '/id', message: `is a ${integration.channel} integration` },
        ]);
      }
      const now = clock.now();
      const opened = directory.openConfig(integration);
      const secret = generateWebhookSecret();
      const old = ((opened.secrets ?? []) as WebhookSecret[])
        .filter((entry) => entry.expiresAt === null || entry.expiresAt > now)
        .map((entry) => ({
          secret: entry.secret,
          expiresAt: Math.min(entry.expiresAt ?? Infinity, now + ROTATION_OVERLAP_MS),
        }));
      const next: StoredIntegration = {
        ...integration,
        sealedSecrets: seal(env, id, { secrets: [{ secret, expiresAt: null }, ...old] }),
        updatedAt: now,
      };
      const result = await store.putIntegration(next);
      directory.invalidate(env);
      return { view: view(result.integration, 'api'), secret };
    },

    async test(env, id, to, text) {
      const integration = environmentOne(env, id) ?? (await stored(env, id));
      const live = directory.build(integration);
      if (live.unusable) return { status: 'failed', detail: live.unusable, providerMessageId: null };
      const messageId = newId('msg');
      const body = text ?? 'Test message from Herald';
      const signal = AbortSignal.timeout(deps.policy.timeoutMs);
      let outcome: ProviderOutcome;
      try {
        const message = testMessage(integration.channel, live.definition!, live.config, {
          integrationId: id,
          messageId,
          environmentId: env,
          to,
          text: body,
        });
        outcome = await live.instance!.send(message as never, signal);
      } finally {
        await live.instance?.close?.().catch(() => undefined);
      }
      return {
        status: outcome.status,
        detail: outcome.status === 'sent' ? (outcome.detail ?? 'accepted') : outcome.reason,
        providerMessageId: outcome.status === 'sent' ? (outcome.providerMessageId ?? null) : null,
      };
    },
  };
}

/** Runs a config check; when the config came from an Apprise URL, a refusal names `/url`, the field given. */
function fromAppriseUrl<T>(input: IntegrationInput, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (input.url === undefined || !(error instanceof HeraldError)) throw error;
    const message = error.errors?.[0]?.message ?? error.message;
    throw new HeraldError('VALIDATION_FAILED', `url: ${message}`, [{ path: '/url', message }]);
  }
}

/**
 * A provider context for config checks at save time: builds the adapter, sends nothing. Its
 * clients are the shared one with close() disarmed: the adapter is closed right after, and must
 * not close the client every other provider sends through.
 */
function nullContext(deps: IntegrationServiceDeps) {
  const shared = { request: deps.http.request.bind(deps.http), close: async () => {} };
  return {
    http: shared,
    createHttpClient: () => shared,
    openSocket: () => Promise.reject(new Error('a config check opens no connection')),
    emailFrom: { address: 'herald@localhost.localdomain' },
    now: () => deps.clock.now(),
  };
}
