import type { RateLimit } from './store.js';

/**
 * A token bucket per integration and process: up to `limit` sends per `intervalMs`, refilled
 * continuously. `take` answers at once (no queueing inside a worker slot): when the bucket is
 * empty the dispatcher moves on to the next integration, or retries the message when the bucket
 * will have a token again.
 */
export class RateLimiter {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.limit;
    this.refilledAt = now;
  }

  /** Takes a token; returns 0 when taken, else how many ms until one is available. */
  take(now: number): number {
    const perMs = this.limit.limit / this.limit.intervalMs;
    this.tokens = Math.min(this.limit.limit, this.tokens + (now - this.refilledAt) * perMs);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / perMs);
  }
}
