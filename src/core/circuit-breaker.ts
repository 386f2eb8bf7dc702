import type { CircuitSnapshot } from './store.js';

export interface BreakerOptions {
  /** Transient failures in a row that open the circuit. */
  threshold: number;
  /** How long an open circuit skips its integration before letting one trial through. */
  cooldownMs: number;
}

/**
 * One integration's circuit breaker. Closed: every send goes through. After `threshold`
 * transient failures in a row it opens: sends skip the integration (failover moves on at once)
 * until the cool-down passes; then it is half-open and lets one trial send through. A success
 * closes it; a failure opens it for another cool-down. Permanent failures (a rejected address)
 * say the provider is up, so they count as successes here.
 */
export class CircuitBreaker {
  private state: CircuitSnapshot['state'] = 'closed';
  private failures = 0;
  private openedAt: number | null = null;
  private lastFailure: string | null = null;
  private trialInFlight = false;
  private updatedAt = 0;

  constructor(
    private readonly options: BreakerOptions,
    /** Called on every change of state (closed → open → half-open → …). */
    private readonly onChange: (snapshot: CircuitSnapshot) => void = () => {},
  ) {}

  /** May a send go through now? In half-open, only one at a time (the trial). */
  tryAcquire(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now - this.openedAt! < this.options.cooldownMs) return false;
      this.transition('half-open', now);
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(now: number): void {
    this.trialInFlight = false;
    this.failures = 0;
    if (this.state !== 'closed') {
      this.openedAt = null;
      this.transition('closed', now);
    }
  }

  failure(now: number, reason: string): void {
    this.trialInFlight = false;
    this.failures++;
    this.lastFailure = reason.slice(0, 300);
    if (this.state === 'half-open' || (this.state === 'closed' && this.failures >= this.options.threshold)) {
      this.openedAt = now;
      this.transition('open', now);
    }
  }

  /** A send that was let through ended without telling either way (aborted): free the trial slot. */
  release(): void {
    this.trialInFlight = false;
  }

  snapshot(): CircuitSnapshot {
    return {
      state: this.state,
      consecutiveFailures: this.failures,
      openedAt: this.openedAt,
      lastFailure: this.lastFailure,
      updatedAt: this.updatedAt,
    };
  }

  private transition(state: CircuitSnapshot['state'], now: number): void {
    this.state = state;
    this.updatedAt = now;
    this.onChange(this.snapshot());
  }
}
