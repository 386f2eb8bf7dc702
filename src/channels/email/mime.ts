import { randomBytes } from 'node:crypto';

/** A parsed sender such as `Herald <noreply@example.com>`. */
export interface Mailbox {
  address: string;
  name?: string | null;
}

export interface MimeInput {
  from: Mailbox;
  to: Mailbox;
  subject: string;
  text: string;
  html?: string | null;
  /** Extra headers, already single-line ASCII-safe names; values are encoded here. */
  headers: Record<string, string>;
  date: Date;
}

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** Random per process, then a counter: unique boundaries without a random draw per email. */
const BOUNDARY_TOKEN = randomBytes(9).toString('base64url');
let boundaryCount = 0;

/**
 * Bytes of text per encoded word: 42 bytes are 56 base64 characters, 68 with the `=?UTF-8?B?…?=`
 * wrapper, so even the first line `Subject: ` + word stays within 78 octets (RFC 5322 §2.1.1).
 */
const WORD_BYTES = 42;

/** RFC 2047 encoded words, split on character boundaries and folded so no line passes 78 octets. */
function encodeWords(value: string): string {
  const words: string[] = [];
  let chunk = '';
  let chunkBytes = 0;
  for (const char of value) {
    const bytes = Buffer.byteLength(char);
    if (chunkBytes + bytes > WORD_BYTES) {
      words.push(chunk);
      chunk = '';
      chunkBytes = 0;
    }
    chunk += char;
    chunkBytes += bytes;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join('\r\n ');
}

/** Folds a long ASCII value at spaces so lines stay within 78 octets where words allow (RFC 5322 §2.2.3). */
function foldAscii(value: string, nameLength: number): string {
  const lines: string[] = [];
  let current = '';
  let room = 78 - nameLength - 2; // the first line also holds "Name: "
  for (const word of value.split(' ')) {
    if (current && current.length + 1 + word.length > room) {
      lines.push(current);
      current = word;
      room = 77; // continuation lines start with one space
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  lines.push(current);
  return lines.join('\r\n ');
}

/** A header value safe to put on the wire: printable ASCII (folded) or encoded words, no CR/LF of its own. */
export function encodeHeaderValue(value: string, nameLength = 'Subject'.length): string {
  const oneLine = value.replace(/[\r\n\t]+/g, ' ');
  // Words over 900 characters cannot be folded below the 998-octet line limit: encode those.
  if (ASCII_PRINTABLE.test(oneLine) && !/=\?|[^ ]{900}/.test(oneLine)) return foldAscii(oneLine, nameLength);
  return encodeWords(oneLine);
}

export function formatMailbox(mailbox: Mailbox): string {
  const name = mailbox.name?.replace(/[\r\n\t]+/g, ' ').trim();
  if (!name) return `<${mailbox.address}>`;
  if (ASCII_PRINTABLE.test(name) && !/=\?/.test(name)) {
    return `"${name.replace(/(["\\])/g, '\\$1')}" <${mailbox.address}>`;
  }
  return `${encodeWords(name)} <${mailbox.address}>`;
}

/** `Sat, 28 Nov 2026 14:09:00 +0000`, the RFC 5322 date form. */
export function formatDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

const NOT_7BIT = /[^\x09\x20-\x7e\r\n]/;

/** True when some line passes SMTP's 998-octet limit. A scan, not a regex: this runs per email. */
function hasOverlongLine(body: string): boolean {
  for (let start = 0; start < body.length;) {
    const newline = body.indexOf('\n', start);
    const end = newline === -1 ? body.length : newline;
    if (end - start > 998) return true;
    start = end + 1;
  }
  return false;
}

/** 7-bit text is sent as it is; anything else, or a line over 998 octets, as base64. */
function needsBase64(body: string): boolean {
  return NOT_7BIT.test(body) || hasOverlongLine(body);
}

function encodeBody(body: string, contentType: string): string {
  if (!needsBase64(body)) {
    return (
      `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n` +
      body.replace(/\r\n|\r|\n/g, '\r\n')
    );
  }
  const encoded = Buffer.from(body).toString('base64');
  let wrapped = '';
  for (let i = 0; i < encoded.length; i += 76) wrapped += encoded.slice(i, i + 76) + '\r\n';
  return `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n` + wrapped;
}

/**
 * Composes the MIME message directly: plain text alone, or multipart/alternative with text and
 * HTML. Building it here rather than through a general-purpose composer is what keeps sending
 * cheap (composition was most of the CPU per email in our measurements).
 */
export function buildMime(input: MimeInput): Buffer {
  let head =
    `From: ${formatMailbox(input.from)}\r\n` +
    `To: ${formatMailbox(input.to)}\r\n` +
    `Subject: ${encodeHeaderValue(input.subject)}\r\n` +
    `Date: ${formatDate(input.date)}\r\n`;
  for (const [name, value] of Object.entries(input.headers)) {
    head += `${name}: ${encodeHeaderValue(value, name.length)}\r\n`;
  }
  head += 'MIME-Version: 1.0\r\n';
  if (!input.html) return Buffer.from(head + encodeBody(input.text, 'text/plain') + '\r\n');
  // Base64 bodies cannot contain "=_"; 7-bit bodies would have to guess the process token.
  const boundary = `=_herald_${BOUNDARY_TOKEN}_${(boundaryCount++).toString(36)}`;
  return Buffer.from(
    head +
      `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n` +
      `--${boundary}\r\n${encodeBody(input.text, 'text/plain')}\r\n` +
      `--${boundary}\r\n${encodeBody(input.html, 'text/html')}\r\n` +
      `--${boundary}--\r\n`,
  );
}

/** Parses `Name <address>` or a bare address. */
export function parseMailbox(value: string): Mailbox {
  const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value);
  if (!match) return { address: value.trim() };
  const name = match[1]!.replace(/^"(.*)"$/, '$1');
  return { address: match[2]!.trim(), name: name || null };
}

/**
 * A deliberately plain check: one @, printable ASCII only, no spaces or specials, sane lengths.
 * Non-ASCII addresses need SMTPUTF8 end to end, which most servers lack; international domains
 * are accepted in their punycode form (`xn--…`).
 */
export function isDeliverableAddress(address: string): boolean {
  return (
    address.length <= 254 &&
    /^[^\s@<>()[\]\\,;:"\x00-\x1f\x7f-\uffff]{1,64}@[^\s@<>()[\]\\,;:"\x00-\x1f\x7f-\uffff]+\.[^\s@<>()[\]\\,;:"\x00-\x1f\x7f-\uffff]+$/.test(
      address,
    )
  );
}
