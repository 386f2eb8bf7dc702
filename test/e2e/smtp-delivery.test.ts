import { afterEach, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startParkingSmtpSink } from '../support/parking-smtp-sink.js';
import { startSmtpSink, type SmtpSinkOptions } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

/** The domain of the default --email-from, which Message-ID uses. */
const ID_DOMAIN = 'localhost.localdomain';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Herald sending to its own SMTP sink; each test gets a fresh pair so sink rules do not mix. */
async function start(sinkOptions: SmtpSinkOptions = {}, settings: Record<string, string> = {}) {
  const sink = await startSmtpSink(sinkOptions);
  cleanups.push(() => sink.close());
  const h = await startTestHerald({ 'smtp-url': sink.url, 'retry-schedule': '50ms,100ms', ...settings });
  cleanups.push(() => h.close());
  return { sink, h };
}

async function putWorkflow(h: TestHerald, key: string, step: Record<string, string>): Promise<void> {
  const res = await h.api('PUT', `/v1/workflows/${key}`, { steps: [{ type: 'email', ...step }] });
  expect(res.status, res.text).toBe(200);
}

async function trigger(h: TestHerald, key: string, body: Record<string, unknown>): Promise<string[]> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, body);
  expect(res.status, res.text).toBe(202);
  return res.body.messageIds as string[];
}

/** Waits until the message reaches `status` and returns it with its attempts. */
async function messageWithStatus(h: TestHerald, id: string, status: string, timeoutMs = 10_000): Promise<any> {
  return waitFor(
    async () => {
      const res = await h.api('GET', `/v1/messages/${id}`);
      return res.body.status === status ? res.body : undefined;
    },
    { timeoutMs, what: `message ${id} to be ${status}` },
  );
}

function recipients(count: number, prefix = 'user'): { subscriberId: string; email: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    subscriberId: `${prefix}-${i}`,
    email: `${prefix}-${i}@example.com`,
  }));
}

/**
 * A port nothing listens on. Not a freed ephemeral port: with many test files starting servers on
 * port 0 at once, another one can take it in between (and then the send waits for an SMTP greeting
 * that never comes instead of being refused). Port 1 (tcpmux) is below the ephemeral range and
 * unused here.
 */
const CLOSED_PORT = 1;

describe('SMTP delivery', () => {
  it('delivers each message with X-Herald-Message-Id and a Message-ID derived from the message id', async () => {
    const { sink, h } = await start();
    await putWorkflow(h, 'welcome', { subject: 'Welcome {{ subscriber.name }}', text: 'Hi {{ subscriber.name }}' });
    const ids = await trigger(h, 'welcome', {
      to: [
        { subscriberId: 'ada', email: 'ada@example.com', name: 'Ada' },
        { subscriberId: 'bob', email: 'bob@example.com', name: 'Bob' },
      ],
    });
    expect(ids).toHaveLength(2);
    await waitFor(() => sink.received.length === 2, { what: 'two emails' });

    for (const [i, id] of ids.entries()) {
      const address = ['ada@example.com', 'bob@example.com'][i]!;
      const mail = sink.received.find((m) => m.heraldMessageId === id);
      expect(mail, `email for ${id}`).toBeDefined();
      expect(mail!.messageIdHeader).toBe(`<${id}@${ID_DOMAIN}>`);
      expect(mail!.envelopeTo).toEqual([address]);
      expect(mail!.parsed.to).toMatchObject({ value: [{ address }] });

      const message = await messageWithStatus(h, id, 'sent');
      // The provider's id for it is the Message-ID the email carries, not one nodemailer made up.
      expect(message).toMatchObject({
        recipient: address,
        attemptCount: 1,
        reason: null,
        providerMessageId: `<${id}@${ID_DOMAIN}>`,
      });
      expect(message.subject).toBe(i === 0 ? 'Welcome Ada' : 'Welcome Bob');
      expect(message.sentAt).toEqual(expect.any(Number));
      expect(message.attempts.map((a: any) => a.outcome)).toEqual(['sent']);
      expect(message.attempts[0].detail).toMatch(/^250/);
    }
    expect(sink.received).toHaveLength(2);
  });

  it('delivers all of 50 messages on retry when the first attempt of each gets a 451', async () => {
    const { sink, h } = await start({
      reject: (_id, attempt) => (attempt === 1 ? { code: 451, message: '4.3.0 try again later' } : undefined),
    });
    await putWorkflow(h, 'digest', { subject: 'Digest', text: 'Your digest' });
    const ids = [
      ...(await trigger(h, 'digest', { to: recipients(25, 'a') })),
      ...(await trigger(h, 'digest', { to: recipients(25, 'b') })),
    ];
    expect(new Set(ids).size).toBe(50);

    await waitFor(() => sink.received.length >= 50, { what: '50 emails accepted' });
    for (const id of ids) {
      const message = await messageWithStatus(h, id, 'sent');
      expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'sent']);
      expect(message.attempts[0].detail).toMatch(/451/);
      expect(message.attemptCount).toBe(2);
      // The sink keys attempts by X-Herald-Message-Id: two per id means both carried the same one.
      expect(sink.attempts.get(id)).toBe(2);
      const accepted = sink.received.filter((m) => m.heraldMessageId === id);
      expect(accepted).toHaveLength(1);
      expect(accepted[0]!.messageIdHeader).toBe(`<${id}@${ID_DOMAIN}>`);
    }
    expect(sink.received).toHaveLength(50);
    expect(sink.attempts.size).toBe(50);
  });

  it('sends the same Message-ID and X-Herald-Message-Id on the refused attempt and on the retry', async () => {
    // startSmtpSink keeps only accepted mail; this sink records the headers of every attempt.
    const sink = await startParkingSmtpSink({
      park: () => false,
      reject: (_id, attempt) => (attempt === 1 ? { code: 451, message: '4.3.0 try later' } : undefined),
    });
    cleanups.push(() => sink.close());
    const h = await startTestHerald({ 'smtp-url': sink.url, 'retry-schedule': '50ms' });
    cleanups.push(() => h.close());

    await putWorkflow(h, 'w', { subject: 'Hi', text: 'Hi' });
    const ids = await trigger(h, 'w', { to: recipients(5) });
    for (const id of ids) await messageWithStatus(h, id, 'sent');
    for (const id of ids) {
      const expected = { heraldMessageId: id, messageIdHeader: `<${id}@${ID_DOMAIN}>` };
      expect(sink.arrived.filter((m) => m.heraldMessageId === id)).toEqual([expected, expected]);
    }
  });

  it('cancels a send that times out, so it is not delivered late as well as on retry', async () => {
    // The first five messages (one per pooled connection) get no answer; the next five wait in
    // the pool's queue behind them. All ten time out, are retried, and must arrive once each.
    const sink = await startParkingSmtpSink({ park: (arrival) => arrival <= 5 });
    cleanups.push(() => sink.close());
    // Ten timeouts in a row would open the SMTP integration's breaker; this test is about the pool.
    const h = await startTestHerald({
      'smtp-url': sink.url,
      'retry-schedule': '50ms',
      'send-timeout': '500ms',
      'breaker-threshold': '100',
    });
    cleanups.push(() => h.close());

    await putWorkflow(h, 'w', { subject: 'Hi', text: 'Hi' });
    const ids = await trigger(h, 'w', { to: recipients(10) });
    for (const id of ids) {
      const message = await messageWithStatus(h, id, 'sent');
      expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'sent']);
      expect(message.attempts[0].detail).toBe('timed out waiting for the SMTP server');
    }
    // Queued sends that were given up on would have gone out before the retries queued after them.
    expect([...sink.accepted].sort()).toEqual([...ids].sort());
  });

  it('fails a message at once on a 550, with one attempt and no retry', async () => {
    const { sink, h } = await start({ reject: () => ({ code: 550, message: '5.1.1 no such user' }) });
    await putWorkflow(h, 'w', { subject: 'Hi', text: 'Hi' });
    const [id] = await trigger(h, 'w', { to: { subscriberId: 'ghost', email: 'ghost@example.com' } });
    const message = await messageWithStatus(h, id!, 'failed');
    expect(message.reason).toMatch(/^SMTP 550: .*no such user/);
    expect(message.attemptCount).toBe(1);
    expect(message.attempts).toHaveLength(1);
    expect(message.attempts[0]).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/550/) });
    expect(message.sentAt).toBeNull();
    // 'failed' is final: the job is gone, so nothing is left to retry.
    const queue = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(queue).toMatch(/^herald_queue_depth 0$/m);
    expect(sink.attempts.get(id!)).toBe(1);
    expect(sink.received).toHaveLength(0);
  });

  it('fails a message when the retry schedule runs out, naming the attempts', async () => {
    const { sink, h } = await start(
      { reject: () => ({ code: 451, message: '4.3.0 still busy' }) },
      { 'retry-schedule': '50ms,50ms' },
    );
    await putWorkflow(h, 'w', { subject: 'Hi', text: 'Hi' });
    const [id] = await trigger(h, 'w', { to: { subscriberId: 'ada', email: 'ada@example.com' } });
    const message = await messageWithStatus(h, id!, 'failed');
    expect(message.reason).toMatch(/^gave up after 3 attempts: SMTP 451: .*still busy/);
    expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'retry', 'retry']);
    expect(message.attemptCount).toBe(3);
    expect(sink.attempts.get(id!)).toBe(3);
    expect(sink.received).toHaveLength(0);
  });

  it('retries while the SMTP server is unreachable, then fails after the schedule', async () => {
    const port = CLOSED_PORT;
    // The first delay is long enough for the test to see the message waiting in 'retrying'.
    const h = await startTestHerald({ 'smtp-url': `smtp://127.0.0.1:${port}`, 'retry-schedule': '1s,50ms' });
    cleanups.push(() => h.close());
    await putWorkflow(h, 'w', { subject: 'Hi', text: 'Hi' });
    const [id] = await trigger(h, 'w', { to: { subscriberId: 'ada', email: 'ada@example.com' } });

    const retrying = await messageWithStatus(h, id!, 'retrying');
    expect(retrying.reason).toMatch(/ECONNREFUSED/);
    expect(retrying.attempts.map((a: any) => a.outcome)).toEqual(['retry']);

    const failed = await messageWithStatus(h, id!, 'failed');
    expect(failed.reason).toMatch(/^gave up after 3 attempts: .*ECONNREFUSED/);
    expect(failed.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'retry', 'retry']);
  });

  it('skips a recipient without an email address and still delivers to the others', async () => {
    const { sink, h } = await start();
    await putWorkflow(h, 'w', { subject: 'Hi', text: 'Hi' });
    expect((await h.api('PUT', '/v1/subscribers/no-email', { name: 'Nemo' })).status).toBe(200);
    const [skippedId, sentId] = await trigger(h, 'w', {
      to: ['no-email', { subscriberId: 'ada', email: 'ada@example.com' }],
    });
    const skipped = await messageWithStatus(h, skippedId!, 'skipped');
    expect(skipped.reason).toBe('subscriber has no email address');
    expect(skipped.attempts).toEqual([]);
    expect(skipped.attemptCount).toBe(0);
    await messageWithStatus(h, sentId!, 'sent');
    expect(sink.received.map((m) => m.heraldMessageId)).toEqual([sentId]);
  });

  it('skips a recipient who was never given an email address', async () => {
    const { sink, h } = await start();
    await putWorkflow(h, 'w', { subject: 'Hi', text: 'Hi' });
    const [id] = await trigger(h, 'w', { to: { subscriberId: 'no-address' } });
    const message = await messageWithStatus(h, id!, 'skipped');
    expect(message.reason).toBe('subscriber has no email address');
    expect(sink.attempts.size).toBe(0);
  });
});

describe('MIME over SMTP', () => {
  it('round-trips a Unicode subject and display name, the HTML and the text derived from it', async () => {
    const { sink, h } = await start();
    await putWorkflow(h, 'unicode', {
      subject: 'Grüße, {{ subscriber.name }} — 日本語 🎉',
      html: '<h1>Hallo {{ subscriber.name }}</h1><p>Ihr <a href="{{ data.url }}">Bericht</a> &amp; mehr.</p>',
    });
    const name = 'Zoë Ünïcødé 日本';
    const [id] = await trigger(h, 'unicode', {
      to: { subscriberId: 'zoe', email: 'zoe@example.com', name },
      data: { url: 'https://example.com/r?a=1&b=2' },
    });
    await waitFor(() => sink.received.length === 1, { what: 'the email' });
    const mail = sink.received[0]!;
    expect(mail.heraldMessageId).toBe(id);
    expect(mail.parsed.subject).toBe(`Grüße, ${name} — 日本語 🎉`);
    expect(mail.parsed.to).toMatchObject({ value: [{ address: 'zoe@example.com', name }] });
    expect(mail.parsed.from).toMatchObject({ value: [{ address: 'herald@localhost.localdomain', name: 'Herald' }] });
    expect(mail.parsed.html).toBe(
      `<h1>Hallo ${name}</h1><p>Ihr <a href="https://example.com/r?a=1&amp;b=2">Bericht</a> &amp; mehr.</p>`,
    );
    expect(mail.parsed.text).toBe(`Hallo ${name}\n\nIhr Bericht (https://example.com/r?a=1&b=2) & mehr.`);
    expect(mail.raw.every((byte) => byte < 0x80)).toBe(true);
    expect(mail.raw.toString('latin1').match(/^Content-Type: .*$/gm)).toEqual([
      expect.stringMatching(/^Content-Type: multipart\/alternative; boundary=/),
      'Content-Type: text/plain; charset=utf-8',
      'Content-Type: text/html; charset=utf-8',
    ]);
  });

  it('round-trips a 2,000-character line and non-ASCII text exactly', async () => {
    const { sink, h } = await start();
    await putWorkflow(h, 'long', {
      subject: 'Long',
      text: '{{ data.body }}',
      html: '<pre>{{ data.body }}</pre>',
    });
    const body = `${'0123456789'.repeat(200)}\nZeile zwei: Grüße, ça va? 日本語 🎉\n\n  indented\tand tabbed\nend`;
    await trigger(h, 'long', { to: { subscriberId: 'ada', email: 'ada@example.com' }, data: { body } });
    await waitFor(() => sink.received.length === 1, { what: 'the email' });
    const mail = sink.received[0]!;
    expect(mail.parsed.text).toBe(body);
    expect(mail.parsed.html).toBe(`<pre>${body}</pre>`);
    for (const line of mail.raw.toString('latin1').split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  });

  it('keeps lines that start with a dot through SMTP dot-stuffing', async () => {
    const { sink, h } = await start();
    await putWorkflow(h, 'dots', { subject: 'Dots', text: '{{ data.body }}', html: '<p>dots</p>' });
    const body = '.\n..two dots\n.leading\nplain ASCII, so 7bit\n.';
    await trigger(h, 'dots', { to: { subscriberId: 'ada', email: 'ada@example.com' }, data: { body } });
    await waitFor(() => sink.received.length === 1, { what: 'the email' });
    const mail = sink.received[0]!;
    expect(mail.raw.toString('latin1')).toContain('Content-Transfer-Encoding: 7bit');
    expect(mail.parsed.text).toBe(body);
  });

  it('cannot be made to add headers or recipients through CR/LF in the subject or name', async () => {
    const { sink, h } = await start();
    await putWorkflow(h, 'inject', { subject: '{{ data.s }}', text: 'Hello {{ subscriber.name }}' });
    const [id] = await trigger(h, 'inject', {
      to: { subscriberId: 'ada', email: 'ada@example.com', name: 'Ada\r\nBcc: evil2@example.com' },
      data: { s: 'x\r\nBcc: evil@example.com' },
    });
    await waitFor(() => sink.received.length === 1, { what: 'the email' });
    const mail = sink.received[0]!;
    expect(mail.heraldMessageId).toBe(id);
    expect(mail.envelopeTo).toEqual(['ada@example.com']);
    expect(mail.parsed.headers.has('bcc')).toBe(false);
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.parsed.cc).toBeUndefined();
    expect(mail.parsed.subject).toBe('x Bcc: evil@example.com');
    expect(mail.parsed.to).toMatchObject({
      value: [{ address: 'ada@example.com', name: 'Ada Bcc: evil2@example.com' }],
    });
    const raw = mail.raw.toString('latin1');
    expect(raw.slice(0, raw.indexOf('\r\n\r\n'))).not.toMatch(/^Bcc:/im);
    const message = await messageWithStatus(h, id!, 'sent');
    expect(message.subject).toBe('x Bcc: evil@example.com');
  });
});
