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
      if (fault) {
        answerFault(fault, res);
        return;
      }
      void Promise.resolve()
        .then(() => handle(recorded))
        .then(
          (answer) => {
            const isText = typeof answer.body === 'string' || answer.body === undefined;
            res.writeHead(answer.status, {
              'content-type': isText ? 'text/plain' : 'application/json',
              ...answer.headers,
            });
            res.end(isText ? ((answer.body as string | undefined) ?? '') : JSON.stringify(answer.body));
          },
          (error: Error) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`fake failed: ${error.message}`);
          },
        );
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

function answerFault(fault: Fault, res: ServerResponse): void {
  switch (fault) {
    case 'broken-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "abc", "status": ');
      return;
    case 'html-502':
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
      return;
    case 'retry-after-seconds':
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{"error": "rate limited"}');
      return;
    case 'retry-after-date':
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': new Date(Date.now() + 20_000).toUTCString(),
      });
      res.end('{"error": "rate limited"}');
      return;
    case 'unavailable-503':
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error": "service unavailable"}');
      return;
    case 'reset':
      res.socket?.destroy();
      return;
    case 'slow-body':
      // The status arrives, then the body stalls mid-document past any timeout.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id": "slow"');
      return;
    case 'huge-body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"padding": "${'x'.repeat(8 * 1024 * 1024)}"}`);
      return;
    case 'redirect-to-metadata':
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' });
      res.end();
      return;
    case 'no-answer':
      return; // the request is read and never answered
  }
}
