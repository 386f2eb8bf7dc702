import { describe, expect, it } from 'vitest';
import { parseDuration, parseDurationList } from '../../src/core/durations.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['0ms', 0],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['30d', 30 * 86_400_000],
    [' 5s ', 5000],
    ['5 s', 5000],
    ['0.0004s', 0],
    ['1.0006s', 1001],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', 's', '-5s', '5S', '5sec', '5 minutes', '1e3ms', '5s5', '.5s', 'Infinity', '5s,6s', '0x10s'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('parseDurationList', () => {
  it('reads a comma-separated schedule in order', () => {
    expect(parseDurationList('5s,30s,2m')).toEqual([5000, 30_000, 120_000]);
    expect(parseDurationList('50ms, 100ms')).toEqual([50, 100]);
    expect(parseDurationList('1h')).toEqual([3_600_000]);
  });

  it.each(['', '5s,', ',5s', '5s,,30s', '5s,soon', 'none'])('refuses %j as a whole', (text) => {
    expect(parseDurationList(text)).toBeUndefined();
  });
});
