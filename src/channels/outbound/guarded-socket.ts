import { connect, isIP, type Socket } from 'node:net';
import { systemResolve } from './http-client.js';
import { vetResolved, type AddressPolicy, type OutboundProtocol } from './ssrf.js';

export interface SocketTarget {
  /** The name or address the user gave (TLS checks its certificate against this name). */
  host: string;
  port: number;
  /** The port as the URL spelled it ('' for the scheme's default), for the port rule. */
  urlPort: string;
  protocol: OutboundProtocol;
}

/**
 * Opens a TCP connection for a transport that is not HTTP (SMTP), through the SSRF guard: the name
 * is resolved here, every address vetted with the target's port, and the socket connects to the
 * vetted address, so a name that resolves elsewhere a moment later gains nothing. Rejects with
 * OutboundRefused, or the connection's own error.
 */
export type OpenSocket = (target: SocketTarget) => Promise<Socket>;

export interface SocketGuardOptions extends AddressPolicy {
  /** Longest wait for resolving and connecting. */
  timeoutMs: number;
  /** Resolves a name to its addresses; tests substitute their own DNS. */
  resolve?: (hostname: string) => Promise<string[]>;
}

export function createSocketGuard(options: SocketGuardOptions): OpenSocket {
  const resolve = options.resolve ?? systemResolve;
  return async (target) => {
    const hostname = target.host.replace(/^\[(.*)\]$/, '$1');
    const addresses = isIP(hostname) ? [hostname] : await resolve(hostname);
    if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: 'EDNS' });
    vetResolved(hostname, addresses, target.urlPort, options, target.protocol);
    return connectTo(addresses[0]!, target.port, options.timeoutMs);
  };
}

function connectTo(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port });
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(Object.assign(new Error(`timed out connecting to port ${port}`), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
