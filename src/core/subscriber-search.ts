/**
 * Listing and finding subscribers (GET /v1/subscribers): by id, by id prefix, or by email prefix
 * (without ASCII case). Each walks an index in order from a range these functions compute, so a
 * page costs the same however many subscribers there are.
 */

/** A page of subscribers: ids starting with `prefix` (by id), or emails starting with it (by email). */
export interface SubscriberSearch {
  limit: number;
  by: 'id' | 'email';
  /** '' lists every subscriber by id. By email: already lower case (emailSearchKey). */
  prefix: string;
  /** Where the previous page ended: by id, `key` is the id; by email, the lower-cased email. */
  after?: { key: string; id: string };
}

/**
 * The first string after every string that starts with `prefix`, in code point order (which is
 * UTF-8 byte order: SQLite's BINARY and PostgreSQL's "C"): the prefix with its last code point
 * incremented, skipping the surrogates. null when every string from the prefix on starts with it
 * (a prefix of U+10FFFF only, or '').
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = Array.from(prefix, (char) => char.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

/** An email as searches compare it: ASCII letters in lower case, as both stores' lower() do it here. */
export const emailSearchKey = (email: string) => email.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/** The nextCursor of a page by email: the last row's search key and id, opaque (base64url JSON). */
export const emailCursor = (key: string, id: string) => Buffer.from(JSON.stringify([key, id])).toString('base64url');

/** The position an email cursor names, or undefined when the text is no such cursor. */
export function readEmailCursor(cursor: string): { key: string; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return { key: value[0] as string, id: value[1] as string };
    }
  } catch {
    // not JSON: refused below
  }
  return undefined;
}
