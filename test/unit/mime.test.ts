import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  buildMime,
  chooseBoundary,
  encodeHeaderValue,
  formatMailbox,
  isDeliverableAddress,
  parseMailbox,
  type MimeInput,
} from '../../src/channels/email/mime.js';
import { composeEmail } from '../../src/channels/email/compose-email.js';

/** Decodes a header value made of RFC 2047 B-encoded words, checking each word is whole UTF-8. */
function decodeWords(value: string): string {
  const words = value.split('\r\n ');
  return words
    .map((word) => {
      const match = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$/.exec(word);
      if (!match) throw new Error(`not an encoded word: ${word}`);
      return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(match[1]!, 'base64'));
    })
    .join('');
}

function headerSection(raw: Buffer): string[] {
  const text = raw.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
}

function boundaryOf(raw: Buffer): string {
  return /^Content-Type: multipart\/alternative; boundary="([^"]+)"\r$/m.exec(raw.toString('latin1'))![1]!;
}

function bodyOf(raw: Buffer): string {
  const text = raw.toString('latin1');
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

const base: MimeInput = {
  from: { address: 'noreply@example.com', name: 'Herald' },
  to: { address: 'ada@example.org', name: 'Ada Lovelace' },
  subject: 'Hello',
  text: 'Hi Ada',
  html: null,
  headers: { 'Message-ID': '<msg_1@example.com>', 'X-Herald-Message-Id': 'msg_1' },
  date: new Date(Date.UTC(2026, 10, 28, 14, 9, 0)),
};

describe('encodeHeaderValue', () => {
  it('keeps printable ASCII as it is', () => {
    expect(encodeHeaderValue('Your order #42 has shipped')).toBe('Your order #42 has shipped');
  });

  it('puts CR, LF and tabs on one line so a value cannot start a new header', () => {
    expect(encodeHeaderValue('x\r\nBcc: evil@example.com')).toBe('x Bcc: evil@example.com');
    expect(encodeHeaderValue('a\nb\rc\td')).toBe('a b c d');
    expect(decodeWords(encodeHeaderValue('é\r\nBcc: evil@example.com'))).toBe('é Bcc: evil@example.com');
  });

  it('encodes non-ASCII text as UTF-8 encoded words that decode to the original', () => {
    const value = 'Grüße, Zoë — 日本語のテキスト 🎉';
    const encoded = encodeHeaderValue(value);
    expect(encoded).toMatch(/^[\x20-\x7e\r\n]+$/);
    expect(decodeWords(encoded)).toBe(value);
  });

  it('folds long Unicode values into short lines, never splitting a character', () => {
    for (const value of ['Grüße '.repeat(60), '日本語'.repeat(80), '🎉a'.repeat(70), 'é'.repeat(500)]) {
      const encoded = encodeHeaderValue(value);
      const lines = encoded.split('\r\n');
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(76);
      expect(decodeWords(encoded)).toBe(value);
    }
  });

  it('encodes ASCII that looks like an encoded word, so it is not decoded by the receiver', () => {
    const value = '=?UTF-8?B?ZXZpbA==?=';
    expect(decodeWords(encodeHeaderValue(value))).toBe(value);
  });

  it('encodes very long ASCII rather than exceed the line limit', () => {
    const value = 'a'.repeat(1000);
    const encoded = encodeHeaderValue(value);
    for (const line of encoded.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    expect(decodeWords(encoded)).toBe(value);
  });
});

describe('formatMailbox', () => {
  it.each([
    [{ address: 'a@example.com' }, '<a@example.com>'],
    [{ address: 'a@example.com', name: null }, '<a@example.com>'],
    [{ address: 'a@example.com', name: '  ' }, '<a@example.com>'],
    [{ address: 'a@example.com', name: 'Ada' }, '"Ada" <a@example.com>'],
    [{ address: 'a@example.com', name: 'Lovelace, Ada' }, '"Lovelace, Ada" <a@example.com>'],
    [{ address: 'a@example.com', name: 'Ada "the Countess"' }, '"Ada \\"the Countess\\"" <a@example.com>'],
    [{ address: 'a@example.com', name: 'back\\slash' }, '"back\\\\slash" <a@example.com>'],
    [{ address: 'a@example.com', name: 'Eve\r\nBcc: evil@example.com' }, '"Eve Bcc: evil@example.com" <a@example.com>'],
  ])('formats %j as %s', (mailbox, expected) => {
    expect(formatMailbox(mailbox)).toBe(expected);
  });

  it('encodes a non-ASCII display name', () => {
    const formatted = formatMailbox({ address: 'z@example.com', name: 'Zoë Ünïcødé' });
    expect(formatted).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <z@example\.com>$/);
    expect(decodeWords(formatted.replace(/ <z@example\.com>$/, ''))).toBe('Zoë Ünïcødé');
  });

  it('keeps a long name on one line for email APIs, as encoded words that decode to it', () => {
    const name = 'Lovelace, Ada — Countess of Lovelace, Analyst of the Engine '.repeat(3).trim();
    const formatted = formatMailbox({ address: 'a@example.com', name });
    expect(formatted).not.toMatch(/[\r\n]/);
    expect(
      decodeWords(
        formatted
          .replace(/ <a@example\.com>$/, '')
          .split(' ')
          .join('\r\n '),
      ),
    ).toBe(name);
  });

  it('never lets a sender address end its brackets or its line', () => {
    const formatted = formatMailbox({ address: 'eve@example.com>\r\nBcc: <x@example.com', name: 'Eve' });
    expect(formatted).toBe('"Eve" <eve@example.comBccx@example.com>');
  });
});

describe('parseMailbox', () => {
  it.each([
    ['herald@example.com', { address: 'herald@example.com' }],
    ['  herald@example.com ', { address: 'herald@example.com' }],
    ['Herald <herald@example.com>', { address: 'herald@example.com', name: 'Herald' }],
    ['"Herald, Inc." <herald@example.com>', { address: 'herald@example.com', name: 'Herald, Inc.' }],
    ['<herald@example.com>', { address: 'herald@example.com', name: null }],
  ])('reads %j', (text, mailbox) => {
    expect(parseMailbox(text)).toEqual(mailbox);
  });
});

describe('buildMime', () => {
  it('builds a text-only message that parses back to what was given', async () => {
    const raw = buildMime({ ...base, subject: 'Grüße, Zoë 🎉', to: { address: 'z@example.org', name: 'Zoë' } });
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Grüße, Zoë 🎉');
    expect(mail.from?.value).toEqual([{ address: 'noreply@example.com', name: 'Herald' }]);
    expect(mail.to).toMatchObject({ value: [{ address: 'z@example.org', name: 'Zoë' }] });
    expect(mail.messageId).toBe('<msg_1@example.com>');
    expect(mail.headers.get('x-herald-message-id')).toBe('msg_1');
    expect(mail.headers.get('mime-version')).toBe('1.0');
    expect(mail.date?.toISOString()).toBe('2026-11-28T14:09:00.000Z');
    expect(mail.html).toBe(false);
    // A single-part body ends with the line break that ends its last line.
    expect(mail.text).toBe('Hi Ada\n');
    expect(mail.attachments).toEqual([]);
  });

  it('builds multipart/alternative with the text part first and both parts exact', async () => {
    const text = 'Hello Ada,\n\nYour report is ready: https://example.com/r/1\n';
    const html = '<p>Hello Ada,</p>\n<p>Your <a href="https://example.com/r/1">report</a> is ready.</p>';
    const raw = buildMime({ ...base, text, html });
    expect(headerSection(raw)).toContainEqual(
      expect.stringMatching(/^Content-Type: multipart\/alternative; boundary="/),
    );
    const body = bodyOf(raw);
    expect(body.indexOf('Content-Type: text/plain')).toBeLessThan(body.indexOf('Content-Type: text/html'));
    const mail = await simpleParser(raw);
    expect(mail.text).toBe(text);
    expect(mail.html).toBe(html);
  });

  it('round-trips non-ASCII, long lines, dots and CRLF in both parts', async () => {
    const text = `${'x'.repeat(2000)}\nGrüße — 日本語 🎉\n.\n..leading dots\n\nend`;
    const html = `<p>${'é'.repeat(1500)}</p>\n<p>🎉</p>`;
    const mail = await simpleParser(buildMime({ ...base, text, html }));
    expect(mail.text).toBe(text);
    expect(mail.html).toBe(html);
  });

  it('sends short ASCII lines as 7bit with CRLF line ends', () => {
    const raw = buildMime({ ...base, text: 'line one\nline two\r\nline three\rline four' });
    expect(headerSection(raw)).toContain('Content-Transfer-Encoding: 7bit');
    expect(bodyOf(raw)).toBe('line one\r\nline two\r\nline three\r\nline four\r\n');
  });

  it('switches to base64 for non-ASCII text', () => {
    const raw = buildMime({ ...base, text: 'naïve' });
    expect(headerSection(raw)).toContain('Content-Transfer-Encoding: base64');
    expect(bodyOf(raw)).toBe(Buffer.from('naïve').toString('base64') + '\r\n');
  });

  it('sends base64 text with CRLF line breaks too, whatever breaks it was given', () => {
    const raw = buildMime({ ...base, text: 'é\nb\rc\r\nd' });
    expect(Buffer.from(bodyOf(raw), 'base64').toString()).toBe('é\r\nb\r\nc\r\nd');
  });

  it('does not add a second line break to a 7-bit body that ends with one', async () => {
    expect(bodyOf(buildMime({ ...base, text: 'a\nb\n' }))).toBe('a\r\nb\r\n');
    expect((await simpleParser(buildMime({ ...base, text: 'a\nb\n' }))).text).toBe('a\nb\n');
  });

  it('keeps a 998-character line in 7bit but base64-encodes a 999-character one', () => {
    expect(headerSection(buildMime({ ...base, text: 'a'.repeat(998) }))).toContain('Content-Transfer-Encoding: 7bit');
    expect(headerSection(buildMime({ ...base, text: 'a'.repeat(999) }))).toContain('Content-Transfer-Encoding: base64');
    const lines = (n: number) => `x\n${'a'.repeat(n)}\ny`;
    expect(headerSection(buildMime({ ...base, text: lines(998) }))).toContain('Content-Transfer-Encoding: 7bit');
    expect(headerSection(buildMime({ ...base, text: lines(999) }))).toContain('Content-Transfer-Encoding: base64');
  });

  it('switches to base64 for control characters other than tab', () => {
    expect(headerSection(buildMime({ ...base, text: 'a\tb' }))).toContain('Content-Transfer-Encoding: 7bit');
    expect(headerSection(buildMime({ ...base, text: 'a\x00b\x1bc' }))).toContain('Content-Transfer-Encoding: base64');
  });

  it('wraps base64 at 76 characters', () => {
    const raw = buildMime({ ...base, text: 'é'.repeat(1000) });
    const lines = bodyOf(raw).split('\r\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(76);
  });

  it('keeps every header line within 78 characters for long Unicode subjects and names', () => {
    const raw = buildMime({
      ...base,
      from: { address: 'noreply@example.com', name: 'Équipe de notification — ' + 'é'.repeat(60) },
      to: { address: 'z@example.org', name: 'Zoë '.repeat(40) },
      subject: 'Grüße aus Köln, 日本語のテキスト 🎉 '.repeat(8),
    });
    for (const line of headerSection(raw)) expect(line.length, line).toBeLessThanOrEqual(78);
  });

  it('writes long ASCII display names as folded encoded words, within 78 octets a line', async () => {
    const name = 'Ada Lovelace, Countess of Lovelace (Analyst, Metaphysician) '.repeat(4).trim();
    const raw = buildMime({ ...base, to: { address: 'ada@example.org', name } });
    for (const line of headerSection(raw)) expect(line.length, line).toBeLessThanOrEqual(78);
    expect((await simpleParser(raw)).to).toMatchObject({ value: [{ address: 'ada@example.org', name }] });
  });

  it('encodes a subject whose spaces a fold would lose: at either end, or doubled in a long value', async () => {
    for (const subject of ['  indented', 'trailing ', `${'word '.repeat(20)} two  spaces`]) {
      const raw = buildMime({ ...base, subject });
      expect(headerSection(raw).find((line) => line.startsWith('Subject: '))).toMatch(/^Subject: =\?UTF-8\?B\?/);
      expect((await simpleParser(raw)).subject).toBe(subject);
    }
  });

  it('refuses a header name that is not a field name', () => {
    expect(() => buildMime({ ...base, headers: { 'X-Bad\r\nBcc': 'x' } })).toThrow(/not a header field name/);
    expect(() => buildMime({ ...base, headers: { 'X-Bad:': 'x' } })).toThrow(/not a header field name/);
  });

  it('folds a long ASCII subject at spaces and it reads back unchanged', async () => {
    const subject = 'Your weekly summary of comments, mentions and reactions across all projects '.repeat(4).trim();
    const raw = buildMime({ ...base, subject });
    for (const line of headerSection(raw)) expect(line.length, line).toBeLessThanOrEqual(78);
    expect((await simpleParser(raw)).subject).toBe(subject);
  });

  it('writes only 7-bit bytes, whatever the content', () => {
    const raw = buildMime({
      ...base,
      subject: 'Zoë 🎉',
      to: { address: 'z@example.org', name: 'Zoë' },
      text: '日本語',
      html: '<p>日本語</p>',
    });
    expect(raw.every((byte) => byte < 0x80)).toBe(true);
  });

  it('draws a fresh random boundary per message: never one twice, nothing shared between neighbours', () => {
    const boundaries: string[] = [];
    // More messages than one block of random bytes (256 boundaries), so refills are crossed.
    for (let i = 0; i < 2000; i++) boundaries.push(boundaryOf(buildMime({ ...base, html: '<p>hi</p>' })));
    expect(new Set(boundaries).size).toBe(boundaries.length);
    for (const boundary of boundaries) expect(boundary).toMatch(/^=_herald_[0-9a-f]{32}$/);
    // A per-process token with a counter (the old scheme) shares a long prefix with its neighbour.
    const common = (a: string, b: string) => {
      let n = 0;
      while (n < a.length && a[n] === b[n]) n++;
      return n;
    };
    for (let i = 1; i < boundaries.length; i++) {
      const [a, b] = [boundaries[i - 1]!.slice(9), boundaries[i]!.slice(9)];
      expect(common(a, b), `${a} / ${b}`).toBeLessThan(8);
      expect(common([...a].reverse().join(''), [...b].reverse().join('')), `${a} / ${b}`).toBeLessThan(8);
    }
  });

  it("cannot be closed by content holding the previous email's boundary", async () => {
    const previous = boundaryOf(buildMime({ ...base, html: '<p>first</p>' }));
    const injected = (b: string) =>
      `x\r\n--${b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<script>evil()</script>\r\n--${b}--\r\n`;
    const text = injected(previous);
    const html = `<p>${injected(previous)}</p>`;
    const raw = buildMime({ ...base, text, html });
    const boundary = boundaryOf(raw);
    expect(boundary).not.toBe(previous);
    expect(raw.toString('latin1').split(`--${boundary}`)).toHaveLength(4);
    const mail = await simpleParser(raw);
    expect(mail.text).toBe(text.replace(/\r\n/g, '\n'));
    expect(mail.html).toBe(html.replace(/\r\n/g, '\n'));
    expect(mail.attachments).toEqual([]);
  });

  it('draws again in the unlikely case a 7-bit body holds the boundary drawn', () => {
    const draws = ['aaaa', 'bbbb'];
    expect(chooseBoundary(['text with =_herald_aaaa in it'], () => draws.shift()!)).toBe('=_herald_bbbb');
  });
});

describe('isDeliverableAddress', () => {
  it.each([
    'a@example.com',
    'first.last+tag@sub.example.co.uk',
    "o'brien@example.ie",
    'x_y-z@example-host.io',
    'user@xn--bcher-kva.example',
    `${'a'.repeat(64)}@example.com`,
  ])('accepts %s', (address) => {
    expect(isDeliverableAddress(address)).toBe(true);
  });

  it.each([
    '',
    'plainaddress',
    '@example.com',
    'a@',
    'a@b',
    'a@@example.com',
    'a@b@example.com',
    'a b@example.com',
    'a@exa mple.com',
    'a@example.com\r\nBcc: evil@example.com',
    'a@example.com\n',
    '<a@example.com>',
    'a@example.com>',
    '"a"@example.com',
    'a,b@example.com',
    'a;b@example.com',
    'a@example.com,b@example.com',
    'a@[127.0.0.1]',
    'a\x00@example.com',
    'josé@example.com',
    'a@bücher.example',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
  ])('refuses %j', (address) => {
    expect(isDeliverableAddress(address)).toBe(false);
  });
});

describe('composeEmail', () => {
  const email = { messageId: 'msg_1', environmentId: 'env', to: 'ada@example.org', subject: 'Hi', text: 'Hello' };

  it("derives Message-ID from the message id and the sender's domain", () => {
    const { raw, headers } = composeEmail(email, { address: 'noreply@mail.example.com' });
    expect(headers).toEqual({ 'Message-ID': '<msg_1@mail.example.com>', 'X-Herald-Message-Id': 'msg_1' });
    expect(headerSection(raw)).toContain('Message-ID: <msg_1@mail.example.com>');
  });

  it('falls back to herald.local when the sender has no plain domain to lend', () => {
    for (const address of ['noreply', 'a@example.com>\r\nBcc: x', 'a@exämple.com', 'a@']) {
      expect(composeEmail(email, { address }).headers['Message-ID']).toBe('<msg_1@herald.local>');
    }
  });
});
