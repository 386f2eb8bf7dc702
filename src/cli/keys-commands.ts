import { Command, InvalidArgumentError } from 'commander';
import { createApiKey, describeApiKeyPrefix, matchApiKeys } from '../core/api-keys.js';
import type { ApiKey, Store } from '../core/store.js';
import type { ServeConfig } from '../config/settings.js';

/** What the keys commands borrow from cli.ts: its settings flags, how it reads them, and the store. */
export interface KeysCommandHelpers {
  addSettings(command: Command, flags: readonly string[]): Command;
  configFrom(options: Record<string, string | boolean | undefined>): ServeConfig;
  openStore(settings: Pick<ServeConfig, 'database' | 'dataDir' | 'dbPool' | 'migrate'>): Promise<Store>;
}

/** The same rule as the API's (api-key-schemas.ts): printable, 1–100 characters. */
function parseName(value: string): string {
  if (!/^[^\u0000-\u001f\u007f]{1,100}$/.test(value)) {
    throw new InvalidArgumentError('must be 1 to 100 characters, without control characters');
  }
  return value;
}

const time = (at: number | null) => (at === null ? 'never' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** Keys as an aligned table, oldest first. */
export function formatKeyTable(keys: readonly ApiKey[]): string {
  const rows = [
    ['ID', 'NAME', 'PREFIX', 'CREATED', 'LAST USED'],
    ...keys.map((key) => [
      key.id,
      key.name,
      describeApiKeyPrefix(key.prefix),
      time(key.createdAt),
      time(key.lastUsedAt),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell + ' '.repeat(widths[column]! - [...cell].length),
        )
        .join('  '),
    )
    .join('\n');
}

/**
 * `herald keys create | list | revoke`: the API keys of the default environment, on the database
 * `--data-dir`/`--database` name. A revocation reaches a running server within 10 s (its key
 * cache, http/auth.ts), at once for a key it has not seen.
 */
export function addKeysCommands(program: Command, helpers: KeysCommandHelpers): void {
  const keys = program.command('keys').description('manage API keys (create, list, revoke)');
  const withStore = async <T>(
    options: Record<string, string | undefined>,
    use: (store: Store, environmentId: string) => Promise<T>,
  ) => {
    const store = await helpers.openStore({ ...helpers.configFrom(options), dbPool: 1 });
    try {
      return await use(store, await store.defaultEnvironmentId());
    } finally {
      await store.close();
    }
  };

  helpers
    .addSettings(
      keys
        .command('create')
        .description('create an API key and print it once (stdout); only its hash is stored')
        .option('--name <name>', 'a label for the key, e.g. where it is used', parseName, 'cli'),
      ['data-dir', 'database'],
    )
    .action(async (options: Record<string, string | undefined>) => {
      const { key, secret } = await withStore(options, (store, environmentId) =>
        createApiKey(store, { environmentId, name: options['name'] ?? 'cli', now: Date.now() }),
      );
      process.stdout.write(secret + '\n');
      process.stderr.write(`created API key ${key.id} "${key.name}": shown once, stored only as a hash\n`);
    });

  helpers
    .addSettings(keys.command('list').description('list the API keys, oldest first (never the keys themselves)'), [
      'data-dir',
      'database',
    ])
    .action(async (options: Record<string, string | undefined>) => {
      const list = await withStore(options, (store, environmentId) => store.listApiKeys(environmentId));
      process.stdout.write(formatKeyTable(list) + '\n');
    });

  helpers
    .addSettings(
      keys
        .command('revoke')
        .description('revoke an API key, named by its id or the start of its prefix (as `keys list` shows them)')
        .argument('<id-or-prefix>', 'e.g. key_01jd… or hk_AbCd'),
      ['data-dir', 'database'],
    )
    .action(async (idOrPrefix: string, options: Record<string, string | undefined>) => {
      const revoked = await withStore(options, async (store, environmentId) => {
        const matches = matchApiKeys(await store.listApiKeys(environmentId), idOrPrefix);
        if (matches.length === 0) {
          throw new Error(
            `no API key has the id or prefix ${JSON.stringify(idOrPrefix)}; \`herald keys list\` shows them`,
          );
        }
        if (matches.length > 1) {
          throw new Error(
            `${JSON.stringify(idOrPrefix)} matches ${matches.length} keys (${matches.map((key) => key.id).join(', ')}): give the id`,
          );
        }
        const key = matches[0]!;
        const outcome = await store.revokeApiKey(environmentId, key.id, Date.now());
        if (outcome === 'last_key') {
          throw new Error(
            `${key.id} is the last API key: create another first (\`herald keys create\`), then revoke this one`,
          );
        }
        if (outcome === 'not_found') throw new Error(`${key.id} was revoked meanwhile`);
        return key;
      });
      process.stdout.write(
        `revoked ${revoked.id} "${revoked.name}" (${describeApiKeyPrefix(revoked.prefix)}); ` +
          'a running Herald refuses it within 10 s\n',
      );
    });
}
