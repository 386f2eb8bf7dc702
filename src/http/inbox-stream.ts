import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { InboxCounts, InboxEvent, InboxEventRef } from '../core/inbox.js';
import type { InboxStore } from '../core/store.js';
import type { InboxAccess, InboxSubscriber } from './inbox-access.js';

export interface InboxStreamDeps {
  store: Pick<InboxStore, 'getInboxCounts' | 'listInboxEvents' | 'onInboxEvents'>;
  logger: Logger;
  clock: Clock;
  /** How often an idle stream gets a comment line, so proxies and browsers keep it open. */
  heartbeatMs: number;
  /** Streams this process holds at most (--inbox-max-streams); past it, new ones are refused. */
  maxStreams: number;
  /** Whose secret is current: a stream whose credentials it no longer checks is ended. */
  access: Pick<InboxAccess, 'currentSecret' | 'onChanged'>;
}

export interface InboxStreams {
  /**
   * Whether a stream for this subscriber may open: the process holds fewer than its most, or the
   * subscriber has a stream of their own to give up for it.
   */
  hasRoomFor(subscriber: { environmentId: string; subscriberId: string }): boolean;
  /**
   * Streams a subscriber's inbox events to `response` (already answered 200 with the SSE headers)
   * until it closes, the credentials' secret is rotated or the token expires. `lastEventId`: the
   * seq the browser last saw; the events after it come first.
   */
  open(response: ServerResponse, subscriber: InboxSubscriber, lastEventId?: number): void;
  /** Streams open in this process. */
  count(): number;
  /** Ends every stream (shutdown); browsers reconnect elsewhere with their Last-Event-ID. */
  closeAll(): void;
}

/**
 * Why Herald ended a stream, said in a last `closed` event: `revoked` (the inbox secret was
 * rotated), `expired` (the token expired), `replaced` (the subscriber opened more streams than
 * one process keeps; this was their oldest).
 */
type EndReason = 'revoked' | 'expired' | 'replaced';

/**
 * Streams one subscriber holds at most in one process; a new one ends their oldest. A person has a
 * few tabs and devices open (a browser holds at most six HTTP/1.1 connections per host anyway);
 * a script opening thousands holds no more than this.
 */
const MAX_STREAMS_PER_SUBSCRIBER = 10;
/**
 * A replaced stream's EventSource waits this long before it reconnects: reconnecting at once would
 * end the subscriber's next oldest stream, and so on round the tabs.
 */
const REPLACED_RETRY_MS = 60_000;
/** setTimeout's longest delay; tokens live at most a day, far below it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
  const { store, logger, access } = deps;
  /** Each subscriber's streams, oldest first (a Set keeps insertion order). */
  const streams = new Map<string, Set<Stream>>();
  let total = 0;
  const keyOf = (environmentId: string, subscriberId: string) => `${environmentId}\u0000${subscriberId}`;

  class Stream {
    lastSeq = 0;
    closed = false;
    expiry: NodeJS.Timeout | undefined;
    private work: Promise<void> = Promise.resolve();

    constructor(
      readonly response: ServerResponse,
      readonly environmentId: string,
      readonly subscriberId: string,
      /** The secret the credentials were checked with; the stream lives while it is current. */
      readonly secret: string,
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

    /** Ends the stream, saying why in a last event; the browser's EventSource then reconnects. */
    end(reason: EndReason): void {
      if (this.closed) return;
      if (reason === 'replaced') this.write(`retry: ${REPLACED_RETRY_MS}\n\n`);
      this.write(frame('closed', { reason }));
      this.close();
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      clearTimeout(this.expiry);
      const key = keyOf(this.environmentId, this.subscriberId);
      const set = streams.get(key);
      if (set?.delete(this)) total--;
      if (set?.size === 0) streams.delete(key);
      this.response.end();
    }
  }

  const streamsOf = (environmentId: string | undefined): Stream[] => {
    const found: Stream[] = [];
    for (const set of streams.values()) {
      for (const stream of set)
        if (environmentId === undefined || stream.environmentId === environmentId) found.push(stream);
    }
    return found;
  };

  /**
   * Ends the streams of `environmentId` (undefined: of every environment) whose secret is no longer
   * the current one. When the current one cannot be read, they are ended all the same: a browser
   * whose credentials still hold reconnects, one whose do not is refused.
   */
  const endRevoked = async (environmentId: string | undefined): Promise<void> => {
    const environments = new Set(streamsOf(environmentId).map((stream) => stream.environmentId));
    await Promise.all(
      [...environments].map(async (environment) => {
        let current: string | undefined;
        try {
          current = await access.currentSecret(environment);
        } catch (error) {
          logger.warn({ err: error }, 'could not read the inbox secret after a change; ending its streams');
        }
        for (const stream of streamsOf(environment)) if (stream.secret !== current) stream.end('revoked');
      }),
    );
  };
  access.onChanged(endRevoked);

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
    hasRoomFor({ environmentId, subscriberId }) {
      return total < deps.maxStreams || streams.has(keyOf(environmentId, subscriberId));
    },

    open(response, { environmentId, subscriberId, secret, expiresAt }, lastEventId) {
      const stream = new Stream(response, environmentId, subscriberId, secret);
      const key = keyOf(environmentId, subscriberId);
      // The subscriber's oldest streams make room: for their own cap, and for the process's.
      const held = streams.get(key);
      while (held && held.size > 0 && (held.size >= MAX_STREAMS_PER_SUBSCRIBER || total >= deps.maxStreams)) {
        held.values().next().value!.end('replaced');
      }
      let set = streams.get(key);
      if (!set) streams.set(key, (set = new Set()));
      // Listen before reading the state: an event committed meanwhile queues behind this first
      // step, and is then either covered by the read (its seq is not above it: dropped) or sent.
      set.add(stream);
      total++;
      response.on('close', () => stream.close());
      if (expiresAt !== undefined) {
        stream.expiry = setTimeout(() => stream.end('expired'), Math.min(expiresAt - deps.clock.now(), MAX_TIMER_MS));
        stream.expiry.unref();
      }
      stream.then(async () => {
        // A rotation that finished between the credentials check and now found no stream to end.
        if ((await access.currentSecret(environmentId)) !== secret) {
          stream.end('revoked');
          return;
        }
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
      return total;
    },

    closeAll() {
      clearInterval(heartbeat);
      for (const set of [...streams.values()]) for (const stream of [...set]) stream.close();
    },
  };
}
