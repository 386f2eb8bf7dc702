import { createHash, randomBytes } from 'node:crypto';
import { HeraldError } from '../core/errors.js';
import type { Store } from '../core/store.js';

/** API keys: `hk_` and 32 random bytes in base64url (256 bits). */
export function generateApiKey(): string {
  return 'hk_' + randomBytes(32).toString('base64url');
}

/** Keys are stored only as SHA-256 hashes: a leaked database does not leak usable keys. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const CACHE_TTL_MS = 60_000;

/** Resolves `Authorization: Bearer <key>` to an environment, with a short cache of known keys. */
export function createApiKeyAuthenticator(store: Store) {
  const cache = new Map<string, { environmentId: string; until: number }>();
  return async (authorization: string | undefined): Promise<string> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new HeraldError('UNAUTHORIZED', 'Send Authorization: Bearer <API key>');
    const hash = hashApiKey(match[1]!);
    const now = Date.now();
    const cached = cache.get(hash);
    if (cached && cached.until > now) return cached.environmentId;
    const environmentId = await store.findEnvironmentByKeyHash(hash);
    if (!environmentId) throw new HeraldError('UNAUTHORIZED', 'The API key is not valid');
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { environmentId, until: now + CACHE_TTL_MS });
    return environmentId;
  };
}
