import type { CircuitSnapshot } from '../../core/store.js';
import { CircuitBreaker, type BreakerOptions } from '../../core/circuit-breaker.js';
import { DestinationGate } from '../destination-gate.js';

/** One webhook receiver, as this process sees it: its breaker and its share of the delivery slots. */
export interface WebhookDestination {
  /** The origin (scheme, host, port): what one receiver is. */
  name: string;
  breaker: CircuitBreaker;
  gate: DestinationGate;
}

export interface WebhookDestinationsOptions {
  breaker: BreakerOptions;
  concurrency: number;
  now(): number;
  /** Told of every breaker state change (for the log). */
  onCircuitChange?(origin: string, snapshot: CircuitSnapshot): void;
}

/**
 * Webhook receivers by origin. Each webhook goes to its subscriber's own receiver, so breakers and
 * slot limits are kept per receiver, not per integration: one receiver that hangs opens its own
 * breaker and holds at most its share of the slots, and says nothing about the others. State is
 * kept only while it matters (sends in flight, failures counted): a receiver that answers is
 * forgotten, so a million subscribers' URLs cost nothing.
 */
export function createWebhookDestinations(options: WebhookDestinationsOptions) {
  const destinations = new Map<string, WebhookDestination>();

  function forUrl(url: string): WebhookDestination | undefined {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      return undefined; // the send refuses it (not a URL): there is no receiver to protect
    }
    if (origin === 'null') return undefined;
    let destination = destinations.get(origin);
    if (!destination) {
      if (destinations.size >= MAX_TRACKED) forgetIdle();
      destination = {
        name: origin,
        breaker: new CircuitBreaker(options.breaker, (snapshot) => options.onCircuitChange?.(origin, snapshot)),
        gate: new DestinationGate(options.concurrency, options.now),
      };
      destinations.set(origin, destination);
    }
    return destination;
  }

  /** Drops the state of a receiver once it holds none: no send in flight, its breaker closed and clean. */
  function settle(destination: WebhookDestination): void {
    if (destination.gate.idle && isClean(destination.breaker.snapshot())) destinations.delete(destination.name);
  }

  /** Over the cap, receivers with nothing in flight go first, oldest first (Map order). */
  function forgetIdle(): void {
    for (const [origin, destination] of destinations) {
      if (destinations.size < MAX_TRACKED / 2) break;
      if (destination.gate.idle) destinations.delete(origin);
    }
  }

  return { forUrl, settle, size: () => destinations.size };
}

export type WebhookDestinations = ReturnType<typeof createWebhookDestinations>;

function isClean(snapshot: CircuitSnapshot): boolean {
  return snapshot.state === 'closed' && snapshot.consecutiveFailures === 0;
}

/** Receivers with state kept at most; past it, idle ones are forgotten (their breakers reset). */
const MAX_TRACKED = 10_000;
