import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON. */
  body?: unknown;
}

/**
 * The faults every provider must survive (issue 4's matrix). Each makes the fake answer that
 * way instead of calling its handler; the request is still recorded.
 */
export const FAULTS = [
  'broken-json',
  'html-502',
  'retry-after-seconds',
  'retry-after-date',
  'unavailable-503',
  'reset',
  'slow-body',
  'huge-body',
  'redirect-to-metadata',
  'no-answer',
] as const;
export type Fault = (typeof FAULTS)[number];

export interface FakeHttp {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: RecordedRequest[];
  /** Makes the next requests fail this way until cleared with undefined. */
  setFault(fault: Fault | undefined): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for a provider's HTTP API: `handle` checks the request the provider's docs
 * require and returns the provider's documented answer.
 */
export async function startFakeHttp(
  handle: (request: RecordedRequest) => FakeAnswer | Promise<FakeAnswer>,
): Promise<FakeHttp> {
  let fault: Fault | undefined;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      if (fault) answerFault(fault, res, () => res.socket?.destroy());
      else answerWith(res, () => handle(recorded));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setFault(next) {
      fault = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * What the fake does for a fault: an HTTP answer (`stall`: the body starts and never ends), a
 * dropped connection, or silence. One table for the HTTP/1.1 and HTTP/2 fakes.
 */
type FaultAnswer =
  { status: number; headers: Record<string, string>; body: string; stall?: true } | 'reset' | 'no-answer';

function faultAnswer(fault: Fault): FaultAnswer {
  const json = { 'content-type': 'application/json' };
  switch (fault) {
    case 'broken-json':
      return { status: 200, headers: json, body: '{"id": "abc", "status": ' };
    case 'html-502':
      return {
        status: 502,
        headers: { 'content-type': 'text/html' },
        body: '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>',
      };
    case 'retry-after-seconds':
      return { status: 429, headers: { ...json, 'retry-after': '7' }, body: '{"error": "rate limited"}' };
    case 'retry-after-date': {
      const retryAfter = new Date(Date.now() + 20_000).toUTCString();
      return { status: 429, headers: { ...json, 'retry-after': retryAfter }, body: '{"error": "rate limited"}' };
    }
    case 'unavailable-503':
      return { status: 503, headers: json, body: '{"error": "service unavailable"}' };
    case 'reset':
      return 'reset';
    case 'slow-body':
      // The status arrives, then the body stalls mid-document past any timeout.
      return { status: 200, headers: json, body: '{"id": "slow"', stall: true };
    case 'huge-body':
      return { status: 200, headers: json, body: `{"padding": "${'x'.repeat(8 * 1024 * 1024)}"}` };
    case 'redirect-to-metadata':
      return {
        status: 302,
        headers: { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' },
        body: '',
      };
    case 'no-answer':
      return 'no-answer'; // the request is read and never answered
  }
}

/** The part of a response both node:http and the node:http2 compatibility API offer. */
export interface FakeResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): unknown;
  end(chunk: string): unknown;
}

/** Answers `fault` on `res`; `dropConnection` is how the transport at hand cuts the connection. */
export function answerFault(fault: Fault, res: FakeResponse, dropConnection: () => void): void {
  const answer = faultAnswer(fault);
  if (answer === 'reset') dropConnection();
  else if (answer !== 'no-answer') {
    res.writeHead(answer.status, answer.headers);
    if (answer.stall) res.write(answer.body);
    else res.end(answer.body);
  }
}

/** Sends the handler's answer (objects as JSON), or a 500 naming the handler's error. */
export function answerWith(res: FakeResponse, handle: () => FakeAnswer | Promise<FakeAnswer>): void {
  void Promise.resolve()
    .then(handle)
    .then(
      (answer) => {
        const isText = typeof answer.body === 'string' || answer.body === undefined;
        res.writeHead(answer.status, { 'content-type': isText ? 'text/plain' : 'application/json', ...answer.headers });
        res.end(isText ? ((answer.body as string | undefined) ?? '') : JSON.stringify(answer.body));
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake failed: ${error.message}`);
      },
    );
}
