import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { dropSchemas, ON_POSTGRES, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Outbound connections made for API callers (issue 11, items 2 and 4): SMTP integrations pass the
 * SSRF guard when saved and when connecting; a foreign server's words are never repeated; a
 * stored credential never follows a new destination; no error repeats a rejected secret.
 */

const SECRET_KEY = 'outbound-guard-secret-key-0123456789abcdef';
const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-auth-token-7a7a7a7a';
/** Marks a secret in a request: no answer may contain it. */
const MARK = 'zzsecretzz';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let open: TestHerald; // may reach loopback (127.0.0.0/8 opened), as the other tests' peers need
let closed: TestHerald; // production's default: no private network opened
beforeAll(async () => {
  [open, closed] = await Promise.all([
    startTestHerald({ 'secret-key': SECRET_KEY, 'allow-private-networks': '127.0.0.0/8', 'retry-schedule': '50ms' }),
    startTestHerald({ 'secret-key': SECRET_KEY, 'allow-private-networks': '' }),
  ]);
});
afterAll(async () => {
  await Promise.all([open.close(), closed.close()]);
});

/** A real SMTP server on loopback that counts connections; `onAuth` may refuse logins. */
async function smtpServer(refuseLogin = false): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (refuseLogin) return callback(new Error('5.7.8 Authentication credentials invalid'));
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, connections: () => connections };
}

/** A TCP service that is not SMTP: it says `banner` on connect and answers every line with `reply`. */
async function foreignService(banner: string, reply?: string): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write(banner);
    if (reply) socket.on('data', () => socket.write(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port };
}

async function putSmtp(h: TestHerald, id: string, url: string) {
  const res = await h.api('PUT', `/v1/integrations/${id}`, { channel: 'email', provider: 'smtp', config: { url } });
  cleanups.push(async () => void (await h.api('DELETE', `/v1/integrations/${id}`)));
  return res;
}

describe('SMTP integrations and the SSRF guard', () => {
  it('refuses an SMTP server aimed inward when saved: 422 naming the field and the setting, never the password', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ channel: 'email', provider: 'smtp', config: { url: `smtp://user:${MARK}@127.0.0.1:2525` } }, '/config/url'],
      [{ channel: 'email', provider: 'smtp', config: { url: `smtp://user:${MARK}@localhost:587` } }, '/config/url'],
      [{ channel: 'email', provider: 'smtp', config: { url: `smtps://u:${MARK}@169.254.169.254` } }, '/config/url'],
      [{ channel: 'email', provider: 'smtp', config: { url: `smtp://u:${MARK}@[::1]:25` } }, '/config/url'],
      [{ channel: 'email', provider: 'smtp', config: { url: `smtp://u:${MARK}@0x7f000001:25` } }, '/config/url'],
      [{ channel: 'email', provider: 'smtp', config: { url: `smtp://u:${MARK}@8.8.4.4:6379` } }, '/config/url'],
      [{ url: `mailto://user:${MARK}@10.0.0.7` }, '/url'],
      [{ url: `smtps://user:${MARK}@192.168.1.20:465` }, '/url'],
    ];
    for (const [body, path] of cases) {
      const res = await closed.api('PUT', '/v1/integrations/inward', body);
      expectProblem(res, 422, 'VALIDATION_FAILED');
      expect(res.body.errors, JSON.stringify(body)).toEqual([{ path, message: expect.stringMatching(/^refused: /) }]);
      expect(res.text).toContain('HERALD_ALLOW_PRIVATE_NETWORKS');
      expect(res.text).not.toContain(MARK);
    }
    expect((await closed.api('GET', '/v1/integrations/inward')).status).toBe(404);
  });

  it("accepts a public SMTP server on SMTP's usual ports (nothing is connected when saving)", async () => {
    for (const url of [
      'smtp://user:pass@8.8.4.4:587',
      'smtp://8.8.4.4:25',
      'smtps://user:pass@8.8.4.4',
      'smtp://user:pass@mail.example.com:2525',
    ]) {
      const res = await putSmtp(closed, 'public-smtp', url);
      expect([200, 201], `${url}: ${res.text}`).toContain(res.status);
    }
  });

  it('checks the address again when connecting: saved while a range was open, refused once it is closed', async () => {
    const sink = await smtpServer();
    const dir = mkdtempSync(join(tmpdir(), 'herald-guard-'));
    const schema = ON_POSTGRES ? testSchema() : undefined;
    cleanups.push(async () => {
      rmSync(dir, { recursive: true, force: true });
      if (schema) await dropSchemas(schema);
    });
    const start = (allow: string) =>
      startTestHerald({
        'secret-key': SECRET_KEY,
        'data-dir': dir,
        'allow-private-networks': allow,
        ...(schema && { database: testDatabaseUrl(schema) }),
      });

    const before = await start('127.0.0.0/8');
    try {
      const saved = await before.api('PUT', '/v1/integrations/relay', {
        channel: 'email',
        provider: 'smtp',
        config: { url: sink.url },
      });
      expect(saved.status).toBe(201);
      const sent = await before.api('POST', '/v1/integrations/relay/test', { to: 'ada@example.com' });
      expect(sent.body, sent.text).toMatchObject({ status: 'sent' });
    } finally {
      await before.close();
    }
    const connectionsBefore = sink.connections();

    const after = await start('');
    try {
      const refused = await after.api('POST', '/v1/integrations/relay/test', { to: 'ada@example.com' });
      expect(refused.body).toMatchObject({
        status: 'failed',
        detail: expect.stringMatching(/refused: .*127\.0\.0\.1 is a loopback address/),
      });
      expect(refused.body.detail).toContain('HERALD_ALLOW_PRIVATE_NETWORKS');
      expect(sink.connections()).toBe(connectionsBefore);
    } finally {
      await after.close();
    }
  });

  it('never repeats what a server said before greeting as an SMTP server, in /test or in the log', async () => {
    const ssh = await foreignService(`SSH-2.0-OpenSSH_9.6 ${MARK}-banner\r\n`);
    expect((await putSmtp(open, 'ssh', `smtp://127.0.0.1:${ssh.port}`)).status).toBe(201);
    const greeting = await open.api('POST', '/v1/integrations/ssh/test', { to: 'ada@example.com' });
    expect(greeting.body).toMatchObject({ status: 'retry', detail: expect.stringMatching(/did not greet as an SMTP/) });
    expect(greeting.text).not.toContain(MARK);

    // Greets like SMTP (220), then is something else: what it answers EHLO and HELO is not shown either.
    const ftp = await foreignService(`220 ${MARK}-ftpd ready\r\n`, `502 ${MARK}-command not understood\r\n`);
    expect((await putSmtp(open, 'ftp', `smtp://127.0.0.1:${ftp.port}`)).status).toBe(201);
    const ehlo = await open.api('POST', '/v1/integrations/ftp/test', { to: 'ada@example.com' });
    expect(ehlo.body).toMatchObject({ status: 'retry', detail: expect.stringMatching(/did not accept (EHLO|HELO)/) });
    expect(ehlo.text).not.toContain(MARK);

    // The delivery log: every attempt of a message sent through the non-SMTP peer.
    await open.api('DELETE', '/v1/integrations/ftp');
    await open.api('PUT', '/v1/workflows/guard-mail', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
    const trigger = await open.api('POST', '/v1/workflows/guard-mail/trigger', {
      to: { subscriberId: 'guard-ada', email: 'ada@example.com' },
    });
    expect(trigger.status, trigger.text).toBe(202);
    const message = await waitFor(
      async () => {
        const res = await open.api('GET', `/v1/messages/${trigger.body.messageIds[0]}`);
        return res.body.status === 'failed' ? res : undefined;
      },
      { what: 'the message to fail' },
    );
    expect(message.body.attempts.length).toBeGreaterThan(0);
    expect(message.body.attempts[0].detail).toMatch(/did not greet as an SMTP server/);
    expect(message.text).not.toContain(MARK);
  });

  it('still shows what a real SMTP server answered after its greeting (a refused login)', async () => {
    const server = await smtpServer(true);
    const url = server.url.replace('smtp://', 'smtp://herald:wrong-password@');
    expect((await putSmtp(open, 'login', url)).status).toBe(201);
    const res = await open.api('POST', '/v1/integrations/login/test', { to: 'ada@example.com' });
    expect(res.body).toMatchObject({ status: 'retry', detail: expect.stringMatching(/535.*credentials invalid/) });
    expect(res.text).not.toContain('wrong-password');
  });
});

describe('a credential is bound to its destination', () => {
  let real: FakeHttp;
  let attacker: FakeHttp;
  beforeAll(async () => {
    const answer = (name: string) => () => ({ status: 201, body: { sid: `SM-${name}`, status: 'queued' } });
    [real, attacker] = await Promise.all([startFakeHttp(answer('real')), startFakeHttp(answer('attacker'))]);
  });
  afterAll(async () => {
    await Promise.all([real.close(), attacker.close()]);
  });

  const twilio = (overrides: Record<string, unknown> = {}) => ({
    channel: 'sms',
    provider: 'twilio',
    config: { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: real.url, ...overrides },
  });

  it('refuses a new baseUrl or account with the masked key, naming each secret to send again', async () => {
    expect((await open.api('PUT', '/v1/integrations/bound', twilio())).status).toBe(201);
    const masked = (await open.api('GET', '/v1/integrations/bound')).body.config.authToken;
    expect(masked).toBe('••••7a7a');

    for (const change of [{ baseUrl: attacker.url }, { accountSid: 'AC' + 'f'.repeat(32) }]) {
      const moved = await open.api('PUT', '/v1/integrations/bound', twilio({ ...change, authToken: masked }));
      expectProblem(moved, 422, 'VALIDATION_FAILED');
      expect(moved.body.errors).toEqual([
        { path: '/config/authToken', message: expect.stringContaining(Object.keys(change)[0]!) },
      ]);
    }
    expect((await open.api('GET', '/v1/integrations/bound')).body.config.baseUrl).toBe(real.url);
    const test = await open.api('POST', '/v1/integrations/bound/test', { to: '+14155550100' });
    expect(test.body).toMatchObject({ status: 'sent', providerMessageId: 'SM-real' });
    expect(attacker.requests).toHaveLength(0);

    // Sent again in full, the credential may go to the new destination; an unchanged one keeps it.
    const resent = await open.api('PUT', '/v1/integrations/bound', twilio({ baseUrl: attacker.url }));
    expect(resent.status, resent.text).toBe(200);
    const kept = await open.api('PUT', '/v1/integrations/bound', twilio({ baseUrl: attacker.url, authToken: masked }));
    expect(kept.status, kept.text).toBe(200);
    await open.api('DELETE', '/v1/integrations/bound');
  });

  it('names every secret field kept by its mask when the region changes (SES)', async () => {
    const ses = (config: Record<string, unknown>) => ({ channel: 'email', provider: 'ses', config });
    const config = {
      region: 'eu-west-1',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'ses-secret-access-key-1234',
      sessionToken: 'ses-session-token-5678',
    };
    expect((await open.api('PUT', '/v1/integrations/ses-bound', ses(config))).status).toBe(201);
    const { body } = await open.api('GET', '/v1/integrations/ses-bound');
    const moved = await open.api('PUT', '/v1/integrations/ses-bound', ses({ ...body.config, region: 'us-east-1' }));
    expectProblem(moved, 422);
    expect(moved.body.errors.map((e: { path: string }) => e.path)).toEqual([
      '/config/secretAccessKey',
      '/config/sessionToken',
    ]);
    await open.api('DELETE', '/v1/integrations/ses-bound');
  });

  it('keeps the webhook signing secret when its default url changes: the secret is never sent', async () => {
    const created = await open.api('PUT', '/v1/integrations/hooks', {
      channel: 'webhook',
      provider: 'webhook',
      config: { url: `${real.url}/a` },
    });
    expect(created.status, created.text).toBe(201);
    const masked = (await open.api('GET', '/v1/integrations/hooks')).body.config.secret;
    const moved = await open.api('PUT', '/v1/integrations/hooks', {
      channel: 'webhook',
      provider: 'webhook',
      config: { url: `${attacker.url}/b`, secret: masked },
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.config.secret).toBe(masked);
    await open.api('DELETE', '/v1/integrations/hooks');
  });
});

describe('no error repeats a rejected secret', () => {
  it.each([
    [{ url: `twilio://${SID}:+15005550006@${MARK}` }],
    [{ url: `vonage://key:secret@${MARK}longerthaneleven` }],
    [{ url: `plivo://MAAUTHID@token/${MARK}` }],
    [{ url: `mailgun://user@example.com/key-abc?region=${MARK}` }],
    [{ url: `mailto://user:${MARK}@localhost` }],
    [{ channel: 'email', provider: 'smtp', config: { url: `http://user:${MARK}@mail.example.com` } }],
    [{ channel: 'chat', provider: 'discord', config: { webhookUrl: `${MARK} is not a url` } }],
    [{ channel: 'sms', provider: 'twilio', config: { accountSid: MARK, authToken: MARK, from: '+15005550006' } }],
  ])('%j', async (body) => {
    const res = await closed.api('PUT', '/v1/integrations/echo', body);
    expectProblem(res, 422);
    expect(res.text).not.toContain(MARK);
  });

  it('answers 422, not 500, for a json:// URL whose host http:// refuses', async () => {
    expectProblem(await open.api('PUT', '/v1/integrations/hooks', { url: 'json://%zz/' }), 422, 'VALIDATION_FAILED');
  });
});
