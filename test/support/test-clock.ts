import type { Clock } from '../../src/core/clock.js';

/**
 * A clock for a Herald under test that the test moves: forward by an amount (`advance`) or to an
 * instant (`set`). It keeps running in between, as time does.
 */
export function testClock(): Clock & { advance(ms: number): void; set(at: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
    set(at) {
      offset = at - Date.now();
    },
  };
}
