import type { AttemptPlan } from '../core/attempt-plan.js';
import { outcomeDetail } from '../core/attempt-plan.js';
import type { Clock } from '../core/clock.js';
import type { CompletedAttempt } from '../core/store.js';
import type { Destination, DestinationGate, GateLease } from './destination-gate.js';
import type { LiveIntegration } from './integration-directory.js';
import type { ProviderOutcome } from './provider.js';

export interface FailoverOptions {
  /**
   * The destination a send through this integration goes to (delivery-policy.ts, guardOf): the
   * integration itself, a receiver's origin, or undefined for a send that leaves nothing outside
   * Herald to protect (the dev mailbox) or a URL that names no receiver (refused anyway).
   */
  destinationOf(integration: LiveIntegration): Destination | undefined;
  /** Slots already held by this message (push: several devices through one integration hold one). */
  held?: SharedLeases;
  /** Called after each send, when its slot is freed and its breaker told (receivers are forgotten when healthy). */
  settled?(destination: Destination): void;
}

export interface FailoverResult {
  outcome: ProviderOutcome;
  attempts: CompletedAttempt[];
  via?: LiveIntegration;
}

/**
 * Walks the candidates in the order given, asking the plan (core/attempt-plan.ts) at each step
 * whether to try or pass over an integration, and does what only the channel layer can: takes a
 * slot of the destination, calls `send`, times it, and collects the attempts.
 */
export async function failover(
  candidates: readonly LiveIntegration[],
  plan: AttemptPlan,
  send: (integration: LiveIntegration) => Promise<ProviderOutcome>,
  signal: AbortSignal,
  clock: Clock,
  options: FailoverOptions,
): Promise<FailoverResult> {
  const attempts: CompletedAttempt[] = [];
  for (const integration of candidates) {
    if (!plan.more(signal.aborted)) break;
    const destination = options.destinationOf(integration);
    if (!plan.admits(integration, destination, clock.now())) continue;
    let lease: GateLease | undefined;
    if (destination) {
      const { gate } = destination;
      lease = options.held
        ? options.held.take(gate)
        : plan.whenBusy === 'wait'
          ? await gate.acquire(signal)
          : gate.tryAcquire();
      if (!lease) {
        if (plan.busy(destination, gate.busy)) {
          return { outcome: plan.waitingFor(destination.name, gate.busy, gate.limit, gate.deferMs()), attempts };
        }
        continue;
      }
    }
    if (!plan.withinRateLimit(integration, destination, clock.now())) {
      lease?.release();
      continue;
    }
    const started = clock.now();
    let outcome: ProviderOutcome;
    try {
      outcome = await send(integration);
    } finally {
      lease?.release();
    }
    const at = clock.now();
    attempts.push({
      at: started,
      outcome: outcome.status,
      detail: outcomeDetail(outcome),
      durationMs: at - started,
      // Built-in providers (the dev mailbox) are no integration of the environment's.
      integrationId: integration.builtIn ? null : integration.id,
      provider: integration.provider,
    });
    const final = plan.settle(integration, destination, outcome, at, signal.aborted);
    if (destination) options.settled?.(destination);
    if (final) return { outcome, attempts, via: integration };
  }
  return { outcome: plan.exhausted(), attempts };
}

/**
 * Slots one message holds, by destination: a push to five devices through one integration holds
 * one slot of it, not five. Each take of a held gate shares its lease; the last release frees it.
 */
export class SharedLeases {
  private readonly held = new Map<DestinationGate, { lease: GateLease; count: number }>();

  take(gate: DestinationGate): GateLease | undefined {
    let entry = this.held.get(gate);
    if (!entry) {
      const lease = gate.tryAcquire();
      if (!lease) return undefined;
      entry = { lease, count: 0 };
      this.held.set(gate, entry);
    }
    entry.count++;
    const shared = entry;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (--shared.count === 0) {
          this.held.delete(gate);
          shared.lease.release();
        }
      },
    };
  }
}
