import { createHash, randomBytes } from 'node:crypto';
import { newId } from './ids.js';
import type { ApiKey, Store } from './store.js';

/** Keys Herald makes: `hk_` and 32 random bytes in base64url (256 bits). */
const GENERATED_PREFIX = 'hk_';

/**
 * Keys are stored as unsalted SHA-256 hashes, which is enough for 256 random bits but not for a
 * phrase a person picked: a leaked table could be guessed offline. A configured key
 * (`HERALD_API_KEY`) must therefore be at least this long; 32 characters of `openssl rand
 * -base64 32` carry about 190 bits.
 */
export const MIN_CONFIGURED_API_KEY_LENGTH = 32;

export function generateApiKey(): string {
  return GENERATED_PREFIX + randomBytes(32).toString('base64url');
}

/** Keys are stored only as SHA-256 hashes: a leaked database does not leak usable keys. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * The first characters of a key, kept so people can tell keys apart (`hk_AbCdEfGh…`). A generated
 * key shows 8 of its 43 random characters (208 bits stay secret); a key a person chose shows only
 * 4, since its characters may be far from random.
 */
export function apiKeyPrefix(key: string): string {
  return key.startsWith(GENERATED_PREFIX) ? key.slice(0, GENERATED_PREFIX.length + 8) : key.slice(0, 4);
}

/** How a key is shown to people: its prefix with an ellipsis, or that it is not known. */
export function describeApiKeyPrefix(prefix: string | null): string {
  return prefix === null ? '(unknown)' : `${prefix}…`;
}

/** A new random key for an environment. The secret is returned once and never stored. */
export async function createApiKey(
  store: Store,
  input: { environmentId: string; name: string; now: number },
): Promise<{ key: ApiKey; secret: string }> {
  const secret = generateApiKey();
  const { key } = await registerApiKey(store, { ...input, secret });
  return { key, secret };
}

/**
 * Registers a key whose secret is already known (HERALD_API_KEY, the dev key file). Registering
 * a live key again changes nothing; a revoked one stays revoked (`status: 'revoked'`), so a stale
 * configuration cannot bring back a key someone revoked.
 */
export function registerApiKey(
  store: Store,
  input: { environmentId: string; name: string; secret: string; now: number },
): Promise<{ status: 'added' | 'exists' | 'revoked'; key: ApiKey }> {
  return store.addApiKey({
    id: newId('key', input.now),
    environmentId: input.environmentId,
    name: input.name,
    prefix: apiKeyPrefix(input.secret),
    hash: hashApiKey(input.secret),
    createdAt: input.now,
  });
}

/**
 * The keys `idOrPrefix` names: the one with that id, else those whose prefix starts with it
 * (`hk_AbCd`, with or without the ellipsis the list shows). Several means it is ambiguous.
 */
export function matchApiKeys(keys: readonly ApiKey[], idOrPrefix: string): ApiKey[] {
  const byId = keys.filter((key) => key.id === idOrPrefix);
  if (byId.length > 0) return byId;
  const wanted = idOrPrefix.replace(/(…|\.\.\.)$/, '');
  if (wanted === '') return [];
  return keys.filter((key) => key.prefix !== null && key.prefix.startsWith(wanted));
}
