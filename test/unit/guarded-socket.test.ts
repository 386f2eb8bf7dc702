import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSocketGuard, type SocketTarget } from '../../src/channels/outbound/guarded-socket.js';
import { OutboundRefused, SMTP, vetUrl } from '../../src/channels/outbound/ssrf.js';

// The SSRF guard for connections that are not HTTP: SMTP URLs when saved, and the socket a
// pooled SMTP connection is opened on.

const CLOSED = { allowedNetworks: [] as string[] };
const TIMEOUT_MS = 1_000;

describe('vetUrl for SMTP', () => {
  it.each([
    ['smtp://127.0.0.1:2525', /127\.0\.0\.1 is a loopback address/],
    ['smtp://user:pass@localhost:587', /localhost is a loopback name/],
    ['smtps://169.254.169.254', /169\.254\.169\.254 is a linkLocal address/],
    ['smtp://[::1]:25', /::1 is a loopback address/],
    // smtp: URLs keep their host as written; the guard reads it as a resolver would.
    ['smtp://0x7f000001:25', /127\.0\.0\.1 is a loopback address/],
    ['smtp://127.1:25', /127\.0\.0\.1 is a loopback address/],
    ['smtp://%6c%6fcalhost:25', /localhost is a loopback name/],
    ['smtp://LOCALHOST:25', /localhost is a loopback name/],
    ['smtp://[::ffff:127.0.0.1]:25', /127\.0\.0\.1 is a loopback address/],
    ['smtp://10.1.2.3', /10\.1\.2\.3 is a private address/],
    ['smtp://metadata.google.internal:25', /cloud metadata name/],
    ['smtp://8.8.4.4:22', /port 22 is not allowed \(only 25, 465, 587 and 2525\)/],
    ['smtp://mail.example.com:6379', /port 6379 is not allowed/],
    ['smtp://', /names no valid host/],
    ['http://mail.example.com', /only smtp and smtps URLs are allowed, not http:/],
  ])('refuses %s', (url, reason) => {
    expect(() => vetUrl(url, CLOSED, SMTP)).toThrow(OutboundRefused);
    expect(() => vetUrl(url, CLOSED, SMTP)).toThrow(reason);
  });

  it('names the setting that would open a refused address, and never repeats the URL', () => {
    const error = (() => {
      try {
        vetUrl('smtp://user:hunter2@127.0.0.1:2525', CLOSED, SMTP);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('not refused');
    })();
    expect(error.message).toContain('HERALD_ALLOW_PRIVATE_NETWORKS (e.g. 127.0.0.1/32)');
    expect(error.message).not.toContain('hunter2');
  });

  it.each([
    'smtp://user:pass@mail.example.com',
    'smtp://mail.example.com:25',
    'smtps://user:pass@8.8.4.4:465',
    'smtp://[2606:4700:4700::1111]:587',
    'smtp://mail.example.com:2525',
  ])('lets %s through: SMTP logins and ports, public addresses', (url) => {
    expect(vetUrl(url, CLOSED, SMTP).href).toBe(new URL(url).href);
  });

  it('opens an allowed network on any port', () => {
    expect(vetUrl('smtp://127.0.0.1:40123', { allowedNetworks: ['127.0.0.0/8'] }, SMTP).port).toBe('40123');
  });
});

/** A TCP listener that counts the connections reaching it. */
async function listener(host: string, port = 0): Promise<{ port: number; accepted: Socket[]; server: Server }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => undefined); // the guard's caller may drop the socket at once
    socket.end('220 listener ready\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of accepted) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as { port: number }).port, accepted, server };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const target = (host: string, port: number): SocketTarget => ({ host, port, urlPort: String(port), protocol: SMTP });

async function refusal(promise: Promise<Socket>): Promise<Error> {
  return promise.then(
    (socket) => {
      socket.destroy();
      throw new Error('connected');
    },
    (error: Error) => error,
  );
}

describe('the socket guard', () => {
  it('refuses a name that resolves inward, before connecting', async () => {
    const internal = await listener('127.0.0.1');
    const asked: string[] = [];
    const open = createSocketGuard({
      ...CLOSED,
      timeoutMs: TIMEOUT_MS,
      resolve: async (name) => {
        asked.push(name);
        return ['127.0.0.1'];
      },
    });
    const error = await refusal(open(target('mail.example.com', internal.port)));
    expect(error).toBeInstanceOf(OutboundRefused);
    expect(error.message).toMatch(/mail\.example\.com resolves to a refused address: 127\.0\.0\.1 is a loopback/);
    expect(error.message).toContain('HERALD_ALLOW_PRIVATE_NETWORKS');
    expect(asked).toEqual(['mail.example.com']);
    expect(internal.accepted).toHaveLength(0);
  });

  it('connects to the address it vetted, whatever the name answers next (DNS rebinding)', async () => {
    // 127.0.0.2 stands for the public server (opened by the allowlist); 127.0.0.1 for the internal one.
    const internal = await listener('127.0.0.1');
    const publicHost = await listener('127.0.0.2', internal.port);
    let calls = 0;
    const open = createSocketGuard({
      allowedNetworks: ['127.0.0.2/32'],
      timeoutMs: TIMEOUT_MS,
      resolve: async () => [calls++ % 2 === 0 ? '127.0.0.2' : '127.0.0.1'],
    });
    for (let round = 0; round < 2; round++) {
      const socket = await open(target('rebind.example', internal.port));
      expect(socket.remoteAddress).toBe('127.0.0.2');
      socket.destroy();
      expect(await refusal(open(target('rebind.example', internal.port)))).toBeInstanceOf(OutboundRefused);
    }
    expect(calls).toBe(4);
    expect(publicHost.accepted).toHaveLength(2);
    expect(internal.accepted).toHaveLength(0);
  });

  it('refuses a public address on a port SMTP does not use, and opens any port of an allowed network', async () => {
    const open = createSocketGuard({
      allowedNetworks: ['127.0.0.0/8'],
      timeoutMs: TIMEOUT_MS,
      resolve: async (name) => (name === 'public.example' ? ['8.8.4.4'] : ['127.0.0.1']),
    });
    const refused = await refusal(open(target('public.example', 6379)));
    expect(refused.message).toMatch(/port 6379 is not allowed \(only 25, 465, 587 and 2525\)/);
    const local = await listener('127.0.0.1');
    const socket = await open(target('relay.internal', local.port));
    expect(socket.remoteAddress).toBe('127.0.0.1');
    socket.destroy();
  });

  it('refuses a name with any refused address among its answers', async () => {
    const open = createSocketGuard({
      ...CLOSED,
      timeoutMs: TIMEOUT_MS,
      resolve: async () => ['8.8.4.4', '10.0.0.5'],
    });
    expect((await refusal(open(target('mixed.example', 25)))).message).toMatch(/10\.0\.0\.5 is a private address/);
  });
});
