import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Trigger data is written by whoever caused the notification (a comment, a display name), and
 * every recipient can read the raw MIME of their own email. Whatever that data holds, the email
 * another recipient gets from the same workflow has exactly Herald's parts and headers.
 */
let sink: SmtpSink;
let h: TestHerald;

beforeAll(async () => {
  sink = await startSmtpSink();
  h = await startTestHerald({ 'smtp-url': sink.url });
  const saved = await h.api('PUT', '/v1/workflows/comment', {
    steps: [
      {
        type: 'email',
        subject: 'New comment: {{ data.title }}',
        html: '<p>{{ data.comment }}</p>',
        text: '{{ data.comment }}',
      },
    ],
  });
  expect(saved.status, saved.text).toBe(200);
});
afterAll(async () => {
  await h.close();
  await sink.close();
});

async function deliver(to: Record<string, string>, data: Record<string, string>): Promise<ReceivedMail> {
  const res = await h.api('POST', '/v1/workflows/comment/trigger', { to, data });
  expect(res.status, res.text).toBe(202);
  const id = res.body.messageIds[0] as string;
  return waitFor(() => sink.received.find((mail) => mail.heraldMessageId === id), {
    timeoutMs: 30_000,
    what: `email ${id}`,
  });
}

/** The boundary a parser reads the structure by. */
function boundaryOf(mail: ReceivedMail): string {
  return (mail.parsed.headers.get('content-type') as { params: { boundary: string } }).params.boundary;
}

/**
 * What a recipient would try: the boundary they saw, and the next ones if it looks like a counter
 * (Herald's boundaries were a per-process token plus a counter before issue 11).
 */
function guesses(seen: string): string[] {
  const counter = /^(=_herald_[^_]+_)([0-9a-z]+)$/.exec(seen);
  if (!counter) return [seen];
  const next = (step: number) => counter[1]! + (parseInt(counter[2]!, 36) + step).toString(36);
  return [seen, next(1), next(2), next(3)];
}

const lf = (value: string) => value.replace(/\r\n|\r|\n/g, '\n');

describe('MIME structure under hostile trigger data', () => {
  it("one recipient's data cannot add a part to another's email, even knowing an earlier boundary", async () => {
    const seen = boundaryOf(
      await deliver({ subscriberId: 'mallory', email: 'mallory@example.com' }, { title: 'a', comment: 'hello' }),
    );

    const phishing = Buffer.from('<a href="https://evil.example/reset">Reset your password</a>').toString('base64');
    const comment =
      guesses(seen)
        .map(
          (b) =>
            `\r\n--${b}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${phishing}\r\n`,
        )
        .join('') +
      `\r\n--${seen}--\r\n` +
      // SMTP's end of data, dot lines, bare CR and LF, an encoded word, a long line.
      '\r\n.\r\nQUIT\r\n..\r\nbare\rCR\nlone LF =?UTF-8?B?ZXZpbA==?= ' +
      'x'.repeat(300);
    const mail = await deliver(
      { subscriberId: 'ada', email: 'ada@example.com', name: 'Ada\r\nBcc: mallory@example.com' },
      { title: `hi\r\nBcc: mallory@example.com\r\n\r\n--${seen}`, comment },
    );

    expect(boundaryOf(mail)).not.toBe(seen);
    // The email can arrive before its outcome (and the content logged with it) is committed.
    const logged = await waitFor(
      async () => {
        const res = await h.api('GET', `/v1/messages/${mail.heraldMessageId}`);
        return res.body.status === 'sent' ? res.body : undefined;
      },
      { timeoutMs: 30_000, what: 'the message to be logged as sent' },
    );
    expect(logged.content.html).toContain(phishing); // the data reached the template as given…
    expect(mail.parsed.html).toBe(lf(logged.content.html)); // …and stayed content, whole
    expect(mail.parsed.html).not.toContain('evil.example');
    expect(mail.parsed.text).toBe(lf(logged.content.text));
    expect(mail.parsed.attachments).toEqual([]);
    const raw = mail.raw.toString('latin1');
    expect(raw.split('\r\n').filter((line) => line.startsWith(`--${boundaryOf(mail)}`))).toHaveLength(3);

    expect(mail.envelopeTo).toEqual(['ada@example.com']);
    expect(mail.parsed.headers.has('bcc')).toBe(false);
    expect(mail.parsed.subject).toBe(logged.subject.replace(/[\r\n\t]+/g, ' '));
    expect(mail.parsed.to).toMatchObject({
      value: [{ address: 'ada@example.com', name: 'Ada Bcc: mallory@example.com' }],
    });
  });
});
