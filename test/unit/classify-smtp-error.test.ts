import type { AddressInfo } from 'node:net';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/channels/smtp/classify-smtp-error.js';

describe('classifySmtpError on error shapes', () => {
  it.each([
    [421, 'retry'],
    [450, 'retry'],
    [451, 'retry'],
    [452, 'retry'],
    [500, 'failed'],
    [550, 'failed'],
    [552, 'failed'],
    [554, 'failed'],
  ])('treats reply %i as %s', (responseCode, status) => {
    const outcome = classifySmtpError({ code: 'EENVELOPE', responseCode, response: `${responseCode} 4.0.0 nope` });
    const reason = `SMTP ${responseCode}: ${responseCode} 4.0.0 nope`;
    // A 4xx reply is the server answering: up, so not a failure of the integration's breaker.
    expect(outcome).toEqual(status === 'retry' ? { status, reason, providerAnswered: true } : { status, reason });
  });

  it.each(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'EPROTOCOL', 'ETLS'])(
    'retries the connection failure %s',
    (code) => {
      expect(classifySmtpError({ code, message: 'connection lost' })).toEqual({
        status: 'retry',
        reason: `${code}: connection lost`,
      });
    },
  );

  it('fails an envelope refused without a server reply', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', message: 'No recipients defined' })).toEqual({
      status: 'failed',
      reason: 'invalid envelope: No recipients defined',
    });
  });

  it('prefers the server reply over the message and keeps at most 500 characters of it', () => {
    const outcome = classifySmtpError({ responseCode: 451, response: '451 ' + 'x'.repeat(1000), message: 'other' });
    expect(outcome.status).toBe('retry');
    expect(outcome.status !== 'sent' && outcome.reason).toBe(`SMTP 451: 451 ${'x'.repeat(496)}`);
  });

  it('retries anything it does not recognise', () => {
    expect(classifySmtpError(new Error('something odd'))).toEqual({ status: 'retry', reason: 'something odd' });
    expect(classifySmtpError({ code: 'ESTREAM', message: 'stream broke' })).toEqual({
      status: 'retry',
      reason: 'ESTREAM: stream broke',
    });
    expect(classifySmtpError('a string')).toEqual({ status: 'retry', reason: 'a string' });
    expect(classifySmtpError(undefined)).toMatchObject({ status: 'retry' });
    expect(classifySmtpError(null)).toMatchObject({ status: 'retry' });
  });

  it('ignores a response code outside 4xx and 5xx', () => {
    expect(classifySmtpError({ code: 'EPROTOCOL', responseCode: 250, response: '250 ok?' })).toMatchObject({
      status: 'retry',
    });
  });
});

/** The errors nodemailer really raises, from a real SMTP server on 127.0.0.1. */
describe('classifySmtpError on nodemailer errors', () => {
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(_auth, _session, callback) {
        callback(new Error('5.7.8 bad credentials'));
      },
      onRcptTo(address, _session, callback) {
        const reply = (code: number, text: string) =>
          callback(Object.assign(new Error(text), { responseCode: code }) as Error);
        if (address.address.startsWith('greylist')) return reply(450, '4.2.0 greylisted, try later');
        if (address.address.startsWith('nobody')) return reply(550, '5.1.1 no such user');
        callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () =>
          callback(Object.assign(new Error('5.3.4 message too big'), { responseCode: 552 }) as Error),
        );
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function errorOf(to: string, options: Record<string, unknown> = {}): Promise<unknown> {
    const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...options });
    try {
      await transport.sendMail({ envelope: { from: 'herald@example.com', to: [to] }, raw: 'Subject: x\r\n\r\nx\r\n' });
    } catch (error) {
      return error;
    } finally {
      transport.close();
    }
    throw new Error('the send was accepted');
  }

  it('retries a greylisted recipient (450 at RCPT TO)', async () => {
    const outcome = classifySmtpError(await errorOf('greylist@example.com'));
    expect(outcome.status).toBe('retry');
    expect(outcome.status !== 'sent' && outcome.reason).toMatch(/^SMTP 450: .*greylisted/);
  });

  it('fails an unknown recipient (550 at RCPT TO)', async () => {
    const outcome = classifySmtpError(await errorOf('nobody@example.com'));
    expect(outcome.status).toBe('failed');
    expect(outcome.status !== 'sent' && outcome.reason).toMatch(/^SMTP 550: .*no such user/);
  });

  it('fails a message refused after DATA (552)', async () => {
    const outcome = classifySmtpError(await errorOf('ada@example.com'));
    expect(outcome.status).toBe('failed');
    expect(outcome.status !== 'sent' && outcome.reason).toMatch(/^SMTP 552: .*too big/);
  });

  it('retries when nothing listens on the port', async () => {
    // Port 1: below the ephemeral range, so no other test's server can be listening there.
    const outcome = classifySmtpError(await errorOf('ada@example.com', { port: 1 }));
    expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringMatching(/^E[A-Z]+: .*ECONNREFUSED/) });
  });

  it('retries on rejected credentials (535): the server is misconfigured, not the message', async () => {
    const error = await errorOf('ada@example.com', { auth: { user: 'herald', pass: 'wrong' } });
    expect(error).toMatchObject({ code: 'EAUTH', responseCode: 535 });
    expect(classifySmtpError(error)).toMatchObject({ status: 'retry', reason: expect.stringMatching(/credentials/) });
  });
});
