import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, errors as undiciErrors } from 'undici';
import { OutboundRefused, vetResolved, vetUrl, type AddressPolicy } from './ssrf.js';

/** Provider answers are read up to this size: enough for any error document, bounded for all. */
export const RESPONSE_LIMIT_BYTES = 64 * 1024;

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Aborts the request (the job's send timeout). */
  signal: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as text, cut at RESPONSE_LIMIT_BYTES. */
  text: string;
  truncated: boolean;
  /** Set when the status arrived but the body could not be read to its end (reset, stall). */
  bodyError?: string;
}

/** A request that got no HTTP answer: refused by the SSRF guard, or a network failure. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    /** false when retrying cannot help (the address is refused, the URL is invalid). */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface HttpClientOptions extends AddressPolicy {
  /** Longest wait for the response headers, and between body chunks. */
  timeoutMs: number;
  /** Connections kept per origin. */
  connections?: number;
  /** Resolves a name to its addresses; tests substitute their own DNS. */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Negotiate HTTP/2 over TLS where the server offers it (APNs requires it). */
  allowH2?: boolean;
  /** Trust this CA (PEM) for TLS instead of the system's roots. */
  ca?: string;
}

export interface HttpClient {
  /**
   * Sends one request without following redirects. Resolves with whatever HTTP answer came, of
   * any status; rejects only with HttpFailure.
   */
  request(request: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** Every address the system resolver has for a name, in its order. */
export async function systemResolve(hostname: string): Promise<string[]> {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

/**
 * The one way Herald calls out over HTTP: undici pools (one per origin, kept alive), every
 * connection made to an address the SSRF guard has vetted, every answer read with a size cap and
 * a timeout, never a redirect followed.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const resolve = options.resolve ?? systemResolve;
  const baseConnect = buildConnector({
    timeout: options.timeoutMs,
    ...(options.allowH2 && { allowH2: true }),
    ...(options.ca && { ca: options.ca }),
  });
  const agent = new Agent({
    ...(options.allowH2 && { allowH2: true }),
    connections: options.connections ?? 64,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 10_000,
    // Resolve, vet every address the name has, and connect to the first: the socket goes where the
    // check looked, whatever the name resolves to a moment later.
    connect(connectOptions, callback) {
      const hostname = connectOptions.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = connectOptions.port || (connectOptions.protocol === 'https:' ? '443' : '80');
      const explicitPort = connectOptions.port ?? '';
      void (async () => {
        const addresses = isIP(hostname) ? [hostname] : await resolve(hostname);
        if (addresses.length === 0) throw new HttpFailure(`${hostname} has no address`, true);
        vetResolved(hostname, addresses, explicitPort, options);
        return addresses[0]!;
      })().then(
        (address) => baseConnect({ ...connectOptions, hostname: address, port }, callback),
        (error: Error) => callback(error, null),
      );
    },
  });

  return {
    async request(request) {
      let url: URL;
      try {
        url = vetUrl(request.url, options);
      } catch (error) {
        throw new HttpFailure(`refused: ${(error as Error).message}`, false);
      }
      let response;
      try {
        response = await agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: request.method ?? 'POST',
          headers: request.headers,
          body: request.body,
          signal: request.signal,
        });
      } catch (error) {
        throw classifyNetworkError(error, request.signal);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      let bodyError: string | undefined;
      try {
        for await (const chunk of response.body) {
          const buffer = chunk as Buffer;
          if (size + buffer.length > RESPONSE_LIMIT_BYTES) {
            chunks.push(buffer.subarray(0, RESPONSE_LIMIT_BYTES - size));
            size = RESPONSE_LIMIT_BYTES;
            truncated = true;
            break; // leaving the loop destroys the body: the rest is never read
          }
          chunks.push(buffer);
          size += buffer.length;
        }
      } catch (error) {
        bodyError = classifyNetworkError(error, request.signal).message;
        response.body.destroy();
      }
      return {
        status: response.statusCode,
        headers,
        text: Buffer.concat(chunks).toString('utf8'),
        truncated,
        bodyError,
      };
    },
    async close() {
      await agent.destroy();
    },
  };
}

/** Names a network failure the way the delivery log shows it; all are transient but a refusal. */
export function classifyNetworkError(error: unknown, signal?: AbortSignal): HttpFailure {
  if (error instanceof HttpFailure) return error;
  if (error instanceof OutboundRefused) return new HttpFailure(`refused: ${error.message}`, false);
  if (signal?.aborted) return new HttpFailure('timed out: no answer within the send timeout', true);
  const cause = (error as { cause?: unknown })?.cause;
  if (cause instanceof OutboundRefused) return new HttpFailure(`refused: ${cause.message}`, false);
  if (error instanceof undiciErrors.HeadersTimeoutError)
    return new HttpFailure('timed out waiting for the response', true);
  if (error instanceof undiciErrors.BodyTimeoutError)
    return new HttpFailure('timed out reading the response body', true);
  if (error instanceof undiciErrors.ConnectTimeoutError) return new HttpFailure('timed out connecting', true);
  const code = (error as { code?: string })?.code ?? (cause as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')
    return new HttpFailure('connection reset by the server', true);
  if (code === 'ECONNREFUSED') return new HttpFailure('connection refused', true);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new HttpFailure(`name not resolved (${code})`, true);
  return new HttpFailure(`network error: ${code ? `${code} ` : ''}${message}`.slice(0, 300), true);
}
