import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback webhook receiver for fan-outs: a webhook step whose URL is `…/hook/<subscriber id>`
 * (`{{ subscriber.subscriberId }}`) lands here, and the receiver keeps, per subscriber, the
 * distinct `webhook-id`s (message ids) that reached them. A message sent again (at-least-once, after
 * a crash) has the same id; a second message to one subscriber has another.
 */
export interface WebhookCounter {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Subscriber id → the distinct message ids that reached them. */
  bySubscriber: Map<string, Set<string>>;
  /** Requests received (to any path), copies included. */
  requests(): number;
  close(): Promise<void>;
}

export async function startWebhookCounter(): Promise<WebhookCounter> {
  const bySubscriber = new Map<string, Set<string>>();
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const path = req.url ?? '';
      if (!path.startsWith('/hook/')) {
        res.end('ok');
        return;
      }
      const subscriberId = decodeURIComponent(path.slice('/hook/'.length));
      const messageId = String(req.headers['webhook-id'] ?? '');
      let ids = bySubscriber.get(subscriberId);
      if (!ids) bySubscriber.set(subscriberId, (ids = new Set()));
      ids.add(messageId);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bySubscriber,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A process's resident memory now, in MB (Linux /proc). */
export function residentMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** Samples a process's resident memory every `intervalMs` until stopped; answers the peak. */
export function watchResidentMemory(pid: number, intervalMs = 100): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, residentMb(pid));
    } catch {
      // the process has exited
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
