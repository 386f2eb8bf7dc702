import type { Logger } from 'pino';
import { hashApiKey } from '../core/api-keys.js';
import type { Clock } from '../core/clock.js';
import { HeraldError } from '../core/errors.js';
import type { ApiKeyStore } from '../core/store.js';

export interface ApiKeyAuthOptions {
  /**
   * How long a known key is trusted without asking the store: a key revoked by another process
   * (another API process, `herald keys revoke`) stops working here within this long.
   */
  cacheTtlMs?: number;
  /** How often last-use times are written: at most one write per key per this long. */
  usageFlushMs?: number;
}

/** Revocations made elsewhere reach this process within this long (docs/operations.md). */
export const API_KEY_CACHE_TTL_MS = 10_000;
const USAGE_FLUSH_MS = 60_000;
const MAX_CACHED_KEYS = 10_000;

export interface ApiKeyAuthenticator {
  /** Resolves `Authorization: Bearer <key>` to the key's environment and id; 401 when it is not a live key. */
  authenticate(authorization: string | undefined): Promise<{ environmentId: string; keyId: string }>;
  /** Stops trusting a key at once (it was revoked through this process). */
  forget(keyId: string): void;
  /** Writes the last-use times noted since the last write. */
  flush(): Promise<void>;
  /** Stops the periodic writes, after a last one. */
  close(): Promise<void>;
}

/**
 * Authenticates API keys with a short cache of known keys, and records when each key was last
 * used without a database write per request: uses are noted in memory and written in one batch a
 * minute, off the request path (and once more on close).
 */
export function createApiKeyAuthenticator(
  deps: { store: Pick<ApiKeyStore, 'findApiKeyByHash' | 'recordApiKeyUse'>; clock: Clock; logger: Logger },
  options: ApiKeyAuthOptions = {},
): ApiKeyAuthenticator {
  const { store, clock } = deps;
  const ttlMs = options.cacheTtlMs ?? API_KEY_CACHE_TTL_MS;
  const cache = new Map<string, { environmentId: string; keyId: string; until: number }>();
  let used = new Map<string, number>();

  const flush = async () => {
    if (used.size === 0) return;
    const batch = used;
    used = new Map();
    try {
      await store.recordApiKeyUse([...batch].map(([id, at]) => ({ id, at })));
    } catch (error) {
      // Last use is informative: keep the times for the next round rather than fail anything.
      for (const [id, at] of batch) if ((used.get(id) ?? 0) < at) used.set(id, at);
      deps.logger.warn({ err: error }, 'could not record when API keys were last used');
    }
  };
  const timer = setInterval(() => void flush(), options.usageFlushMs ?? USAGE_FLUSH_MS);
  timer.unref();

  return {
    async authenticate(authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!match) throw new HeraldError('UNAUTHORIZED', 'Send Authorization: Bearer <API key>');
      const hash = hashApiKey(match[1]!);
      const now = clock.now();
      let known = cache.get(hash);
      if (!known || known.until <= now) {
        const found = await store.findApiKeyByHash(hash);
        if (!found) {
          cache.delete(hash);
          throw new HeraldError('UNAUTHORIZED', 'The API key is not valid');
        }
        if (cache.size >= MAX_CACHED_KEYS) cache.clear();
        known = { environmentId: found.environmentId, keyId: found.id, until: now + ttlMs };
        cache.set(hash, known);
      }
      used.set(known.keyId, now);
      return { environmentId: known.environmentId, keyId: known.keyId };
    },

    forget(keyId) {
      for (const [hash, entry] of cache) if (entry.keyId === keyId) cache.delete(hash);
    },

    flush,

    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
