import { connect, type Socket } from 'node:net';

/** A plain TCP connection to a Herald, for requests no HTTP client would send (slow, partial). */
export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** True once the server has ended or reset the connection. */
  closed(): boolean;
  /** Resolves once the connection is closed, by either side. */
  whenClosed: Promise<void>;
  /** Writes without waiting; writes after the server closed are ignored. */
  write(text: string): void;
  /** Writes one byte of `text` every `everyMs` until it is all sent or the connection closes. */
  trickle(text: string, everyMs: number): void;
  close(): void;
}

/** Opens a TCP connection to the host and port of `url` and waits until it is connected. */
export async function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let data = '';
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => undefined); // a reset is a close, for these tests
  const whenClosed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      ended = true;
      clearInterval(timer);
      resolve();
    }),
  );
  // The server half-closing (FIN) is what Connection: close looks like: count it as closed.
  socket.on('end', () => {
    ended = true;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const write = (text: string) => {
    if (!ended && socket.writable) socket.write(text);
  };
  return {
    socket,
    received: () => data,
    closed: () => ended,
    whenClosed,
    write,
    trickle(text, everyMs) {
      let next = 0;
      timer = setInterval(() => {
        if (next >= text.length || ended) return clearInterval(timer);
        write(text[next++]!);
      }, everyMs);
    },
    close() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** The status code of the first answer in `text`, if one has arrived. */
export function statusOf(text: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The JSON body of the (only) answer in `text`. */
export function bodyOf(text: string): any {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}
