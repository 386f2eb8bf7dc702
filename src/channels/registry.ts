import type { EmailChannel } from '../core/types.js';
import type { Store } from '../core/store.js';
import { createDevMailboxChannel } from './dev-mailbox/dev-mailbox-channel.js';
import type { Mailbox } from './email/mime.js';
import { createSmtpChannel } from './smtp/smtp-channel.js';

export interface EmailChannelConfig {
  smtpUrl: string | undefined;
  from: Mailbox;
  smtpPool: number;
  sendTimeoutMs: number;
}

/** Picks the email provider from configuration: SMTP when a URL is set, else the dev mailbox. */
export function createEmailChannel(config: EmailChannelConfig, store: Store): EmailChannel {
  if (config.smtpUrl) {
    return createSmtpChannel({
      url: config.smtpUrl,
      from: config.from,
      maxConnections: config.smtpPool,
      timeoutMs: config.sendTimeoutMs,
    });
  }
  return createDevMailboxChannel({ from: config.from, save: (mail) => store.addDevMail(mail) });
}
