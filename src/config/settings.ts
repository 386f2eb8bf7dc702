import { parseDuration, parseDurationList } from '../core/durations.js';
import { DEFAULT_RETRY_SCHEDULE } from '../core/retry-policy.js';
import { MIN_CONFIGURED_API_KEY_LENGTH } from '../core/api-keys.js';
import { MIN_SECRET_KEY_LENGTH } from '../core/secret-box.js';
import { DEFAULT_RENDER_LIMIT_MS } from '../core/templates.js';
import { canonicalTimeZone, isTimeZone } from '../core/local-time.js';
import { parseNetworkList } from '../channels/outbound/ssrf.js';
import { isDeliverableAddress, parseMailbox, type Mailbox } from '../channels/email/mime.js';

/**
 * Every setting once: its flag, environment variable, default, help text and parser. The CLI,
 * `--help`, the README table and validation all come from this list.
 */
export interface Setting<T> {
  /** Flag name without dashes; the env var is HERALD_ + upper snake case of it. */
  flag: string;
  key: keyof ServeConfig;
  placeholder: string;
  description: string;
  default?: string;
  /** Returns the value, or a sentence saying what is wrong. */
  parse(raw: string): T | { error: string };
  /** A true|false setting that `--no-<flag>` also turns off. */
  negatable?: boolean;
  /**
   * Never shown in errors: `value` hides the whole value (keys), `password` the password of a URL
   * (`postgres://user:***@host/db`).
   */
  secret?: 'value' | 'password';
}

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  /** SQLite file path (empty means `<dataDir>/herald.db`) or a postgres:// URL. */
  database: string;
  dbPool: number;
  migrate: boolean;
  role: 'all' | 'api' | 'worker';
  apiKey: string | undefined;
  smtpUrl: string | undefined;
  emailFrom: Mailbox;
  smtpPool: number;
  concurrency: number;
  /** Sends one destination (an integration, a webhook receiver) may hold at once; half of `concurrency` by default. */
  destinationConcurrency: number;
  renderThreads: number;
  renderTimeoutMs: number;
  jobLeaseMs: number;
  retryScheduleMs: number[];
  sendTimeoutMs: number;
  shutdownTimeoutMs: number;
  retentionMs: number;
  logLevel: string;
  benchRoutes: boolean;
  secretKey: string | undefined;
  allowPrivateNetworks: string[];
  breakerThreshold: number;
  breakerCooldownMs: number;
  inboxOrigins: string[];
  inboxHeartbeatMs: number;
  requestTimeoutMs: number;
  /** Undefined: chosen from the file-descriptor limit at start. */
  maxConnections: number | undefined;
  inboxMaxStreams: number;
  /** The time zone of subscribers without a valid one (send windows, digest schedules, quiet hours). */
  defaultTimeZone: string;
  defaultLocale: string;
  /** Where Herald is reached from outside, without a trailing slash; undefined: emails carry no unsubscribe link. */
  publicUrl: string | undefined;
}

const integer =
  (min: number, max: number) =>
  (raw: string): number | { error: string } => {
    const value = Number(raw);
    return /^\d+$/.test(raw.trim()) && value >= min && value <= max
      ? value
      : { error: `must be a whole number from ${min} to ${max}` };
  };

const boolean = (raw: string): boolean | { error: string } =>
  raw === 'true' ? true : raw === 'false' ? false : { error: 'must be true or false' };

const duration =
  (minMs: number) =>
  (raw: string): number | { error: string } => {
    const value = parseDuration(raw);
    return value !== undefined && value >= minMs
      ? value
      : { error: `must be a duration such as 500ms, 30s, 5m or 1h, at least ${minMs} ms` };
  };

export const SETTINGS: Setting<unknown>[] = [
  {
    flag: 'host',
    key: 'host',
    placeholder: 'address',
    description: 'interface the API listens on',
    default: '127.0.0.1',
    parse: (raw) => (raw.trim() ? raw.trim() : { error: 'must not be empty' }),
  },
  {
    flag: 'port',
    key: 'port',
    placeholder: 'number',
    description: 'TCP port of the API (0 picks a free one)',
    default: '8750',
    parse: integer(0, 65535),
  },
  {
    flag: 'data-dir',
    key: 'dataDir',
    placeholder: 'path',
    description: 'folder for the embedded database',
    default: './.herald',
    parse: (raw) => (raw.trim() ? raw : { error: 'must not be empty' }),
  },
  {
    flag: 'database',
    key: 'database',
    placeholder: 'path or url',
    description:
      'SQLite file path or sqlite: URL (default: <data-dir>/herald.db), or postgres://user:pass@host:5432/db[?schema=name]',
    secret: 'password',
    parse: (raw) => {
      if (raw === '') return '';
      if (/^postgres(ql)?:\/\//.test(raw)) {
        try {
          const url = new URL(raw);
          const schema = url.searchParams.get('schema');
          if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
            return { error: 'schema= must be a lower-case identifier' };
          }
          return raw;
        } catch {
          return { error: 'is not a valid postgres:// URL' };
        }
      }
      if (raw.startsWith('sqlite:')) {
        const path = raw.replace(/^sqlite:(\/\/)?/, '');
        return path ? path : { error: 'sqlite: URL has no path' };
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
        return { error: 'must be a file path, a sqlite: URL or a postgres:// URL' };
      return raw;
    },
  },
  {
    flag: 'db-pool',
    key: 'dbPool',
    placeholder: 'number',
    description: 'PostgreSQL connections per process',
    default: '10',
    parse: integer(1, 200),
  },
  {
    flag: 'migrate',
    key: 'migrate',
    placeholder: 'true|false',
    description:
      'apply pending schema migrations on start; with false (--no-migrate) start only on a schema `herald migrate` brought up to date',
    default: 'true',
    negatable: true,
    parse: boolean,
  },
  {
    flag: 'role',
    key: 'role',
    placeholder: 'all|api|worker',
    description:
      'all: API and workers; api: the API only; worker: delivery only (plus /healthz, /readyz, /metrics). Split roles need PostgreSQL',
    default: 'all',
    parse: (raw) =>
      raw === 'all' || raw === 'api' || raw === 'worker' ? raw : { error: 'must be all, api or worker' },
  },
  {
    flag: 'api-key',
    key: 'apiKey',
    placeholder: 'key',
    description:
      'registers this value as an API key at start (idempotent), for scripts and CI; at least 32 characters. Unset (dev mode), Herald keeps a generated key in <data-dir>/api-key and prints it',
    secret: 'value',
    parse: (raw) =>
      raw === ''
        ? undefined
        : raw.length >= MIN_CONFIGURED_API_KEY_LENGTH
          ? raw
          : {
              // Keys are stored as unsalted SHA-256 hashes (core/api-keys.ts): short ones could be guessed offline.
              error: `must be at least ${MIN_CONFIGURED_API_KEY_LENGTH} characters, so it cannot be guessed from its stored hash; \`herald keys create\` or \`openssl rand -base64 32\` makes one`,
            },
  },
  {
    flag: 'smtp-url',
    key: 'smtpUrl',
    placeholder: 'url',
    description: 'smtp://user:pass@host:port or smtps://…; unset captures email in the dev mailbox',
    secret: 'password',
    parse: (raw) => {
      if (raw === '') return undefined;
      try {
        const url = new URL(raw);
        if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
          return { error: 'must start with smtp:// or smtps://' };
        return raw;
      } catch {
        return { error: 'must be a URL such as smtp://user:pass@host:587' };
      }
    },
  },
  {
    flag: 'email-from',
    key: 'emailFrom',
    placeholder: 'mailbox',
    description: 'sender of every email, "Name <address>" or an address',
    default: 'Herald <herald@localhost.localdomain>',
    parse: (raw) => {
      const mailbox = parseMailbox(raw);
      return isDeliverableAddress(mailbox.address)
        ? mailbox
        : { error: 'must be an email address or "Name <address>"' };
    },
  },
  {
    flag: 'smtp-pool',
    key: 'smtpPool',
    placeholder: 'number',
    description: 'SMTP connections kept open',
    default: '5',
    parse: integer(1, 100),
  },
  {
    flag: 'secret-key',
    key: 'secretKey',
    placeholder: 'key',
    description:
      'seals integration credentials and inbox secrets at rest (AES-256-GCM); at least 32 characters, the same on every process. Unset, a single node generates one into <data-dir>/secret-key (back it up); --role api|worker require it',
    secret: 'value',
    parse: (raw) =>
      raw === '' ? undefined : raw.length >= MIN_SECRET_KEY_LENGTH ? raw : { error: 'must be at least 32 characters' },
  },
  {
    flag: 'allow-private-networks',
    key: 'allowPrivateNetworks',
    placeholder: 'cidrs',
    description:
      'CIDR ranges outbound webhooks, provider URLs and SMTP servers may reach despite the SSRF guard, e.g. 10.0.0.0/8,127.0.0.1/32 (any port there)',
    default: '',
    parse: (raw) => {
      try {
        return parseNetworkList(raw);
      } catch (error) {
        return { error: (error as Error).message };
      }
    },
  },
  {
    flag: 'breaker-threshold',
    key: 'breakerThreshold',
    placeholder: 'number',
    description:
      'transient failures in a row that open the circuit breaker of an integration or a webhook receiver (it is then skipped)',
    default: '5',
    parse: integer(1, 1000),
  },
  {
    flag: 'breaker-cooldown',
    key: 'breakerCooldownMs',
    placeholder: 'duration',
    description: 'how long an open breaker skips its integration or receiver before one trial send (half-open)',
    default: '30s',
    parse: duration(100),
  },
  {
    flag: 'inbox-origins',
    key: 'inboxOrigins',
    placeholder: 'origins',
    description:
      'origins whose pages may call the inbox API (CORS), e.g. https://app.example.com,http://localhost:5173, or *; the default for environments that set none (dev mode: *)',
    default: '',
    parse: parseOriginList,
  },
  {
    flag: 'inbox-heartbeat',
    key: 'inboxHeartbeatMs',
    placeholder: 'duration',
    description: 'how often an idle inbox stream (SSE) sends a heartbeat, so proxies keep it open',
    default: '15s',
    parse: duration(100),
  },
  {
    flag: 'request-timeout',
    key: 'requestTimeoutMs',
    placeholder: 'duration',
    description:
      "longest time a client may take to send a request's headers and body; slower clients are answered 408 and disconnected (inbox streams and handlers are not limited by it)",
    default: '30s',
    parse: duration(100),
  },
  {
    flag: 'max-connections',
    key: 'maxConnections',
    placeholder: 'number|auto',
    description:
      'open HTTP connections at most (inbox streams included); at the cap a new connection closes the one idle or sending its request the longest. auto: from the file-descriptor limit, less room for the database, SMTP and outbound connections',
    default: 'auto',
    parse: (raw) => (raw.trim() === 'auto' ? undefined : integer(1, 10_000_000)(raw)),
  },
  {
    flag: 'inbox-max-streams',
    key: 'inboxMaxStreams',
    placeholder: 'number',
    description: 'inbox streams (SSE) one API process holds at most; past it, new ones get 503 with Retry-After',
    default: '5000',
    parse: integer(1, 1_000_000),
  },
  {
    flag: 'default-timezone',
    key: 'defaultTimeZone',
    placeholder: 'zone',
    description:
      'IANA time zone of subscribers whose timezone is missing or unknown, for send windows, digest schedules and quiet hours, e.g. Europe/Berlin',
    default: 'UTC',
    parse: (raw) =>
      isTimeZone(raw.trim())
        ? canonicalTimeZone(raw.trim())
        : { error: 'must be an IANA time zone such as UTC, Europe/Berlin or America/New_York' },
  },
  {
    flag: 'default-locale',
    key: 'defaultLocale',
    placeholder: 'locale',
    description:
      'language of subscribers whose locale has no translation (after fr-CA, fr is tried), for the t filter and the format_* filters, e.g. en or de-DE',
    default: 'en',
    parse: (raw) => {
      try {
        const [locale] = Intl.getCanonicalLocales(raw.trim().replace(/_/g, '-'));
        return locale ?? { error: 'must be a BCP 47 language tag such as en, de or pt-BR' };
      } catch {
        return { error: 'must be a BCP 47 language tag such as en, de or pt-BR' };
      }
    },
  },
  {
    flag: 'public-url',
    key: 'publicUrl',
    placeholder: 'url',
    description:
      'where Herald is reached from outside, e.g. https://herald.example.com, for the one-click unsubscribe link (List-Unsubscribe) in every non-critical email; unset, emails carry none',
    default: '',
    parse: parsePublicUrl,
  },
  {
    flag: 'concurrency',
    key: 'concurrency',
    placeholder: 'number',
    description: 'sends in flight at most, per process',
    default: '32',
    parse: integer(1, 1000),
  },
  {
    flag: 'destination-concurrency',
    key: 'destinationConcurrency',
    placeholder: 'number',
    description:
      'sends one destination (an integration, a webhook receiver by origin) may hold at once, per process; more wait in the queue, so a receiver that hangs cannot take every slot (default: half of --concurrency)',
    // 0 stands for "not set": resolveConfig makes it half of --concurrency.
    parse: (raw) => (raw.trim() === '' ? 0 : integer(1, 1000)(raw)),
  },
  {
    flag: 'render-threads',
    key: 'renderThreads',
    placeholder: 'number',
    description:
      'threads that render templates, per worker process; with two or more, one is kept free of templates that ran past the limit',
    default: '2',
    parse: integer(1, 64),
  },
  {
    flag: 'render-timeout',
    key: 'renderTimeoutMs',
    placeholder: 'duration',
    description:
      "longest render of one message's templates (CPU time, on Linux); a longer one fails the message. A render that does not stop at Liquid's limit is stopped by ending its thread, at twice this (at least 100 ms more)",
    default: `${DEFAULT_RENDER_LIMIT_MS}ms`,
    parse: duration(10),
  },
  {
    flag: 'job-lease',
    key: 'jobLeaseMs',
    placeholder: 'duration',
    description:
      'lease on a claimed job, renewed every third of it while the send runs: how soon the jobs of a dead worker are taken over',
    default: '30s',
    parse: duration(1000),
  },
  {
    flag: 'retry-schedule',
    key: 'retryScheduleMs',
    placeholder: 'durations',
    description: 'delays before each retry of a transient failure (±20% jitter), then failed',
    default: DEFAULT_RETRY_SCHEDULE,
    parse: (raw) =>
      raw.trim() === 'none'
        ? []
        : (parseDurationList(raw) ?? { error: 'must be durations separated by commas, e.g. 5s,30s,2m, or none' }),
  },
  {
    flag: 'send-timeout',
    key: 'sendTimeoutMs',
    placeholder: 'duration',
    description: 'longest wait for one provider call',
    default: '20s',
    parse: duration(100),
  },
  {
    flag: 'shutdown-timeout',
    key: 'shutdownTimeoutMs',
    placeholder: 'duration',
    description: 'on SIGTERM/SIGINT, how long in-flight sends may take to finish',
    default: '10s',
    parse: duration(0),
  },
  {
    flag: 'retention',
    key: 'retentionMs',
    placeholder: 'duration',
    description:
      'how long finished messages keep their content, address, attempts and dev mail; status and timestamps stay',
    default: '30d',
    // At least an hour: shorter would erase what someone is still looking at in the delivery log.
    parse: duration(3_600_000),
  },
  {
    flag: 'log-level',
    key: 'logLevel',
    placeholder: 'level',
    description: 'fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    parse: (raw) =>
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw)
        ? raw
        : { error: 'must be one of fatal, error, warn, info, debug, trace, silent' },
  },
  {
    flag: 'bench-routes',
    key: 'benchRoutes',
    placeholder: 'true|false',
    description: 'adds POST /v1/bench/noop-trigger/{key}, the no-database ceiling npm run bench compares with',
    default: 'false',
    parse: boolean,
  },
];

export function envName(flag: string): string {
  return 'HERALD_' + flag.toUpperCase().replace(/-/g, '_');
}

export class ConfigError extends Error {}

/** A setting's raw value as errors may show it (quoted): a URL's password masked; undefined for a secret. */
export function displayValue(setting: Pick<Setting<unknown>, 'secret'>, raw: string): string | undefined {
  if (setting.secret === 'value') return undefined;
  if (setting.secret === 'password') {
    try {
      const url = new URL(raw);
      if (url.password) url.password = '***';
      return JSON.stringify(url.toString());
    } catch {
      // Not a URL: whatever stands between "//" and the last "@" may hold a password.
      return JSON.stringify(raw.replace(/\/\/.*@/s, '//***@'));
    }
  }
  return JSON.stringify(raw);
}

/**
 * Builds the config from raw strings (flag values, else env vars, else defaults). Throws a
 * ConfigError with one line naming the option when a value is invalid; secrets are not shown.
 */
export function resolveConfig(raw: Partial<Record<string, string | undefined>>, env = process.env): ServeConfig {
  const config: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = raw[setting.flag] ?? env[envName(setting.flag)] ?? setting.default ?? '';
    const parsed = setting.parse(value);
    if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) {
      const shown = displayValue(setting, value);
      const source =
        shown === undefined ? `${envName(setting.flag)}; the value is not shown` : `${envName(setting.flag)}=${shown}`;
      throw new ConfigError(`invalid --${setting.flag} (${source}): ${parsed.error}`);
    }
    config[setting.key] = parsed;
  }
  const result = config as unknown as ServeConfig;
  if (result.destinationConcurrency === 0) result.destinationConcurrency = Math.ceil(result.concurrency / 2);
  if (result.role !== 'all' && !/^postgres(ql)?:\/\//.test(result.database)) {
    // On SQLite one process is the only writer: an API without workers would deliver nothing.
    throw new ConfigError(
      `invalid --role (${envName('role')}) "${result.role}": api and worker need a postgres:// --database`,
    );
  }
  if (result.role !== 'all' && !result.secretKey) {
    // Split roles mean several processes: each must seal and open secrets with the same key, and a
    // key generated into one machine's data folder would be that process's alone.
    throw new ConfigError(
      `--role ${result.role} (${envName('role')}) needs --secret-key (${envName('secret-key')}): set ${envName('secret-key')} ` +
        'to the same 32+ random characters on every process, e.g. from `openssl rand -base64 32`',
    );
  }
  return result;
}

/** An http(s) URL with no query or fragment (a path is kept, for Herald behind a prefix), without its trailing slash. */
export function parsePublicUrl(raw: string): string | undefined | { error: string } {
  const trimmed = raw.trim();
  if (trimmed === '') return undefined;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { error: 'must be an http(s) URL such as https://herald.example.com' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { error: 'must be an http(s) URL such as https://herald.example.com' };
  }
  if (url.search || url.hash || url.username || url.password) {
    return { error: 'must have no query, fragment or credentials: the links Herald makes go after it' };
  }
  return url.href.replace(/\/+$/, '');
}

/** A comma-separated list of origins (scheme://host[:port]) or `*`. */
export function parseOriginList(raw: string): string[] | { error: string } {
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      return { error: `${JSON.stringify(origin)} is not an origin such as https://app.example.com` };
    }
  }
  return origins.map((origin) => origin.replace(/\/$/, ''));
}
