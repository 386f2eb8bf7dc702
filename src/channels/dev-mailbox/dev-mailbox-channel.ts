import { newId } from '../../core/ids.js';
import type { DeliveryOutcome, DevMail, EmailChannel, EmailMessage } from '../../core/types.js';
import { stableHeaders, unsubscribeHeaders } from '../email/compose-email.js';
import { formatMailbox, type Mailbox } from '../email/mime.js';

export interface DevMailboxOptions {
  from: Mailbox;
  /** Where captured mail goes: the store's dev mailbox. */
  save(mail: DevMail): Promise<void>;
}

/** With no SMTP server configured, email is captured in the database for GET /v1/dev/mail. */
export function createDevMailboxChannel(options: DevMailboxOptions): EmailChannel {
  return {
    provider: 'dev-mailbox',

    async send(email: EmailMessage): Promise<DeliveryOutcome> {
      const headers = { ...stableHeaders(email.messageId, options.from), ...unsubscribeHeaders(email) };
      const mail: DevMail = {
        id: newId('mail'),
        environmentId: email.environmentId,
        messageId: email.messageId,
        from: formatMailbox(options.from),
        to: email.to,
        subject: email.subject,
        html: email.html ?? null,
        text: email.text,
        headers: { ...headers, From: formatMailbox(options.from), To: email.to, Subject: email.subject },
        createdAt: Date.now(),
      };
      await options.save(mail);
      return { status: 'sent', providerMessageId: mail.id, detail: 'captured in the dev mailbox' };
    },

    async close() {},
  };
}
