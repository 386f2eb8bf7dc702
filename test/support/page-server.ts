import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface PageServer {
  /** http://127.0.0.1:<port>: another origin than Herald's, as a customer's site is. */
  origin: string;
  /** Serves `html` at `path` from now on and returns its full URL. */
  set(path: string, html: string): string;
  close(): Promise<void>;
}

/** A loopback HTTP server for the HTML pages a browser test loads; unknown paths answer 404. */
export async function startPageServer(): Promise<PageServer> {
  const pages = new Map<string, string>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const html = pages.get((req.url ?? '/').split('?')[0] ?? '/');
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    set(path, html) {
      pages.set(path, html);
      return origin + path;
    },
    async close() {
      // A browser keeps connections alive; end them so close() does not wait for their timeout.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
