import { Type } from 'typebox';
import { senderOf } from '../email/sender.js';
import type { ProviderDefinition } from '../provider.js';
import { createSmtpChannel } from './smtp-channel.js';
import { SMTP } from '../outbound/ssrf.js';

interface SmtpConfig {
  /** smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (TLS from the start) */
  url: string;
  /** "Name <address>"; HERALD_EMAIL_FROM when absent. */
  from?: string;
  /** Pooled connections kept open. */
  pool?: number;
}

const DEFAULT_POOL = 5;
const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Any SMTP server, through the nodemailer pool of the core slice. Also reads Apprise's
 * `mailto://user:pass@host[:port]` (and `mailtos://` for TLS from the start).
 */
export const smtp: ProviderDefinition<'email', SmtpConfig> = {
  provider: 'smtp',
  channel: 'email',
  address: 'email',
  configSchema: Type.Object(
    {
      url: Type.String({ pattern: '^smtps?://', description: 'smtp://user:pass@host:port or smtps://…' }),
      from: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
      pool: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    },
    { additionalProperties: false },
  ),
  secretFields: ['url'],
  destinationFields: [],
  urlFields: { url: SMTP },
  urlSchemes: ['smtp', 'smtps', 'mailto', 'mailtos'],
  fromUrl(url) {
    if (!url.hostname) throw new Error('expected mailto://user:pass@host[:port]');
    const secure = url.protocol === 'smtps:' || url.protocol === 'mailtos:';
    const target = new URL(url.toString().replace(/^[a-z]+:/, secure ? 'smtps:' : 'smtp:'));
    target.search = '';
    target.hash = '';
    return { url: target.toString() };
  },
  create(config, context) {
    const channel = createSmtpChannel({
      url: config.url,
      from: senderOf(config.from, context),
      maxConnections: config.pool ?? DEFAULT_POOL,
      timeoutMs: context.sendTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      openSocket: context.openSocket,
    });
    return { send: (message, signal) => channel.send(message, signal), close: () => channel.close() };
  },
};
