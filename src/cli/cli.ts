import { Command, CommanderError, Option } from 'commander';
import type { Store } from '../core/store.js';
import { ConfigError, envName, resolveConfig, SETTINGS, type ServeConfig } from '../config/settings.js';
import { CommandFailure, UsageError } from './cli-errors.js';
import { addKeysCommands } from './keys-commands.js';
import { addUsersCommands } from './users-commands.js';
import { addResourceCommands } from './resource-commands.js';

/** The settings that name a database. */
export type DatabaseSettings = Pick<ServeConfig, 'database' | 'dataDir' | 'dbPool' | 'migrate'>;

/** What `herald serve` reports once Herald listens (main.ts's Herald). */
export interface ServingHerald {
  url: string;
  apiKey:
    | { kind: 'configured'; key: { id: string } }
    | { kind: 'dev'; secret: string; path: string; minted: boolean }
    | { kind: 'none' };
  secretKey: { kind: 'configured' } | { kind: 'file'; path: string; generated: boolean };
  /** undefined where the dashboard is not served (--role worker). */
  dashboard: { setupRequired: boolean } | undefined;
  logger: { info(details: object, message: string): void; error(details: object, message: string): void };
  close(): Promise<void>;
}

/**
 * What the commands get from the composition root (main.ts): the CLI parses, prints and exits, and
 * opens or starts nothing itself.
 */
export interface CliDeps {
  version: string;
  /** Starts Herald with every part wired; resolves once it listens. */
  startHerald(config: ServeConfig): Promise<ServingHerald>;
  /** Opens the store the settings name, migrated unless `migrate` is false (store/open-store.ts). */
  openStore(settings: DatabaseSettings): Promise<Store>;
  /** Applies pending migrations; returns the ids applied. */
  migrateDatabase(settings: DatabaseSettings): Promise<number[]>;
  /** Where the data lives, for people (no password). */
  describeDatabase(settings: DatabaseSettings): string;
}

/** Exit codes: 0 done, 1 failed while running, 2 bad invocation or configuration. */
const EXIT_CONFIG = 2;

function addSettings(command: Command, flags: readonly string[] | 'all'): Command {
  for (const setting of SETTINGS) {
    if (flags !== 'all' && !flags.includes(setting.flag)) continue;
    const option = new Option(`--${setting.flag} <${setting.placeholder}>`, setting.description).env(
      envName(setting.flag),
    );
    if (setting.default !== undefined) option.default(setting.default);
    command.addOption(option);
    if (setting.negatable) command.addOption(new Option(`--no-${setting.flag}`, `same as --${setting.flag} false`));
  }
  return command;
}

function configFrom(options: Record<string, string | boolean | undefined>): ServeConfig {
  // Commander has already applied flag > env > default; resolveConfig parses and validates.
  const raw: Record<string, string | undefined> = {};
  for (const setting of SETTINGS) {
    const camel = setting.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const value = options[camel];
    raw[setting.flag] = typeof value === 'boolean' ? String(value) : value; // --no-<flag> gives false
  }
  return resolveConfig(raw, {});
}

/** What `herald serve` prints once it listens: where things are, and what dev mode adds. */
function banner(herald: ServingHerald, config: ServeConfig, deps: CliDeps): string {
  const { url } = herald;
  const lines = [`Herald ${deps.version} listening on ${url}`, `  database: ${deps.describeDatabase(config)}`];
  lines.push(
    config.smtpUrl
      ? `  email: SMTP ${new URL(config.smtpUrl).host}`
      : `  email: no SMTP configured — email is captured in the dev mailbox: GET ${url}/v1/dev/mail`,
  );
  const secretKey = herald.secretKey;
  lines.push(
    secretKey.kind === 'configured'
      ? '  secret key: HERALD_SECRET_KEY seals integration credentials and inbox secrets'
      : `  secret key: ${secretKey.generated ? 'generated into' : 'kept in'} ${secretKey.path} — back it up with the ` +
          'database; set HERALD_SECRET_KEY to run more than one process',
  );
  lines.push(
    config.inboxOrigins.length > 0
      ? `  inbox: ${url}/inbox.js; pages on ${config.inboxOrigins.join(', ')} may call it`
      : config.apiKey
        ? `  inbox: ${url}/inbox.js; pages need their origin allowed (HERALD_INBOX_ORIGINS or PUT /v1/inbox/settings)`
        : `  inbox: ${url}/inbox.js; dev mode lets pages on any origin call it (set HERALD_INBOX_ORIGINS in production)`,
  );
  if (herald.dashboard) {
    const where = `${config.publicUrl ?? url}/dashboard/`;
    lines.push(
      herald.dashboard.setupRequired
        ? `  dashboard: ${where} — setup pending: open it to create the first user (the owner), or run \`herald users create\``
        : `  dashboard: ${where} (sign in; \`herald users list\` shows who may)`,
    );
  }
  const apiKey = herald.apiKey;
  if (apiKey.kind === 'configured') lines.push(`  API key: from HERALD_API_KEY (${apiKey.key.id})`);
  else if (apiKey.kind === 'dev') {
    lines.push(
      `  API key (dev mode, ${apiKey.minted ? 'new' : 'same as before'}; kept in ${apiKey.path}): ${apiKey.secret}`,
      '    manage keys with `herald keys list|create|revoke`; set HERALD_API_KEY to use a key of your own',
    );
  }
  return lines.join('\n');
}

async function serve(config: ServeConfig, deps: CliDeps): Promise<number> {
  const herald = await deps.startHerald(config);
  process.stdout.write(banner(herald, config, deps) + '\n');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      herald.logger.info({ signal }, 'shutting down');
      herald.close().then(
        () => resolve(0),
        (error: unknown) => {
          herald.logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** Every setting with its env var and default, for `herald --help`. */
function settingsHelp(): string {
  const rows = SETTINGS.map((s) => {
    const flag = `  --${s.flag} <${s.placeholder}>`.padEnd(34);
    const fallback = s.default === undefined ? '' : ` (default: ${s.default})`;
    return `${flag}${envName(s.flag)}${fallback}\n${' '.repeat(34)}${s.description}`;
  });
  return `\nSettings of \`herald serve\` (flag, environment variable, default; the flag wins):\n${rows.join('\n')}\n`;
}

/**
 * Commander's error line, in Herald's words: it names the flag already ("unknown option
 * '--prot'", "option '--port <number>' argument missing"); what follows `=` in an unknown option
 * is dropped, since it may be a secret given to a misspelt flag (`--apikey=…`).
 */
function cliError(text: string): string {
  return text.replace(/^error: /, 'herald: ').replace(/(unknown option '-{1,2}[^=']*)=[^']*'/, "$1=…'");
}

export function buildCli(exitCodes: { code: number }, deps: CliDeps): Command {
  const program = new Command('herald')
    .description('Herald: durable notifications on embedded SQLite')
    .version(deps.version)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(cliError(text)) })
    .showHelpAfterError('(add --help to see the commands and options)')
    .addHelpText('after', settingsHelp);

  addSettings(
    program.command('serve').description('run the API and the delivery workers in one process'),
    'all',
  ).action(async (options: Record<string, string | undefined>) => {
    exitCodes.code = await serve(configFrom(options), deps);
  });

  addSettings(program.command('migrate').description('create or upgrade the database schema'), [
    'data-dir',
    'database',
  ]).action(async (options: Record<string, string | undefined>) => {
    // PostgreSQL: under an advisory lock, so safe while other processes start.
    const applied = await deps.migrateDatabase(configFrom(options));
    process.stdout.write(
      applied.length ? `applied migrations ${applied.join(', ')}\n` : 'database schema is up to date\n',
    );
  });

  addKeysCommands(program, { addSettings, configFrom, openStore: deps.openStore });
  addUsersCommands(program, { addSettings, configFrom, openStore: deps.openStore });
  addResourceCommands(program);
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const exit = { code: 0 };
  const program = buildCli(exit, deps);
  try {
    await program.parseAsync(argv);
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'commander.help') return 0;
      return EXIT_CONFIG;
    }
    if (error instanceof CommandFailure) {
      for (const line of error.lines) process.stderr.write(`herald: ${line}\n`);
      return 1;
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`herald: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
