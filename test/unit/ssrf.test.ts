import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createHttpClient,
  HttpFailure,
  type HttpClient,
  type HttpClientOptions,
} from '../../src/channels/outbound/http-client.js';
import { OutboundRefused, parseNetworkList, vetUrl } from '../../src/channels/outbound/ssrf.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';

// The SSRF cases of research/reliability.md (T4), each refused before any socket opens.

/** Production's default: no private network opened. */
const CLOSED = { allowedNetworks: [] as string[] };
const TIMEOUT_MS = 300;
/** What a cloud metadata service would leak; a refusal must never carry it. */
const SECRET = 'SECRET-METADATA-TOKEN';

/** [url, the reason the refusal must name]: URLs refused on sight, without resolving anything. */
const REFUSED_URLS: [string, RegExp][] = [
  // Loopback in every spelling: the WHATWG parser normalises them all to one address.
  ['http://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
  ['http://127.1/', /127\.0\.0\.1 is a loopback address/],
  ['http://0x7f000001/', /127\.0\.0\.1 is a loopback address/],
  ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
  ['http://0177.0.0.1/', /127\.0\.0\.1 is a loopback address/],
  ['http://127.0.0.1./', /127\.0\.0\.1 is a loopback address/],
  ['http://0.0.0.0/', /0\.0\.0\.0 is a unspecified address/],
  ['http://0/', /0\.0\.0\.0 is a unspecified address/],
  ['http://[::1]/', /::1 is a loopback address/],
  ['http://[::]/', /:: is a unspecified address/],
  ['http://[::ffff:127.0.0.1]/', /127\.0\.0\.1 is a loopback address/],
  ['http://[0:0:0:0:0:ffff:7f00:1]/', /127\.0\.0\.1 is a loopback address/],
  ['http://[::127.0.0.1]/', /::7f00:1 is a reserved address/], // IPv4-compatible, deprecated
  ['http://localhost/', /localhost is a loopback name/],
  ['http://LOCALHOST:80/', /localhost is a loopback name/],
  ['http://localhost./', /localhost\. is a loopback name/],
  ['http://x.localhost/', /x\.localhost is a loopback name/],
  ['http://%6c%6fcalhost/', /localhost is a loopback name/],
  // Cloud metadata endpoints.
  ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a linkLocal address/],
  ['http://[::ffff:169.254.169.254]/', /169\.254\.169\.254 is a linkLocal address/],
  ['http://[fd00:ec2::254]/', /fd00:ec2::254 is a uniqueLocal address/],
  ['http://metadata.google.internal/computeMetadata/v1/', /metadata\.google\.internal is a cloud metadata name/],
  ['http://METADATA.google.internal./', /metadata\.google\.internal\. is a cloud metadata name/],
  ['http://100.100.100.200/', /100\.100\.100\.200 is a carrierGradeNat address/],
  // Private and special ranges.
  ['http://10.0.0.1/', /10\.0\.0\.1 is a private address/],
  ['http://172.16.0.1/', /172\.16\.0\.1 is a private address/],
  ['http://172.31.255.254/', /172\.31\.255\.254 is a private address/],
  ['http://192.168.1.1/', /192\.168\.1\.1 is a private address/],
  ['http://100.64.0.1/', /100\.64\.0\.1 is a carrierGradeNat address/],
  ['http://198.18.0.1/', /198\.18\.0\.1 is a reserved address/],
  ['http://224.0.0.1/', /224\.0\.0\.1 is a multicast address/],
  ['http://240.0.0.1/', /240\.0\.0\.1 is a reserved address/],
  ['http://255.255.255.255/', /255\.255\.255\.255 is a broadcast address/],
  ['http://[fe80::1]/', /fe80::1 is a linkLocal address/],
  ['http://[fc00::1]/', /fc00::1 is a uniqueLocal address/],
  ['http://[ff02::1]/', /ff02::1 is a multicast address/],
  ['http://[64:ff9b::a9fe:a9fe]/', /64:ff9b::a9fe:a9fe is a rfc6052 address/], // NAT64 of 169.254.169.254
  ['http://[2002:a9fe:a9fe::]/', /2002:a9fe:a9fe:: is a 6to4 address/], // 6to4 of 169.254.169.254
  ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', /is a teredo address/],
  // URL parsing tricks: the host is what the parser says it is, not what a reader sees.
  ['http://a@127.0.0.1/', /URLs with credentials are not allowed/],
  ['http://user:pass@example.com/', /URLs with credentials are not allowed/],
  ['http://example.com@127.0.0.1/', /URLs with credentials are not allowed/],
  ['http://127.0.0.1#@evil.com', /127\.0\.0\.1 is a loopback address/],
  ['http://127.0.0.1?@evil.com', /127\.0\.0\.1 is a loopback address/],
  // Schemes and ports.
  ['file:///etc/passwd', /only http and https URLs are allowed, not file:/],
  ['gopher://example.com:70/_GET', /only http and https URLs are allowed, not gopher:/],
  ['data:text/plain,hello', /only http and https URLs are allowed, not data:/],
  ['javascript:alert(1)', /only http and https URLs are allowed, not javascript:/],
  ['ftp://example.com/', /only http and https URLs are allowed, not ftp:/],
  ['not a url', /not a valid URL/],
  ['http://1.1.1.1:8080/', /port 8080 is not allowed/],
  ['https://1.1.1.1:8443/', /port 8443 is not allowed/],
  ['http://1.1.1.1:22/', /port 22 is not allowed/],
  ['http://[2606:4700:4700::1111]:25/', /port 25 is not allowed/],
  ['http://example.com:8080/', /port 8080 is not allowed/], // no network opened: no address may take it
];

/** [name, what fake DNS answers]: names that look public and resolve inward. */
const INWARD_NAMES: [string, string[], RegExp][] = [
  ['127.0.0.1.nip.io', ['127.0.0.1'], /127\.0\.0\.1 is a loopback address/],
  ['10.0.0.1.nip.io', ['10.0.0.1'], /10\.0\.0\.1 is a private address/],
  ['one-public-one-private.example', ['1.1.1.1', '10.0.0.1'], /10\.0\.0\.1 is a private address/],
  ['v6-loopback.example', ['::1'], /::1 is a loopback address/],
  ['v6-public-and-loopback.example', ['2606:4700:4700::1111', '::1'], /::1 is a loopback address/],
  ['mapped-metadata.example', ['::ffff:169.254.169.254'], /169\.254\.169\.254 is a linkLocal address/],
  ['metadata.example', ['169.254.169.254'], /169\.254\.169\.254 is a linkLocal address/],
  ['junk-answer.example', ['not-an-address'], /not-an-address is not an IP address/],
];

/** A fake DNS that records every question and answers from a table. */
function fakeDns(answers: Record<string, string[]>) {
  const asked: string[] = [];
  return {
    asked,
    resolve: async (hostname: string) => {
      asked.push(hostname);
      return answers[hostname] ?? [];
    },
  };
}

function signal(): AbortSignal {
  return AbortSignal.timeout(5_000);
}

async function refusalOf(client: HttpClient, url: string): Promise<HttpFailure> {
  const error: unknown = await client.request({ url, signal: signal() }).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(HttpFailure);
  return error as HttpFailure;
}

function expectRefusal(failure: HttpFailure, reason: RegExp): void {
  expect(failure.transient).toBe(false);
  expect(failure.message).toMatch(/^refused: /);
  expect(failure.message).toMatch(reason);
  expect(failure.message).not.toContain(SECRET);
}

/** A server on a given loopback address and port, recording what reaches it. */
async function startServerOn(host: string, port: number, body: string) {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '/');
    req.resume();
    // A fresh connection, hence a fresh resolution, for every request.
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(options: HttpClientOptions): HttpClient {
  const created = createHttpClient(options);
  cleanups.push(() => created.close());
  return created;
}

/** A loopback stand-in for an internal service (or a metadata endpoint) holding a secret. */
async function internalService(): Promise<FakeHttp> {
  const fake = await startFakeHttp(() => ({ status: 200, body: { token: SECRET } }));
  cleanups.push(() => fake.close());
  return fake;
}

describe('vetUrl', () => {
  it.each(REFUSED_URLS)('refuses %s', (url, reason) => {
    expect(() => vetUrl(url, CLOSED)).toThrow(OutboundRefused);
    expect(() => vetUrl(url, CLOSED)).toThrow(reason);
  });

  it.each([
    'https://1.1.1.1/',
    'http://1.1.1.1:80/',
    'https://[2606:4700:4700::1111]:443/',
    'https://example.com/x?y=1',
  ])('lets the public URL %s through (nothing is resolved or connected)', (url) => {
    expect(vetUrl(url, CLOSED).href).toBe(new URL(url).href);
  });

  it('names the setting that opens a refused address, with the range for that address', () => {
    expect(() => vetUrl('http://10.0.0.1/', CLOSED)).toThrow(
      /HERALD_ALLOW_PRIVATE_NETWORKS \(e\.g\. 10\.0\.0\.1\/32\)/,
    );
    expect(() => vetUrl('http://[::ffff:127.0.0.1]/', CLOSED)).toThrow(/e\.g\. 127\.0\.0\.1\/32/);
    expect(() => vetUrl('http://[fd00::1]/', CLOSED)).toThrow(/e\.g\. fd00::1\/128/);
    expect(() => vetUrl('http://1.1.1.1:8080/', CLOSED)).toThrow(/HERALD_ALLOW_PRIVATE_NETWORKS/);
    expect(() => vetUrl('http://localhost/', CLOSED)).toThrow(/HERALD_ALLOW_PRIVATE_NETWORKS/);
  });

  it('opens an allowed network on any port, and only that network', () => {
    const policy = { allowedNetworks: ['127.0.0.0/8'] };
    expect(vetUrl('http://127.0.0.1:8080/', policy).port).toBe('8080');
    expect(vetUrl('http://[::ffff:127.0.0.1]:3000/', policy).port).toBe('3000');
    expect(() => vetUrl('http://10.0.0.1/', policy)).toThrow(/10\.0\.0\.1 is a private address/);
    expect(() => vetUrl('http://1.1.1.1:8080/', policy)).toThrow(/port 8080 is not allowed/);
    // Which address a name has is known only at connect time, where the port is judged.
    expect(vetUrl('http://internal.example:8080/', policy).port).toBe('8080');
  });
});

describe('parseNetworkList', () => {
  it('reads a comma-separated list of CIDR ranges', () => {
    expect(parseNetworkList(' 127.0.0.0/8, ::1/128 ,10.1.0.0/16,')).toEqual(['127.0.0.0/8', '::1/128', '10.1.0.0/16']);
    expect(parseNetworkList('')).toEqual([]);
  });

  it.each(['junk', '127.0.0.1', '10.0.0.0/33', '::1/129', '127.0.0.0/8,evil.com', '*', '10.0.0.0/8/8'])(
    'rejects %j, naming the entry',
    (value) => {
      expect(() => parseNetworkList(value)).toThrow(/^not a CIDR range: /);
    },
  );
});

describe('the HTTP client', () => {
  it.each(REFUSED_URLS)('refuses %s without resolving or connecting', async (url, reason) => {
    const dns = fakeDns({});
    expectRefusal(await refusalOf(client({ ...CLOSED, timeoutMs: TIMEOUT_MS, resolve: dns.resolve }), url), reason);
    expect(dns.asked).toEqual([]);
  });

  it.each(INWARD_NAMES)('refuses %s, which resolves to %j, at connect time', async (name, answers, reason) => {
    const dns = fakeDns({ [name]: answers });
    const failure = await refusalOf(
      client({ ...CLOSED, timeoutMs: TIMEOUT_MS, resolve: dns.resolve }),
      `http://${name}/`,
    );
    expectRefusal(failure, reason);
    expect(failure.message).toContain(`${name} resolves to a refused address`);
    expect(dns.asked).toEqual([name]);
  });

  it('never reaches an internal service through a name, and never echoes what it holds', async () => {
    const service = await internalService();
    const { port } = new URL(service.url);
    const open = client({ allowedNetworks: ['127.0.0.0/8'], timeoutMs: TIMEOUT_MS });
    expect((await open.request({ url: service.url, method: 'GET', signal: signal() })).text).toContain(SECRET);

    const dns = fakeDns({ 'internal.example': ['127.0.0.1'] });
    const guarded = client({ allowedNetworks: ['10.9.0.0/16'], timeoutMs: TIMEOUT_MS, resolve: dns.resolve });
    expectRefusal(await refusalOf(guarded, `http://internal.example:${port}/`), /127\.0\.0\.1 is a loopback address/);
    expect(service.requests).toHaveLength(1); // the allowed request above, nothing since
  });

  it('connects to the address it vetted, whatever the name answers next (DNS rebinding)', async () => {
    // The private target: 127.0.0.1 holds the secret. The "public" host: 127.0.0.2 on the same
    // port, opened by the allowlist (Linux routes all of 127/8 to loopback). A TTL-0 name
    // alternates between the two; a client that resolved once to check and again to connect would
    // reach 127.0.0.1 on its first request.
    const internal = await internalService();
    const port = Number(new URL(internal.url).port);
    const publicHost = await startServerOn('127.0.0.2', port, 'public answer');
    cleanups.push(() => publicHost.close());
    let calls = 0;
    const rebinding = async () => [calls++ % 2 === 0 ? '127.0.0.2' : '127.0.0.1'];
    const guarded = client({ allowedNetworks: ['127.0.0.2/32'], timeoutMs: TIMEOUT_MS, resolve: rebinding });
    const url = `http://rebind.example:${port}/hook`;

    for (let round = 0; round < 2; round++) {
      const response = await guarded.request({ url, body: '{}', signal: signal() });
      expect(response).toMatchObject({ status: 200, text: 'public answer' });
      expectRefusal(await refusalOf(guarded, url), /127\.0\.0\.1 is a loopback address/);
    }
    expect(calls).toBe(4); // one resolution per connection: the one the socket used
    expect(publicHost.requests).toEqual(['/hook', '/hook']);
    expect(internal.requests).toEqual([]);
  });

  it('reaches an allowlisted network on any port, and no public address on a non-standard one', async () => {
    const service = await internalService();
    const { port } = new URL(service.url);
    const dns = fakeDns({ 'svc.internal': ['127.0.0.1'], 'public.example': ['1.1.1.1'] });
    const allowing = client({
      allowedNetworks: parseNetworkList('127.0.0.0/8'),
      timeoutMs: TIMEOUT_MS,
      resolve: dns.resolve,
    });

    expect(await allowing.request({ url: `${service.url}/a`, signal: signal() })).toMatchObject({ status: 200 });
    expect(await allowing.request({ url: `http://svc.internal:${port}/b`, signal: signal() })).toMatchObject({
      status: 200,
    });
    expect(service.requests.map((request) => request.url)).toEqual(['/a', '/b']);

    expectRefusal(await refusalOf(allowing, 'http://1.1.1.1:8080/'), /port 8080 is not allowed/);
    expectRefusal(
      await refusalOf(allowing, 'http://public.example:8080/'),
      /public\.example resolves to a refused address: port 8080 is not allowed/,
    );
    expectRefusal(await refusalOf(allowing, 'http://10.0.0.1/'), /10\.0\.0\.1 is a private address/);
  });

  it('does not follow a redirect to the metadata endpoint: the 302 is the answer', async () => {
    const redirecting = await startFakeHttp(() => ({
      status: 302,
      headers: { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' },
    }));
    cleanups.push(() => redirecting.close());
    const allowing = client({ allowedNetworks: ['127.0.0.0/8'], timeoutMs: TIMEOUT_MS });

    const response = await allowing.request({ url: `${redirecting.url}/hook`, body: '{}', signal: signal() });

    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('http://169.254.169.254/latest/meta-data/iam/security-credentials/');
    expect(redirecting.requests).toHaveLength(1);
  });
});
