import { request } from 'node:http';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: any;
}

export interface SseClient {
  events: SseEvent[];
  /** Heartbeat comments seen. */
  comments: number;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The last `retry:` value the server sent (how long EventSource waits before reconnecting). */
  retry: number | undefined;
  /** The server ended the response. */
  ended: boolean;
  /** Waits until the server has ended the response. */
  waitForEnd(timeoutMs?: number): Promise<void>;
  /** Waits until `count` events (of `type`, if given) have arrived. */
  waitFor(count: number, type?: string, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

/**
 * A minimal EventSource for tests (Node 20 has none): opens the stream, parses the SSE framing
 * (id, event, data, comments) and keeps every event.
 */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const client: SseClient = {
        events: [],
        comments: 0,
        status: res.statusCode ?? 0,
        headers: res.headers,
        async waitFor(count, type, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const matching = client.events.filter((event) => type === undefined || event.event === type);
            if (matching.length >= count) return matching;
            if (Date.now() > deadline) {
              throw new Error(
                `timed out waiting for ${count} ${type ?? ''} events; got ${JSON.stringify(client.events.map((e) => [e.id, e.event]))}`,
              );
            }
            await new Promise((done) => setTimeout(done, 10));
          }
        },
        retry: undefined,
        ended: false,
        async waitForEnd(timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (!client.ended) {
            if (Date.now() > deadline) {
              throw new Error(`timed out waiting for the stream to end; got ${JSON.stringify(client.events)}`);
            }
            await new Promise((done) => setTimeout(done, 10));
          }
        },
        close() {
          req.destroy();
        },
      };
      res.on('end', () => (client.ended = true));
      res.on('close', () => (client.ended = true));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          let fields = 0;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              client.comments++;
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'retry') client.retry = Number(value);
            if (field === 'id') id = value;
            else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
            else continue;
            fields++;
          }
          if (fields === 0 || data.length === 0) continue;
          const text = data.join('\n');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          client.events.push({ id, event, data: parsed });
        }
      });
      res.on('error', () => undefined);
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          (client as SseClient & { body?: string }).body = body;
          resolve(client);
        });
        return;
      }
      resolve(client);
    });
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}
