import type { EmailMessage } from '../../core/types.js';
import { buildMime, type Mailbox } from './mime.js';

export interface ComposedEmail {
  raw: Buffer;
  headers: Record<string, string>;
}

/**
 * The domain used in Message-ID: the sender's, so receivers see a plausible id; `herald.local`
 * when the sender's address has no plain host name after its last `@` (the id must stay a msg-id).
 */
function idDomain(from: Mailbox): string {
  const domain = from.address.slice(from.address.lastIndexOf('@') + 1);
  return from.address.includes('@') && /^[A-Za-z0-9.-]{1,253}$/.test(domain) ? domain : 'herald.local';
}

/**
 * `Message-ID` and `X-Herald-Message-Id` derive from Herald's message id alone, so every retry of
 * one message carries the same ids and receivers can de-duplicate.
 */
export function stableHeaders(messageId: string, from: Mailbox): Record<string, string> {
  return { 'Message-ID': `<${messageId}@${idDomain(from)}>`, 'X-Herald-Message-Id': messageId };
}

/** Composes the wire form of an email with its stable headers. */
export function composeEmail(email: EmailMessage, from: Mailbox, date = new Date()): ComposedEmail {
  const headers = stableHeaders(email.messageId, from);
  const raw = buildMime({
    from,
    to: { address: email.to, name: email.toName ?? null },
    subject: email.subject,
    text: email.text,
    html: email.html ?? null,
    headers,
    date,
  });
  return { raw, headers };
}
