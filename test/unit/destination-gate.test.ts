import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DestinationGate } from '../../src/channels/destination-gate.js';

// The gate's clock and its timers are both faked, so "stalled" is decided by the rules, not by
// how busy the machine is.
describe('DestinationGate', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  const gate = (limit: number) => new DestinationGate(limit, () => Date.now());
  const signal = () => new AbortController().signal;

  it('lets a send over the limit wait in its slot while the destination flows, and hands it the next free slot', async () => {
    const g = gate(2);
    const first = g.tryAcquire()!;
    g.tryAcquire();
    let granted = false;
    const waiting = g.acquire(signal()).then((lease) => {
      granted = lease !== undefined;
      return lease;
    });
    await vi.advanceTimersByTimeAsync(200); // sends here are quick: nothing has stalled
    expect(granted).toBe(false);
    first.release();
    expect(await waiting).toBeDefined();
    expect(g.busy).toBe(2);
  });

  it('puts the waiting sends back once the oldest send in flight stalls, and refuses new ones at once', async () => {
    const g = gate(1);
    g.tryAcquire(); // this send hangs
    const waiting = g.acquire(signal());
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void waiting.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2); // past 1 s: stalled (no send has finished, so the floor applies)
    expect(await waiting).toBeUndefined();
    expect(await g.acquire(signal())).toBeUndefined(); // still stalled: back to the queue now
    expect(g.deferMs()).toBeGreaterThanOrEqual(200);
  });

  it('judges a stall against what sends here usually take', async () => {
    const g = gate(1);
    for (let i = 0; i < 20; i++) {
      const lease = g.tryAcquire()!;
      vi.advanceTimersByTime(2_000); // a slow but healthy destination: 2 s a send
      lease.release();
    }
    g.tryAcquire();
    const waiting = g.acquire(signal());
    let settled = false;
    void waiting.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(5_000); // 5 s is normal here (the limit is about 8 s)
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(await waiting).toBeUndefined();
  });

  it('gives up waiting when the send is aborted', async () => {
    const g = gate(1);
    g.tryAcquire();
    const controller = new AbortController();
    const waiting = g.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    expect(g.idle).toBe(false); // the send in flight still holds its slot
  });
});
