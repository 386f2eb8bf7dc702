import { Type } from 'typebox';
import type { ProviderContext } from '../provider.js';
import { formatMailbox, parseMailbox, type Mailbox } from './mime.js';

/** The `from` config field of email API providers: `addr` or `Name <addr>`, on one line. */
export const FromField = Type.Optional(Type.String({ maxLength: 320, pattern: '^[^\\r\\n]*@[^\\r\\n]*$' }));

/** The integration's own sender, or HERALD_EMAIL_FROM when its config names none. */
export function senderOf(from: string | undefined, context: Pick<ProviderContext, 'emailFrom'>): Mailbox {
  return from ? parseMailbox(from) : context.emailFrom;
}

/** A mailbox as email APIs take it in one string: the bare address, or `"Name" <addr>` when named. */
export function mailboxText(mailbox: Mailbox): string {
  return mailbox.name ? formatMailbox(mailbox) : mailbox.address;
}

/**
 * The sender an Apprise email URL names: `?from=`, else `{user}@{host}`, with `?name=` as the
 * display name; undefined when the URL names no address.
 */
export function senderFromUrl(url: URL, user: string): string | undefined {
  const address = url.searchParams.get('from') || (user && url.hostname ? `${user}@${url.hostname}` : '');
  if (!address) return undefined;
  const name = url.searchParams.get('name');
  return name ? `${name} <${address}>` : address;
}
