import { describe, expect, it } from 'vitest';
import { firstIdAt, idPattern, newId } from '../../src/core/ids.js';

const CROCKFORD_ID = /^msg_[0-9a-hjkmnp-tv-z]{26}$/;

describe('idPattern', () => {
  it('matches every id newId makes with its prefix, and nothing of another shape', () => {
    const pattern = new RegExp(idPattern('msg'));
    for (const time of [0, 1_700_000_000_000, 2 ** 48 - 1]) expect(newId('msg', time)).toMatch(pattern);
    for (const other of [
      newId('trg'),
      newId('msg').toUpperCase(),
      `${newId('msg')}0`,
      newId('msg').slice(0, -1),
      'msg_',
    ]) {
      expect(other).not.toMatch(pattern);
    }
  });
});

describe('newId', () => {
  it('is the prefix, an underscore and 26 Crockford base32 characters', () => {
    expect(newId('msg')).toMatch(CROCKFORD_ID);
    expect(newId('trg', 0)).toMatch(/^trg_0000000000[0-9a-hjkmnp-tv-z]{16}$/);
  });

  it('sorts by creation time, whatever the random part', () => {
    const times = [0, 1, 31, 32, 1_000, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47, 2 ** 48 - 1];
    const ids = times.map((time) => newId('msg', time));
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
    // Many ids per millisecond still sort before every id of the next millisecond.
    const early = Array.from({ length: 1000 }, () => newId('msg', 1_700_000_000_000));
    const late = Array.from({ length: 1000 }, () => newId('msg', 1_700_000_000_001));
    expect([...early].sort().at(-1)! < [...late].sort()[0]!).toBe(true);
  });

  it('encodes the time in the first ten characters', () => {
    expect(newId('msg', 1_700_000_000_000).slice(4, 14)).toBe(newId('msg', 1_700_000_000_000).slice(4, 14));
    expect(newId('msg', 32).slice(4, 14)).toBe('0000000010');
  });

  it('is unique over 100,000 ids drawn in the same millisecond', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) ids.add(newId('msg', 1_700_000_000_000));
    expect(ids.size).toBe(100_000);
    for (const id of [...ids].slice(0, 1000)) expect(id).toMatch(CROCKFORD_ID);
  });
});

describe('firstIdAt', () => {
  it('sorts after every id made earlier and before every id made at that time or later', () => {
    const t = 1_700_000_000_000;
    const bound = firstIdAt('msg', t);
    expect(bound).toBe(newId('msg', t).slice(0, 14));
    for (let i = 0; i < 1000; i++) {
      expect(newId('msg', t - 1) < bound).toBe(true);
      expect(newId('msg', t) > bound).toBe(true);
    }
    expect(newId('msg', 0) < firstIdAt('msg', 1)).toBe(true);
  });
});
