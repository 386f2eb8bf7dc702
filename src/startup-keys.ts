import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { generateApiKey, MIN_CONFIGURED_API_KEY_LENGTH, registerApiKey } from './core/api-keys.js';
import { createSecretBox, MIN_SECRET_KEY_LENGTH, type SecretBox } from './core/secret-box.js';
import type { ApiKey, Store } from './core/store.js';
import { ConfigError, type ServeConfig } from './config/settings.js';

/** Where the key that seals secrets came from. */
export type SecretKeySource =
  | { kind: 'configured' }
  /** Generated into the data folder, now (`generated`) or by an earlier start. */
  | { kind: 'file'; path: string; generated: boolean };

/** The API key a start set up: HERALD_API_KEY, the dev key kept in the data folder, or none (workers). */
export type StartupApiKey =
  | { kind: 'configured'; key: ApiKey }
  | { kind: 'dev'; key: ApiKey; secret: string; path: string; minted: boolean }
  | { kind: 'none' };

const LOST_KEY_HELP = 'If that key is lost, see "Lost secret key" in docs/operations.md.';

/**
 * The key that seals integration credentials and inbox secrets: HERALD_SECRET_KEY, or one
 * generated once into `<data-dir>/secret-key` (a single node needs no setup; split roles are
 * refused without HERALD_SECRET_KEY by the config). The database records the fingerprint of the
 * key that sealed its secrets: a process with another key refuses to start, saying what to set,
 * instead of failing sends later.
 */
export async function openSecretBox(
  config: Pick<ServeConfig, 'secretKey' | 'dataDir'>,
  store: Store,
  logger: Logger,
): Promise<{ box: SecretBox; source: SecretKeySource }> {
  const refuse = (box: SecretBox, recorded: string, which: string) =>
    new ConfigError(
      `the secrets in this database were sealed with key ${recorded}, but ${which} is key ${box.keyId}. ` +
        `Set HERALD_SECRET_KEY to the key that sealed them (the one the other processes of this database use, ` +
        `or the contents of <data-dir>/secret-key where it was generated). ${LOST_KEY_HELP}`,
    );
  if (config.secretKey) {
    const box = createSecretBox(config.secretKey);
    const recorded = await store.claimSealingKey(box.keyId);
    if (recorded !== box.keyId) throw refuse(box, recorded, 'HERALD_SECRET_KEY');
    return { box, source: { kind: 'configured' } };
  }
  const path = join(resolve(config.dataDir), 'secret-key');
  if (existsSync(path)) {
    const kept = readFileSync(path, 'utf8').trim();
    if (kept.length < MIN_SECRET_KEY_LENGTH) {
      throw new ConfigError(
        `${path} does not hold a secret key (32+ characters): restore it from a backup, or set HERALD_SECRET_KEY`,
      );
    }
    const box = createSecretBox(kept);
    const recorded = await store.claimSealingKey(box.keyId);
    if (recorded !== box.keyId) throw refuse(box, recorded, `the key in ${path}`);
    return { box, source: { kind: 'file', path, generated: false } };
  }
  // The file is written before the fingerprint is claimed: a key the database names is never one
  // that only ever existed in memory.
  mkdirSync(resolve(config.dataDir), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  const generated = createSecretBox(secret);
  writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' });
  const recorded = await store.claimSealingKey(generated.keyId).catch((error: unknown) => {
    unlinkSync(path);
    throw error;
  });
  if (recorded !== generated.keyId) {
    unlinkSync(path); // it sealed nothing
    throw new ConfigError(
      `the secrets in this database were sealed with key ${recorded}, and this process has no key: ` +
        `HERALD_SECRET_KEY is not set and ${path} did not exist. Set HERALD_SECRET_KEY to the key that sealed ` +
        `them, or restore ${path} from a backup. ${LOST_KEY_HELP}`,
    );
  }
  logger.warn(
    { path },
    'generated the secret key that seals integration credentials and inbox secrets: back this file up with the ' +
      'database (without it they cannot be opened), or set HERALD_SECRET_KEY',
  );
  return { box: generated, source: { kind: 'file', path, generated: true } };
}

/**
 * Registers HERALD_API_KEY, or (dev mode: none configured) keeps a key in `<data-dir>/api-key`
 * (mode 0600) and registers it, so each start prints the same key. A new key is minted only when
 * the file is missing or its key was revoked. A revoked HERALD_API_KEY refuses the start: revoked
 * keys never come back.
 */
export async function setUpApiKey(
  config: Pick<ServeConfig, 'apiKey' | 'dataDir' | 'role'>,
  store: Store,
  now: number,
): Promise<StartupApiKey> {
  const environmentId = await store.defaultEnvironmentId();
  if (config.apiKey) {
    const { status, key } = await registerApiKey(store, {
      environmentId,
      name: 'HERALD_API_KEY',
      secret: config.apiKey,
      now,
    });
    if (status === 'revoked') {
      throw new ConfigError(
        `HERALD_API_KEY was revoked (API key ${key.id}). Set HERALD_API_KEY to a new key: ` +
          '`herald keys create` prints one, or use `openssl rand -base64 32`',
      );
    }
    return { kind: 'configured', key };
  }
  if (config.role === 'worker') return { kind: 'none' }; // no API to call
  const path = join(resolve(config.dataDir), 'api-key');
  const kept = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
  if (kept.length >= MIN_CONFIGURED_API_KEY_LENGTH) {
    const { status, key } = await registerApiKey(store, { environmentId, name: 'dev', secret: kept, now });
    if (status !== 'revoked') return { kind: 'dev', key, secret: kept, path, minted: false };
  }
  // Kept before it is registered: a registered dev key is always one the file holds.
  const secret = generateApiKey();
  mkdirSync(resolve(config.dataDir), { recursive: true });
  writeFileSync(path, secret + '\n', { mode: 0o600 });
  chmodSync(path, 0o600); // an existing file keeps its mode when overwritten
  const { key } = await registerApiKey(store, { environmentId, name: 'dev', secret, now });
  return { kind: 'dev', key, secret, path, minted: true };
}
