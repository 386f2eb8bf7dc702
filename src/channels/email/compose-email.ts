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

/**
 * The one-click unsubscribe headers (RFC 8058) of an email that carries a link: List-Unsubscribe
 * with the URL, and List-Unsubscribe-Post, which tells mailbox providers a POST to it unsubscribes
 * without a page. Empty when it carries none (critical workflows; no --public-url).
 */
export function unsubscribeHeaders(email: Pick<EmailMessage, 'unsubscribeUrl'>): Record<string, string> {
  if (!email.unsubscribeUrl) return {};
  return {
    'List-Unsubscribe': `<${email.unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/**
 * The headers email APIs are asked to add (their own Message-ID stands): Herald's message id, and
 * the unsubscribe headers when the email carries them.
 */
export function apiHeaders(email: Pick<EmailMessage, 'messageId' | 'unsubscribeUrl'>): Record<string, string> {
  return { 'X-Herald-Message-Id': email.messageId, ...unsubscribeHeaders(email) };
}

/** Composes the wire form of an email with its stable headers (and unsubscribe headers). */
export function composeEmail(email: EmailMessage, from: Mailbox, date = new Date()): ComposedEmail {
  const headers = { ...stableHeaders(email.messageId, from), ...unsubscribeHeaders(email) };
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
