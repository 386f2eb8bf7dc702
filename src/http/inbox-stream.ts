import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { InboxCounts, InboxEvent, InboxEventRef } from '../core/inbox.js';
import type { Store } from '../core/store.js';

export interface InboxStreamDeps {
  store: Store;
  logger: Logger;
  /** How often an idle stream gets a comment line, so proxies and browsers keep it open. */
  heartbeatMs: number;
}

export interface InboxStreams {
  /**
   * Streams a subscriber's inbox events to `response` (already answered 200 with the SSE headers)
   * until it closes. `lastEventId`: the seq the browser last saw; the events after it come first.
   */
  open(
    response: ServerResponse,
    subscriber: { environmentId: string; subscriberId: string },
    lastEventId?: number,
  ): void;
  /** Streams open in this process. */
  count(): number;
  /** Ends every stream (shutdown); browsers reconnect elsewhere with their Last-Event-ID. */
  closeAll(): void;
}

/** Events read per query when a stream catches up from the store. */
const CATCH_UP_BATCH = 500;
/** A client this far behind on reading is dropped; it resumes from the store when it reconnects. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** One event in SSE framing; `id` is the subscriber's seq, which EventSource sends back on reconnect. */
function frame(type: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function eventData(event: InboxEvent): unknown {
  return event.item ? { item: event.item, counts: event.counts } : { counts: event.counts, at: event.at };
}

/**
 * Server-Sent Events for the inbox. Every stream keeps the seq it last sent and handles what
 * reaches it one at a time, in order: the next event in sequence is written as it comes; a gap
 * (a notification lost while the listener reconnected, a ref too large to carry its event, a
 * resume after a disconnect) is filled from the store's event log. Nothing is sent twice, and
 * nothing committed is skipped while the log still holds it; when it no longer does, the browser
 * gets `reset` and reloads its list.
 */
export function createInboxStreams(deps: InboxStreamDeps): InboxStreams {
  const { store, logger } = deps;
  const streams = new Map<string, Set<Stream>>();
  const keyOf = (environmentId: string, subscriberId: string) => `${environmentId}\u0000${subscriberId}`;

  class Stream {
    lastSeq = 0;
    closed = false;
    private work: Promise<void> = Promise.resolve();

    constructor(
      readonly response: ServerResponse,
      readonly environmentId: string,
      readonly subscriberId: string,
    ) {}

    /** Queues a step; steps run one at a time, so writes stay in order. */
    then(step: () => Promise<void> | void): void {
      this.work = this.work.then(async () => {
        if (this.closed) return;
        try {
          await step();
        } catch (error) {
          logger.warn({ err: error, subscriberId: this.subscriberId }, 'inbox stream failed; closing it');
          this.close();
        }
      });
    }

    offer(event: InboxEvent | InboxEventRef): void {
      if (event.seq <= this.lastSeq) return;
      this.then(async () => {
        if (event.seq <= this.lastSeq) return;
        if ('type' in event && event.seq === this.lastSeq + 1) this.send(event);
        else await this.catchUp();
      });
    }

    send(event: InboxEvent): void {
      this.write(frame(event.type, eventData(event), event.seq));
      this.lastSeq = event.seq;
    }

    async catchUp(): Promise<void> {
      for (;;) {
        const events = await store.listInboxEvents(this.environmentId, this.subscriberId, this.lastSeq, CATCH_UP_BATCH);
        if (this.closed || events.length === 0) return;
        if (events[0]!.seq !== this.lastSeq + 1) {
          await this.reset(); // the events in between were pruned
          return;
        }
        for (const event of events) this.send(event);
        if (events.length < CATCH_UP_BATCH) return;
      }
    }

    /** Tells the browser to reload: it cannot be brought up to date event by event. */
    async reset(): Promise<void> {
      const { counts, seq } = await store.getInboxCounts(this.environmentId, this.subscriberId);
      this.write(frame('reset', { counts }, seq));
      this.lastSeq = seq;
    }

    counts(counts: InboxCounts, seq?: number): void {
      this.write(frame('counts', { counts }, seq));
    }

    write(chunk: string): void {
      if (this.closed) return;
      if (this.response.writableLength > MAX_BUFFERED_BYTES) {
        this.close();
        return;
      }
      this.response.write(chunk);
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      const key = keyOf(this.environmentId, this.subscriberId);
      const set = streams.get(key);
      set?.delete(this);
      if (set?.size === 0) streams.delete(key);
      this.response.end();
    }
  }

  store.onInboxEvents?.((event) => {
    if (event === undefined) {
      // Notifications may have been lost (the listener reconnected): every stream looks itself.
      for (const set of streams.values()) for (const stream of set) stream.then(() => stream.catchUp());
      return;
    }
    const set = streams.get(keyOf(event.environmentId, event.subscriberId));
    if (set) for (const stream of set) stream.offer(event);
  });

  const heartbeat = setInterval(() => {
    for (const set of streams.values()) for (const stream of set) stream.write(': heartbeat\n\n');
  }, deps.heartbeatMs);
  heartbeat.unref();

  return {
    open(response, { environmentId, subscriberId }, lastEventId) {
      const stream = new Stream(response, environmentId, subscriberId);
      const key = keyOf(environmentId, subscriberId);
      // Listen before reading the state: an event committed meanwhile queues behind this first
      // step, and is then either covered by the read (its seq is not above it: dropped) or sent.
      let set = streams.get(key);
      if (!set) streams.set(key, (set = new Set()));
      set.add(stream);
      response.on('close', () => stream.close());
      stream.then(async () => {
        const { counts, seq } = await store.getInboxCounts(environmentId, subscriberId);
        if (lastEventId === undefined) {
          stream.lastSeq = seq;
          stream.counts(counts, seq);
          return;
        }
        if (lastEventId > seq) {
          // Not an id of this inbox (a restored database, another server): start over.
          stream.lastSeq = seq;
          stream.write(frame('reset', { counts }, seq));
          return;
        }
        stream.lastSeq = lastEventId;
        stream.counts(counts);
        await stream.catchUp();
      });
    },

    count() {
      let total = 0;
      for (const set of streams.values()) total += set.size;
      return total;
    },

    closeAll() {
      clearInterval(heartbeat);
      for (const set of [...streams.values()]) for (const stream of [...set]) stream.close();
    },
  };
}
