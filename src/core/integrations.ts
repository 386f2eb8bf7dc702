import type { CircuitSnapshot, RateLimit, StoredIntegration } from './store.js';
import type { ChannelType, DeliveryOutcome } from './types.js';

/** What PUT /v1/integrations/{id} takes; channels/integration-input.ts turns it into a provider and its config. */
export interface IntegrationInput {
  channel?: ChannelType;
  provider?: string;
  config?: Record<string, unknown>;
  /** Apprise-style URL, instead of provider + config. */
  url?: string;
  priority?: number;
  enabled?: boolean;
  rateLimit?: RateLimit | null;
}

/** An integration as the API shows it: secrets masked. */
export interface IntegrationView {
  id: string;
  channel: ChannelType;
  provider: string;
  config: Record<string, unknown>;
  priority: number;
  enabled: boolean;
  rateLimit: RateLimit | null;
  circuit: CircuitSnapshot | null;
  /** `environment`: configured by HERALD_SMTP_URL, read-only. */
  source: 'api' | 'environment';
  createdAt: number;
  updatedAt: number;
}

export interface TestResult {
  status: DeliveryOutcome['status'];
  detail: string;
  providerMessageId: string | null;
}

/**
 * The integrations API's use cases, implemented with the providers in
 * channels/integration-service.ts; main.ts hands it to the HTTP layer.
 */
export interface IntegrationService {
  put(
    env: string,
    id: string,
    input: IntegrationInput,
  ): Promise<{ view: IntegrationView; created: boolean; secret?: string }>;
  get(env: string, id: string): Promise<IntegrationView>;
  list(env: string): Promise<IntegrationView[]>;
  remove(env: string, id: string): Promise<void>;
  rotateSecret(env: string, id: string): Promise<{ view: IntegrationView; secret: string }>;
  test(env: string, id: string, to: unknown, text: string | undefined): Promise<TestResult>;
}

/**
 * An integration no API call made (a built-in provider, HERALD_SMTP_URL): enabled, tried after
 * every stored one, no rate limit, no circuit recorded, no secrets sealed.
 */
export function standingIntegration(
  fields: Pick<StoredIntegration, 'id' | 'channel' | 'provider' | 'config'>,
): Omit<StoredIntegration, 'environmentId'> {
  return {
    ...fields,
    sealedSecrets: null,
    priority: Number.MAX_SAFE_INTEGER,
    enabled: true,
    rateLimit: null,
    circuit: null,
    createdAt: 0,
    updatedAt: 0,
  };
}
