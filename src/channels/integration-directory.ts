import { standingIntegration } from '../core/integrations.js';
import type { Logger } from 'pino';
import type { SecretBox } from '../core/secret-box.js';
import type { CircuitSnapshot, StoredIntegration, IntegrationStore } from '../core/store.js';
import type { ChannelType } from '../core/types.js';
import { CircuitBreaker, type BreakerOptions } from '../core/circuit-breaker.js';
import { DestinationGate, type Destination } from './destination-gate.js';
import type { ProviderContext, ProviderDefinition, ProviderInstance } from './provider.js';
import { RateLimiter } from '../core/rate-limiter.js';
import { BUILT_IN_PROVIDERS, findProvider } from './registry.js';

/** An integration ready to send: its provider built, its breaker and rate limiter kept per process. */
export interface LiveIntegration {
  id: string;
  environmentId: string;
  channel: ChannelType;
  provider: string;
  /** Config with the credentials opened. */
  config: Record<string, unknown>;
  definition: ProviderDefinition | undefined;
  instance: ProviderInstance | undefined;
  /** Why it cannot be used (credentials do not open, config no longer valid); skipped then. */
  unusable: string | undefined;
  breaker: CircuitBreaker;
  /** Sends this process has in flight through it, at most --destination-concurrency. */
  gate: DestinationGate;
  limiter: RateLimiter | undefined;
  /** A provider's Retry-After: skipped until then. */
  pausedUntil: number;
  /** The integration as a destination of its own sends (its breaker and slots), made once. */
  destination: Destination;
  /** A built-in provider standing in for the channel's integrations (the dev mailbox): no integration of the environment's. */
  builtIn: boolean;
}

export interface IntegrationDirectoryDeps {
  store: Pick<IntegrationStore, 'listIntegrations' | 'recordCircuit'>;
  secretBox: SecretBox;
  providerContext: ProviderContext;
  breaker: BreakerOptions;
  /** Sends one integration may hold at once (--destination-concurrency). */
  destinationConcurrency: number;
  clock: { now(): number };
  logger: Logger;
  /** Told of every breaker state change (metrics, logs); the directory stores it itself. */
  onCircuitChange?(
    integration: { environmentId: string; id: string; provider: string },
    snapshot: CircuitSnapshot,
  ): void;
  /** Integrations configured outside the database (HERALD_SMTP_URL), tried after the stored ones. */
  fromEnvironment: readonly Omit<StoredIntegration, 'environmentId'>[];
}

export interface IntegrationDirectory {
  /** The environment's enabled integrations of a channel, in priority order. */
  forChannel(environmentId: string, channel: ChannelType): Promise<LiveIntegration[]>;
  /** Drops the cached list of an environment (after a change through this process's API). */
  invalidate(environmentId: string): void;
  /** Opens an integration's sealed credentials into its full config. */
  openConfig(integration: StoredIntegration): Record<string, unknown>;
  /** Builds a one-off provider for a stored integration (POST /v1/integrations/{id}/test). */
  build(integration: StoredIntegration): LiveIntegration;
  /** The built-in providers of a channel (registry.ts, BUILT_IN_PROVIDERS), built once and shared by every environment. */
  builtIns(channel: ChannelType): readonly LiveIntegration[];
  close(): Promise<void>;
}

/** Changes made by another process reach this one within this long. */
const CACHE_TTL_MS = 2_000;
/** Sends still running on a replaced provider get this long before its connections close. */
const RETIRE_AFTER_MS = 60_000;

/** Where the associated data of an integration's sealed credentials comes from. */
export function sealedFor(integration: { environmentId: string; id: string }): string {
  return `integration:${integration.environmentId}/${integration.id}`;
}

/**
 * Loads integrations per environment (cached briefly), opens their credentials, builds their
 * providers once per version (`updatedAt`), and keeps each one's breaker and rate limiter.
 */
export function createIntegrationDirectory(deps: IntegrationDirectoryDeps): IntegrationDirectory {
  /** Per environment: its enabled integrations by channel, in priority order. */
  const lists = new Map<string, { at: number; loading: Promise<Map<ChannelType, LiveIntegration[]>> }>();
  const live = new Map<string, { version: string; integration: LiveIntegration }>();
  // Two saves within one millisecond share updatedAt: the version is the whole stored row.
  const versionOf = (integration: StoredIntegration) => JSON.stringify({ ...integration, circuit: null });

  const trustedIds = new Set(deps.fromEnvironment.map((integration) => integration.id));
  const trustedContext: ProviderContext = { ...deps.providerContext, openSocket: null };

  function openConfig(stored: StoredIntegration): Record<string, unknown> {
    if (stored.sealedSecrets === null) return { ...stored.config };
    const secrets = JSON.parse(deps.secretBox.open(stored.sealedSecrets, sealedFor(stored))) as Record<string, unknown>;
    return { ...stored.config, ...secrets };
  }

  /**
   * Stores each state change for the API of every process, one write at a time per integration:
   * half-open and closed come a few milliseconds apart, and two concurrent writes could land in
   * the wrong order. (An environment integration has no row; its writes change nothing.)
   */
  const circuitWrites = new Map<string, Promise<void>>();
  function recordCircuit(integration: StoredIntegration, snapshot: CircuitSnapshot): void {
    const key = `${integration.environmentId}/${integration.id}`;
    const write = (circuitWrites.get(key) ?? Promise.resolve())
      .then(() => deps.store.recordCircuit(integration.environmentId, integration.id, snapshot))
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not record an integration circuit state'));
    circuitWrites.set(key, write);
    void write.finally(() => {
      if (circuitWrites.get(key) === write) circuitWrites.delete(key);
    });
  }

  function build(
    stored: StoredIntegration,
    definition = findProvider(stored.channel, stored.provider),
  ): LiveIntegration {
    const breaker = new CircuitBreaker(deps.breaker, (snapshot) => {
      deps.onCircuitChange?.(stored, snapshot);
      recordCircuit(stored, snapshot);
    });
    const gate = new DestinationGate(deps.destinationConcurrency, () => deps.clock.now());
    const integration: LiveIntegration = {
      id: stored.id,
      environmentId: stored.environmentId,
      channel: stored.channel,
      provider: stored.provider,
      config: {},
      definition,
      instance: undefined,
      unusable: undefined,
      breaker,
      gate,
      limiter: stored.rateLimit ? new RateLimiter(stored.rateLimit, deps.clock.now()) : undefined,
      pausedUntil: 0,
      destination: { name: stored.id, breaker, gate },
      builtIn: false,
    };
    try {
      integration.config = openConfig(stored);
      if (!definition) throw new Error(`no ${stored.channel} provider named ${stored.provider}`);
      // Integrations an operator configured (HERALD_SMTP_URL) are trusted: no SSRF guard on them.
      const context = trustedIds.has(stored.id) ? trustedContext : deps.providerContext;
      integration.instance = definition.create(integration.config, context) as ProviderInstance;
    } catch (error) {
      integration.unusable = (error as Error).message;
      deps.logger.warn({ integration: stored.id, err: error }, 'integration cannot be used');
    }
    return integration;
  }

  /** Replaced or deleted providers waiting to close; close() ends them at once. */
  const retired = new Set<ProviderInstance>();
  function retire(instance: ProviderInstance | undefined): void {
    if (!instance?.close) return;
    retired.add(instance);
    setTimeout(() => {
      if (retired.delete(instance)) void instance.close!().catch(() => undefined);
    }, RETIRE_AFTER_MS).unref();
  }

  async function load(environmentId: string): Promise<Map<ChannelType, LiveIntegration[]>> {
    const stored = [
      ...(await deps.store.listIntegrations(environmentId)),
      ...deps.fromEnvironment.map((integration) => ({ ...integration, environmentId })),
    ];
    // Stored ones come by channel, priority and id; environment ones after them.
    const byChannel = new Map<ChannelType, LiveIntegration[]>();
    for (const integration of stored) {
      const key = `${environmentId}/${integration.id}`;
      let entry = live.get(key);
      const version = versionOf(integration);
      if (!entry || entry.version !== version) {
        retire(entry?.integration.instance);
        entry = { version, integration: build(integration) };
        live.set(key, entry);
      }
      if (!integration.enabled) continue;
      const list = byChannel.get(integration.channel) ?? [];
      list.push(entry.integration);
      byChannel.set(integration.channel, list);
    }
    const ids = new Set(stored.map((integration) => `${environmentId}/${integration.id}`));
    for (const [key, entry] of live) {
      if (key.startsWith(`${environmentId}/`) && !ids.has(key)) {
        retire(entry.integration.instance);
        live.delete(key);
      }
    }
    return byChannel;
  }

  /** Built-in providers by channel: no row, no circuit to record, the same for every environment. */
  const builtIns = new Map<ChannelType, LiveIntegration[]>();
  function builtInsOf(channel: ChannelType): readonly LiveIntegration[] {
    let list = builtIns.get(channel);
    if (!list) {
      list = BUILT_IN_PROVIDERS.filter((definition) => definition.channel === channel).map((definition) => {
        const stored: StoredIntegration = {
          environmentId: '',
          ...standingIntegration({ id: definition.provider, channel, provider: definition.provider, config: {} }),
        };
        return { ...build(stored, definition), builtIn: true };
      });
      builtIns.set(channel, list);
    }
    return list;
  }

  return {
    async forChannel(environmentId, channel) {
      const now = deps.clock.now();
      let cached = lists.get(environmentId);
      if (!cached || now - cached.at > CACHE_TTL_MS) {
        cached = { at: now, loading: load(environmentId) };
        lists.set(environmentId, cached);
        cached.loading.catch(() => lists.delete(environmentId));
      }
      return (await cached.loading).get(channel) ?? [];
    },
    invalidate(environmentId) {
      lists.delete(environmentId);
    },
    openConfig,
    build: (stored) => build(stored),
    builtIns: builtInsOf,
    async close() {
      const instances = [...live.values()].map((entry) => entry.integration.instance);
      for (const list of builtIns.values()) instances.push(...list.map((integration) => integration.instance));
      instances.push(...retired);
      retired.clear();
      await Promise.all(instances.map((instance) => instance?.close?.().catch(() => undefined)));
      live.clear();
      builtIns.clear();
      lists.clear();
    },
  };
}
