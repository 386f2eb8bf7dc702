import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientErrorProblem } from './problem.js';

/** How long clients may take and how many may be connected; from --request-timeout and --max-connections. */
export interface ConnectionLimits {
  /** Longest time a client may take to send one request's headers and body. */
  requestTimeoutMs: number;
  /** Open connections at most (inbox streams included). */
  maxConnections: number;
}

export interface ConnectionGuard {
  /** Connections open now. */
  open(): number;
}

export interface ConnectionEvents {
  /** A connection was closed to make room (`evicted`), or a new one was closed at once (`refused`). */
  onShed?(reason: 'evicted' | 'refused'): void;
}

/**
 * Bounds what a client can hold on the server without sending a complete request:
 *
 * - Headers and body must arrive within `requestTimeoutMs` of the request's first byte (or of the
 *   connection, for its first request); a client that trickles is answered 408 and disconnected.
 *   Node enforces this with a sweep every `connectionsCheckingInterval` (30 s by default, which
 *   would let a trickle live up to twice the limit): the sweep runs every tenth of the limit (at
 *   most every second) and the limit given to Node is shortened by one sweep, so a trickle is cut
 *   within `requestTimeoutMs`. Once a request has arrived it is no longer timed: handlers and
 *   inbox streams (SSE) run as long as they need.
 * - At most `maxConnections` are open. At the cap, a new connection closes the one that has been
 *   idle (keep-alive) or receiving its request the longest, and is accepted in its place: a flood
 *   of slow or idle sockets then churns through itself, and a health check still gets in. A
 *   connection whose request is complete (being handled, or answering) or that holds an inbox
 *   stream is never closed for room; when every connection is such, the newcomer is refused.
 *
 * Must be applied before the server listens (the sweep interval is read on listen).
 */
export function guardConnections(
  server: Server,
  limits: ConnectionLimits,
  events: ConnectionEvents = {},
): ConnectionGuard {
  const sweepMs = Math.min(1000, Math.max(10, Math.floor(limits.requestTimeoutMs / 10)));
  const nodeLimitMs = Math.max(1, limits.requestTimeoutMs - sweepMs);
  // Typed only as a constructor option, but read from the server when it starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = sweepMs;
  server.headersTimeout = nodeLimitMs;
  server.requestTimeout = nodeLimitMs;

  /**
   * Connections that may be closed for room, longest waiting first (a Map keeps insertion order):
   * idle since their last answer, or receiving a request since then (the value is its response).
   * A connection found to be busy is moved to `busy` during a search, and back when it answers,
   * so searches do not walk the same busy connections again.
   */
  const waiting = new Map<Socket, ServerResponse | undefined>();
  const busy = new Set<Socket>();

  // Its request fully received and its answer not yet sent: a handler or an inbox stream is at work.
  const isBusy = (response: ServerResponse | undefined) =>
    response !== undefined && response.req.complete && !response.writableFinished;

  function evictLongestWaiting(): boolean {
    for (const [socket, response] of waiting) {
      waiting.delete(socket);
      if (isBusy(response)) {
        busy.add(socket);
        continue;
      }
      socket.destroy();
      return true;
    }
    return false;
  }

  server.on('connection', (socket: Socket) => {
    if (waiting.size + busy.size >= limits.maxConnections) {
      if (!evictLongestWaiting()) {
        socket.destroy();
        events.onShed?.('refused');
        return;
      }
      events.onShed?.('evicted');
    }
    waiting.set(socket, undefined);
    socket.once('close', () => {
      waiting.delete(socket);
      busy.delete(socket);
    });
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    // Setting an existing key keeps its place: it has been waiting since its last answer.
    if (waiting.has(socket)) waiting.set(socket, response);
    response.once('finish', () => {
      if (socket.destroyed || !(busy.delete(socket) || waiting.delete(socket))) return;
      waiting.set(socket, undefined); // idle from now: to the back of the line
    });
  });

  return { open: () => waiting.size + busy.size };
}

/**
 * Answers what never became a request: bytes that are not HTTP (400), headers too large (431), or
 * headers and body not received within the request timeout (408), then closes the connection.
 * Closing is the point: the client has shown it will not send a usable request on it.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket, requestTimeoutMs: number): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already partly sent cannot be followed by another one: only close.
  const answering = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !answering?.headersSent) {
    const { status, body } = clientErrorProblem(error, requestTimeoutMs);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  // Close once the answer is flushed; a peer that will not even take the answer is cut off.
  socket.destroySoon();
  socket.setTimeout(1000, () => socket.destroy());
}

/**
 * onSend: a request answered before its body arrived in full (401 before the body, 413, 415, any
 * early error) gets `Connection: close`, and Node closes the socket once the answer is sent. The
 * rest of that body would otherwise be read and thrown away, holding the connection for as long
 * as the client cares to trickle it.
 */
export function closeIfBodyUnread(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (error: null, payload: unknown) => void,
): void {
  if (request.raw.complete) return done(null, payload);
  // An answer can be ready before Node has parsed the rest of the packet that carried the
  // headers (hooks run as microtasks in between): look again once that packet is parsed.
  setImmediate(() => {
    if (!request.raw.complete) reply.header('connection', 'close');
    done(null, payload);
  });
}

/**
 * The default for --max-connections: what the process's file-descriptor limit leaves once the
 * database, SMTP and outbound HTTP connections and the process's own files are set aside, less a
 * tenth for what cannot be counted (DNS, logs, stray files).
 */
export function defaultMaxConnections(reserved: { dbPool: number; smtpPool: number; concurrency: number }): number {
  const limit = fileDescriptorLimit();
  // Outbound: each send in flight holds a connection, and pools keep about as many idle.
  const set = 256 + reserved.dbPool + 1 + reserved.smtpPool + 2 * reserved.concurrency;
  return Math.max(64, Math.floor((limit - set) * 0.9));
}

/** The process's limit on open files (Node raises the soft limit to the hard one at start). */
export function fileDescriptorLimit(): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (match) return match[1] === 'unlimited' ? 1_048_576 : Number(match[1]);
  } catch {
    // Not Linux: ask a shell, which inherits this process's limits.
  }
  try {
    const value = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).trim();
    if (value === 'unlimited') return 1_048_576;
    if (/^\d+$/.test(value)) return Number(value);
  } catch {
    // No shell (Windows): libuv has no per-process descriptor limit there.
  }
  return 8192;
}
