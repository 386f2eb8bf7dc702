import type { CircuitBreaker } from '../core/circuit-breaker.js';

/**
 * How many sends one destination (an integration, or a webhook receiver's origin) may hold at
 * once, per process. Without it, a receiver that never answers takes every delivery slot for a
 * whole send timeout while messages for healthy destinations wait behind it.
 *
 * A send over the limit waits in its worker slot while the destination is flowing (its oldest send
 * in flight is younger than the stall limit): that is what the send would do anyway inside the
 * provider's connection pool, and one busy relay can then still use every slot. Once the oldest
 * send stalls (a receiver that hangs), the waiting sends give up and their messages are put back in
 * the queue (`deferMs` says for how long), so their slots go to other destinations; from then on
 * a send over the limit is put back at once, until the destination flows again.
 */
export class DestinationGate {
  private inFlight = 0;
  /** Start times of the sends in flight: the oldest says how long the destination is taking now. */
  private readonly starts: number[] = [];
  /** A moving average of how long a send here takes, once one has finished. */
  private typicalMs: number | undefined;
  private readonly waiters: { grant: (lease: GateLease | undefined) => void }[] = [];
  /** When the messages put back so far can expect a free slot, if they come back one after another. */
  private queuedUntil = 0;

  constructor(
    readonly limit: number,
    private readonly now: () => number,
  ) {}

  /** A slot now, or undefined when `limit` sends are in flight. */
  tryAcquire(): GateLease | undefined {
    if (this.inFlight >= this.limit) return undefined;
    this.inFlight++;
    return this.lease();
  }

  /**
   * A slot now; or, while the destination is flowing, the first to free up (undefined once the
   * oldest send in flight stalls, or `signal` aborted); or, when it is stalled, undefined at once.
   */
  acquire(signal: AbortSignal): Promise<GateLease | undefined> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (this.stalledInMs() <= 0 || signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        grant: (lease: GateLease | undefined) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', giveUp);
          resolve(lease);
        },
      };
      const giveUp = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        waiter.grant(undefined);
      };
      // Look again when the oldest send would stall; a send that finished meanwhile moves that on.
      const watch = () => {
        const left = this.stalledInMs();
        if (left <= 0) giveUp();
        else timer = setTimeout(watch, left + 1);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      this.waiters.push(waiter);
      watch();
    });
  }

  /**
   * How long until the oldest send in flight counts as stalled: four times what a send here
   * typically takes, within STALL_MIN_MS–STALL_MAX_MS. Zero or less: stalled now.
   */
  private stalledInMs(): number {
    const limit = Math.min(Math.max(4 * (this.typicalMs ?? 0), STALL_MIN_MS), STALL_MAX_MS);
    return limit - this.oldestAge();
  }

  /** Sends in flight now (for the reason a message waits). */
  get busy(): number {
    return this.inFlight;
  }

  /** True when a send now would be over the limit. */
  get full(): boolean {
    return this.inFlight >= this.limit;
  }

  /** True when nothing is in flight or waiting: the gate holds no state worth keeping. */
  get idle(): boolean {
    return this.inFlight === 0 && this.waiters.length === 0;
  }

  /**
   * How long a message refused now should stay in the queue: its turn if the messages put back
   * so far come back one after another, each holding a slot for as long as sends here take now.
   */
  deferMs(): number {
    const now = this.now();
    const typical = Math.max(this.typicalMs ?? DEFAULT_TYPICAL_MS, this.oldestAge());
    this.queuedUntil = Math.max(this.queuedUntil, now) + typical / this.limit;
    return Math.round(Math.min(Math.max(this.queuedUntil - now, MIN_DEFER_MS), MAX_DEFER_MS));
  }

  private oldestAge(): number {
    return this.starts.length > 0 ? this.now() - Math.min(...this.starts) : 0;
  }

  private lease(): GateLease {
    const startedAt = this.now();
    this.starts.push(startedAt);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const now = this.now();
        const index = this.starts.indexOf(startedAt);
        if (index >= 0) this.starts.splice(index, 1);
        const took = now - startedAt;
        this.typicalMs = this.typicalMs === undefined ? took : this.typicalMs * 0.8 + took * 0.2;
        const next = this.waiters.shift();
        if (next) next.grant(this.lease());
        else this.inFlight--;
      },
    };
  }
}

/** Where a send goes, as far as breakers and slot limits are concerned: an integration, or a webhook receiver. */
export interface Destination {
  /** For the log: the integration id, or a webhook receiver's origin. */
  readonly name: string;
  readonly breaker: CircuitBreaker;
  readonly gate: DestinationGate;
}

/** A slot of a destination, held while one send runs there. */
export interface GateLease {
  release(): void;
}

/** A send in flight this long is stalled whatever sends here usually take… */
const STALL_MIN_MS = 1_000;
/** …and one this long always is: the destination is hanging, not slow. */
const STALL_MAX_MS = 10_000;
/** What a send is assumed to take before any has finished. */
const DEFAULT_TYPICAL_MS = 1_000;
/** A message put back waits at least this long: less would claim it again at once, for nothing. */
const MIN_DEFER_MS = 200;
/** …and at most this long: a queue of thousands must not park a message for hours. */
const MAX_DEFER_MS = 10 * 60_000;
