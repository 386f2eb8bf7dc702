import fc from 'fast-check';
import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { buildMime } from '../../src/channels/email/mime.js';

/**
 * Whatever the subject, names, bodies and header values, the message Herald composes reads back in
 * a real parser (mailparser) as exactly what was given: one text part, one HTML part (or the text
 * alone), no attachments, no header Herald did not write, each value equal to the one given modulo
 * the normalisation buildMime documents. Content that tries to be structure (boundaries, the
 * previous email's boundary, part headers, encoded words, dots, bare CR or LF, NUL, long lines)
 * must stay content. fast-check prints the seed and the shrunk counterexample on failure.
 */
const RUNS = 400;

/** The boundary of the email composed last: content quotes it, as a recipient who saw it would. */
let previousBoundary = '=_herald_00000000000000000000000000000000';

/** Ways content can quote a boundary it has seen: bare, as a delimiter line, closing, opening a part. */
const quoting: Record<string, (boundary: string) => string> = {
  '{{previous}}': (b) => b,
  '{{delimiter}}': (b) => `\r\n--${b}\r\n`,
  '{{close}}': (b) => `\r\n--${b}--\r\n`,
  '{{part}}': (b) => `\r\n--${b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<b>injected</b>\r\n`,
};

const structural = [
  '\r',
  '\n',
  '\r\n',
  '\n\r',
  '\r\r\n',
  '\r\n\r\n',
  '--',
  '--=_herald_',
  '=_herald_',
  '--\r\n',
  'Content-Type: text/html; charset=utf-8\r\n\r\n',
  'Content-Transfer-Encoding: base64\r\n',
  'Content-Disposition: attachment; filename="x.exe"\r\n',
  'MIME-Version: 1.0',
  'boundary="x"',
  'Bcc: evil@example.com',
  '=?UTF-8?B?ZXZpbA==?=',
  '=?utf-8?q?=41=42?=',
  '=?',
  '?=',
  '.',
  '\r\n.\r\n',
  '\n.\n',
  '..',
  '\0',
  '\t',
  ' ',
  '  ',
  '"',
  '\\',
  '<',
  '>',
  ',',
  ';',
  ':',
  '@',
  '(',
  ')',
  'From ',
  '\x7f',
  '\x1b',
];
const unicode = ['é', 'Zoë', '日本語', '🎉', '\u2028', '\u0085', '\ufeff', '\u00a0', '\ud800', '\udfff'];

const asciiPiece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...structural) },
  { weight: 2, arbitrary: fc.constantFrom(...Object.keys(quoting)) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 1100 }).map((n) => 'x'.repeat(n)) },
);
const anyPiece = fc.oneof(
  { weight: 3, arbitrary: asciiPiece },
  { weight: 1, arbitrary: fc.constantFrom(...unicode) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);
const joined = (piece: fc.Arbitrary<string>, maxLength: number) =>
  fc.array(piece, { maxLength }).map((pieces) => pieces.join(''));
/** ASCII text (Herald sends it 7-bit when its lines are short) or anything at all (base64). */
const content = (maxLength: number) => fc.oneof(joined(asciiPiece, maxLength), joined(anyPiece, maxLength));

/** Strings with the placeholders for the previous email's boundary filled in at composition. */
const withPrevious = (value: string) =>
  value.replace(/\{\{(?:previous|delimiter|close|part)\}\}/g, (key) => quoting[key]!(previousBoundary));

const input = fc.record({
  subject: content(12),
  fromName: fc.option(content(8)),
  toName: fc.option(content(8)),
  text: content(40),
  html: fc.option(content(40)),
  heraldId: content(6),
  extra: content(10),
});

/** What a parser reads back from a body: line breaks as LF, lone surrogates as U+FFFD. */
const bodyRead = (value: string) => value.toWellFormed().replace(/\r\n|\r|\n/g, '\n');
/** What a parser reads back from a header value: one line, runs of CR, LF and tab as one space. */
const headerRead = (value: string) => value.toWellFormed().replace(/[\r\n\t]+/g, ' ');
/** A display name reads back trimmed too. */
const nameRead = (value: string | null) => (value === null ? '' : headerRead(value).trim());

/**
 * mailparser decodes encoded words only in the headers it knows (Subject, addresses); others come
 * unfolded but raw. Herald writes a value either as it is (never holding `=?`) or as nothing but
 * UTF-8 B words, each whole UTF-8.
 */
function decodeRaw(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const words = /^=\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=( =\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=)*$/.test(text)
    ? text.split(' ')
    : null;
  if (!words) {
    expect(text).not.toContain('=?');
    return text;
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return words.map((word) => utf8.decode(Buffer.from(word.slice(10, -2), 'base64'))).join('');
}

function single(address: AddressObject | AddressObject[] | undefined) {
  expect(Array.isArray(address)).toBe(false);
  return (address as AddressObject).value;
}

/** What every message on the wire must be: 7-bit, CRLF lines within 998 octets. */
function expectWireForm(raw: Buffer): void {
  expect(raw.every((byte) => byte > 0 && byte < 0x80)).toBe(true);
  const text = raw.toString('latin1');
  expect(text).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
  expect(text.endsWith('\r\n')).toBe(true);
  for (const line of text.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
}

describe('buildMime read back by mailparser', () => {
  it('yields exactly the parts and headers given, whatever their content', async () => {
    await fc.assert(
      fc.asyncProperty(input, async (generated) => {
        const given = {
          subject: withPrevious(generated.subject),
          fromName: generated.fromName === null ? null : withPrevious(generated.fromName),
          toName: generated.toName === null ? null : withPrevious(generated.toName),
          text: withPrevious(generated.text),
          html: generated.html === null ? null : withPrevious(generated.html),
          heraldId: withPrevious(generated.heraldId),
          extra: withPrevious(generated.extra),
        };
        const raw = buildMime({
          from: { address: 'noreply@example.com', name: given.fromName },
          to: { address: 'ada@example.org', name: given.toName },
          subject: given.subject,
          text: given.text,
          html: given.html,
          headers: {
            'Message-ID': '<msg_1@example.com>',
            'X-Herald-Message-Id': given.heraldId,
            'X-Entity-Ref-ID': given.extra,
          },
          date: new Date(Date.UTC(2026, 10, 28, 14, 9, 0)),
        });
        expectWireForm(raw);
        const mail = await simpleParser(raw);
        const multipart = Boolean(given.html);
        const topLevel = multipart ? ['content-type'] : ['content-type', 'content-transfer-encoding'];
        // mailparser leaves out a header whose value is empty.
        const written = {
          subject: given.subject,
          'x-herald-message-id': given.heraldId,
          'x-entity-ref-id': given.extra,
        };
        const present = Object.keys(written).filter((name) => headerRead(written[name as keyof typeof written]) !== '');
        expect([...mail.headers.keys()].sort()).toEqual(
          ['from', 'to', 'date', 'message-id', 'mime-version', ...present, ...topLevel].sort(),
        );
        expect(mail.subject).toBe(headerRead(given.subject) || undefined);
        expect(decodeRaw(mail.headers.get('x-herald-message-id'))).toBe(headerRead(given.heraldId) || undefined);
        expect(decodeRaw(mail.headers.get('x-entity-ref-id'))).toBe(headerRead(given.extra) || undefined);
        expect(mail.messageId).toBe('<msg_1@example.com>');
        expect(mail.date?.toISOString()).toBe('2026-11-28T14:09:00.000Z');
        expect(single(mail.from)).toEqual([{ address: 'noreply@example.com', name: nameRead(given.fromName) }]);
        expect(single(mail.to)).toEqual([{ address: 'ada@example.org', name: nameRead(given.toName) }]);
        expect(mail.attachments).toEqual([]);

        if (multipart) {
          // The boundary the parser took the structure from.
          const boundary = (mail.headers.get('content-type') as { params: { boundary: string } }).params.boundary;
          expect(boundary).toMatch(/^=_herald_[0-9a-f]{32}$/);
          expectDelimiters(raw, boundary);
          previousBoundary = boundary;
          expect(mail.text ?? '').toBe(bodyRead(given.text)); // no text at all for an empty part
          expect(mail.html).toBe(bodyRead(given.html!));
        } else {
          expect(mail.html).toBe(false);
          // A single 7-bit part gains the final line break the message ends with.
          const read = bodyRead(given.text);
          const sevenBit = mail.headers.get('content-transfer-encoding') === '7bit';
          expect(mail.text ?? '').toBe(sevenBit && !read.endsWith('\n') ? read + '\n' : read);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * The structure on the wire, apart from any parser: a multipart message has exactly two delimiter
 * lines and one closing line of its declared boundary, and no other line starts with it.
 */
function expectDelimiters(raw: Buffer, boundary: string): void {
  const text = raw.toString('latin1');
  const lines = text.split('\r\n').filter((line) => line.startsWith(`--${boundary}`));
  expect(lines).toEqual([`--${boundary}`, `--${boundary}`, `--${boundary}--`]);
}

/**
 * The same bodies and subject through nodemailer's MailComposer, read back by the same parser, read
 * the same: Herald's normalisation is the one a well-kept composer applies. Only ordinary input
 * compares, since the two differ by design elsewhere. For bodies: nodemailer keeps a lone CR (Herald
 * sends a line break, as RFC 2046 §4.1.1 wants) and leaves out an empty part. For subjects: nodemailer
 * drops leading spaces, keeps tabs, and lets a receiver decode text that looks like an encoded word
 * or collapse doubled spaces in long values (Herald keeps each as given). Display names differ in
 * the same ways, so they are left to the property above.
 */
describe('buildMime against nodemailer', () => {
  const ordinarySubject = (value: string) =>
    value
      .replace(/[\r\n\t ]+/g, ' ')
      .replaceAll('=?', '=')
      .trim();
  const ordinaryBody = (value: string) => 'a' + value.replace(/\r(?!\n)/g, '');

  it('reads back the same subject and bodies as MailComposer does for ordinary input', async () => {
    await fc.assert(
      fc.asyncProperty(input, async (generated) => {
        const subject = ordinarySubject(generated.subject);
        const text = ordinaryBody(generated.text);
        const html = ordinaryBody(generated.html ?? '');
        const ours = await simpleParser(
          buildMime({
            from: { address: 'noreply@example.com' },
            to: { address: 'ada@example.org' },
            subject,
            text,
            html,
            headers: {},
            date: new Date(),
          }),
        );
        const theirs = await simpleParser(
          await new MailComposer({ from: 'noreply@example.com', to: 'ada@example.org', subject, text, html })
            .compile()
            .build(),
        );
        expect(ours.subject).toBe(theirs.subject);
        expect(ours.text).toBe(theirs.text);
        expect(ours.html).toBe(theirs.html);
      }),
      { numRuns: RUNS / 2 },
    );
  });
});
