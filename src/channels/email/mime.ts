import { randomFillSync } from 'node:crypto';

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
  /** Extra headers (Message-ID, X-Herald-Message-Id, …): names are checked, values encoded here. */
  headers: Record<string, string>;
  date: Date;
}

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** RFC 5322 §2.1.1: lines SHOULD stay within 78 octets and MUST stay within 998. */
const LINE_SHOULD = 78;
const LINE_MUST = 998;

/**
 * Random bytes per boundary: 128 bits, so one email's boundary tells nothing about another's (a
 * recipient who could predict the next boundary could close a part of someone else's email with
 * their own trigger data). Drawn from the CSPRNG in blocks: one call per 256 boundaries.
 */
const BOUNDARY_BYTES = 16;
const randomBlock = Buffer.alloc(BOUNDARY_BYTES * 256);
let randomOffset = randomBlock.length;

function randomToken(): string {
  if (randomOffset === randomBlock.length) {
    randomFillSync(randomBlock);
    randomOffset = 0;
  }
  // Hex: no `-`, so no boundary can end in `--` and read as another's closing delimiter.
  const token = randomBlock.toString('hex', randomOffset, randomOffset + BOUNDARY_BYTES);
  randomOffset += BOUNDARY_BYTES;
  return token;
}

/**
 * A multipart boundary that occurs in none of the 7-bit bodies. `=_` never occurs in base64, so
 * base64 bodies need no check; a 7-bit body holding a fresh 128-bit token is as good as impossible,
 * and a new one is drawn if it ever happens. `draw` is for tests.
 */
export function chooseBoundary(sevenBitBodies: string[], draw: () => string = randomToken): string {
  for (;;) {
    const boundary = `=_herald_${draw()}`;
    if (!sevenBitBodies.some((body) => body.includes(boundary))) return boundary;
  }
}

/**
 * Bytes of text per encoded word: 42 bytes are 56 base64 characters, 68 with the `=?UTF-8?B?…?=`
 * wrapper, so even the first line `Subject: ` + word stays within 78 octets (RFC 5322 §2.1.1).
 */
const WORD_BYTES = 42;

/**
 * RFC 2047 encoded words, split on character boundaries, joined by `separator` (a fold, or one
 * space where the value must stay on one line). Whitespace between encoded words is not part of
 * the value (RFC 2047 §6.2), so the value decodes exactly, spaces at either end included. A lone
 * surrogate cannot be UTF-8 and becomes U+FFFD.
 */
function encodeWords(value: string, separator = '\r\n '): string {
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
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join(separator);
}

/**
 * Folds printable ASCII at single spaces (RFC 5322 §2.2.3: unfolding removes only the CRLF, so the
 * value reads back unchanged), aiming at 78 octets per line; a word too long for that gets a line
 * of its own. Undefined when the value cannot travel as it is: `=?` (a receiver would decode it),
 * white space at either end or doubled where a fold would make it ambiguous, or a word that would
 * pass 998 octets. Those are sent as encoded words.
 */
function foldAscii(value: string, nameLength: number): string | undefined {
  if (!ASCII_PRINTABLE.test(value) || value.includes('=?') || value.startsWith(' ') || value.endsWith(' ')) {
    return undefined;
  }
  const firstRoom = LINE_SHOULD - nameLength - 2; // the first line also holds "Name: "
  if (value.length <= firstRoom) return value;
  if (value.includes('  ')) return undefined;
  const words = value.split(' ');
  let line = words[0]!;
  if (nameLength + 2 + line.length > LINE_MUST) return undefined;
  let room = firstRoom;
  let folded = '';
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (line.length + 1 + word.length <= room) {
      line += ' ' + word;
      continue;
    }
    if (1 + word.length > LINE_MUST) return undefined;
    folded += line + '\r\n ';
    line = word;
    room = LINE_SHOULD - 1; // continuation lines start with the folded space
  }
  return folded + line;
}

/** Line breaks and tabs in a header value: a header is one line, so each run becomes one space. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ');
}

/**
 * A header value safe to put on the wire: printable ASCII (folded) or encoded words, no CR/LF of
 * its own. It decodes to `value` with each run of CR, LF and tab as one space.
 */
export function encodeHeaderValue(value: string, nameLength = 'Subject'.length): string {
  const line = oneLine(value);
  return foldAscii(line, nameLength) ?? encodeWords(line);
}

/** Quoted display names up to this length; longer ones are encoded words, which fold. */
const QUOTED_NAME_MAX = 60;

/**
 * An address as it may appear between `<` and `>`. Addresses Herald sends to are checked by
 * isDeliverableAddress before they get here; a sender from configuration may not have been, so
 * anything that could end the address or the header (white space, controls, `<>`, quotes, list
 * separators, non-ASCII) is dropped rather than written.
 */
function headerAddress(address: string): string {
  return address.replace(/[^\x21-\x7e]|[<>()[\]\\,;:"]/g, '');
}

function mailbox(value: Mailbox, separator: string): string {
  const address = headerAddress(value.address);
  const name = value.name ? oneLine(value.name).trim() : '';
  if (!name) return `<${address}>`;
  if (name.length <= QUOTED_NAME_MAX && ASCII_PRINTABLE.test(name) && !name.includes('=?')) {
    return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
  }
  return `${encodeWords(name, separator)} <${address}>`;
}

/**
 * A mailbox on one line (`"Name" <address>`, or encoded words for other names), for email APIs
 * that take the sender as a string. The name decodes to the given one, trimmed, with line breaks
 * and tabs as spaces.
 */
export function formatMailbox(value: Mailbox): string {
  return mailbox(value, ' ');
}

/** `Sat, 28 Nov 2026 14:09:00 +0000`, the RFC 5322 date form. */
export function formatDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

const NOT_7BIT = /[^\x09\x20-\x7e\r\n]/;

/**
 * True when some line of CRLF text passes SMTP's 998-octet limit (CRLF not counted). A scan, not a
 * regex: this runs per email.
 */
function hasOverlongLine(body: string): boolean {
  for (let start = 0; start < body.length;) {
    const newline = body.indexOf('\n', start);
    const length = newline === -1 ? body.length - start : newline - 1 - start;
    if (length > LINE_MUST) return true;
    if (newline === -1) return false;
    start = newline + 1;
  }
  return false;
}

/**
 * Text travels with CRLF line breaks (RFC 2046 §4.1.1), in base64 too; a lone CR or LF is a line
 * break as well. Without a CR, one plain replacement does it.
 */
function crlfLines(body: string): string {
  if (!body.includes('\r')) return body.replaceAll('\n', '\r\n');
  return body.replace(/\r\n|\r|\n/g, '\r\n');
}

interface EncodedPart {
  /** Content-Type and Content-Transfer-Encoding, and the blank line that ends them. */
  head: string;
  body: string;
  sevenBit: boolean;
}

/**
 * 7-bit text (printable ASCII and tabs, lines within 998 octets) is sent as it is: nothing in it
 * can be read as structure but a boundary line, and boundaries are chosen not to occur in it.
 * Anything else (non-ASCII, NUL and other controls, long lines) is base64, 76 characters a line.
 */
function encodePart(text: string, contentType: string): EncodedPart {
  const body = crlfLines(text);
  // An empty 7-bit part is ambiguous (parsers read the delimiter's CRLF as a line of it); an empty
  // base64 part is not.
  if (body !== '' && !NOT_7BIT.test(body) && !hasOverlongLine(body)) {
    return {
      head: `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n`,
      body,
      sevenBit: true,
    };
  }
  const encoded = Buffer.from(body).toString('base64');
  let wrapped = '';
  for (let i = 0; i < encoded.length; i += 76) wrapped += encoded.slice(i, i + 76) + '\r\n';
  return {
    head: `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
    body: wrapped,
    sevenBit: false,
  };
}

/** A header field name (RFC 5322 §3.6.8): printable ASCII but the colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Composes the MIME message directly: plain text alone, or multipart/alternative with text and
 * HTML (an empty HTML body sends text alone). Building it here rather than through a
 * general-purpose composer keeps sending cheap: nodemailer's MailComposer takes over ten times the
 * CPU for the same message (bench/mime-compose.js). test/property/mime.property.test.ts checks with
 * mailparser that no content, however crafted, reads back as structure.
 *
 * What a parser reads back: each part's text with every line break as CRLF; a single 7-bit part
 * gains a final line break when it has none (the message ends with one); header values and names
 * as encodeHeaderValue and formatMailbox say.
 *
 * Every character written is ASCII. The Buffer is still made as UTF-8, not latin1 (a little
 * cheaper): a character that slipped through could then only become 8-bit bytes, never a CR or LF.
 */
export function buildMime(input: MimeInput): Buffer {
  let head =
    `From: ${mailbox(input.from, '\r\n ')}\r\n` +
    `To: ${mailbox(input.to, '\r\n ')}\r\n` +
    `Subject: ${encodeHeaderValue(input.subject)}\r\n` +
    `Date: ${formatDate(input.date)}\r\n`;
  for (const [name, value] of Object.entries(input.headers)) {
    if (!FIELD_NAME.test(name)) throw new Error(`not a header field name: ${JSON.stringify(name)}`);
    head += `${name}: ${encodeHeaderValue(value, name.length)}\r\n`;
  }
  head += 'MIME-Version: 1.0\r\n';
  const text = encodePart(input.text, 'text/plain');
  if (!input.html) {
    const end = text.body.endsWith('\r\n') ? '' : '\r\n';
    return Buffer.from(head + text.head + text.body + end);
  }
  const html = encodePart(input.html, 'text/html');
  const boundary = chooseBoundary([text, html].filter((part) => part.sevenBit).map((part) => part.body));
  return Buffer.from(
    head +
      `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n` +
      `--${boundary}\r\n${text.head}${text.body}\r\n` +
      `--${boundary}\r\n${html.head}${html.body}\r\n` +
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
