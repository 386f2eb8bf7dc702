import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  constants,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  answerFault,
  answerWith,
  type FakeAnswer,
  type FakeHttp,
  type Fault,
  type RecordedRequest,
} from './fake-http.js';

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-h2-'));
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Faults only HTTP/2 has, on top of the shared matrix. */
export const H2_FAULTS = ['rst-stream', 'goaway'] as const;
export type H2Fault = (typeof H2_FAULTS)[number];

export interface H2RecordedRequest extends RecordedRequest {
  /** '2.0' when the request came over HTTP/2. */
  httpVersion: string;
}

export interface FakeH2 extends FakeHttp {
  /** https://127.0.0.1:<port> */
  url: string;
  requests: H2RecordedRequest[];
  setFault(fault: Fault | H2Fault | undefined): void;
}

/**
 * The HTTP/2-only counterpart of startFakeHttp (test/support/fake-http.ts): a TLS server that
 * offers only h2 by ALPN, with the same fault matrix answered over h2 streams (so
 * expectFaultOutcome works unchanged), plus RST_STREAM and GOAWAY.
 */
export async function startFakeH2(
  tls: { key: string; cert: string },
  handle: (request: H2RecordedRequest) => FakeAnswer | Promise<FakeAnswer>,
): Promise<FakeH2> {
  let fault: Fault | H2Fault | undefined;
  const requests: H2RecordedRequest[] = [];
  const sessions = new Set<Http2Session>();
  const server = createSecureServer({ ...tls, allowHTTP1: false }, (req, res) => {
    // A client that gives up on a stream resets it; writes to it then fail, harmlessly.
    res.stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: H2RecordedRequest = {
        method: req.method,
        url: req.url,
        headers: req.headers as RecordedRequest['headers'],
        body: Buffer.concat(chunks).toString('utf8'),
        httpVersion: req.httpVersion,
      };
      requests.push(recorded);
      if (fault) answerH2Fault(fault, req, res);
      else answerWith(res, () => handle(recorded));
    });
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    setFault(next) {
      fault = next;
    },
    async close() {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The shared fault matrix over h2, plus the faults only HTTP/2 has. */
function answerH2Fault(fault: Fault | H2Fault, req: Http2ServerRequest, res: Http2ServerResponse): void {
  switch (fault) {
    case 'rst-stream':
      // Only this stream is refused; the connection stays up.
      req.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    case 'goaway':
      // The server announces shutdown without having processed the stream, then closes.
      req.stream.session?.goaway(constants.NGHTTP2_INTERNAL_ERROR, 0);
      req.stream.session?.destroy();
      return;
    default:
      // A reset drops the whole connection (TCP reset), taking every stream on it.
      answerFault(fault, res, () => req.stream.session?.destroy());
  }
}
