import { describe, expect, it } from 'vitest';
import { emailCursor, emailSearchKey, prefixUpperBound, readEmailCursor } from '../../src/core/subscriber-search.js';

describe('prefixUpperBound', () => {
  it('increments the last code point', () => {
    expect(prefixUpperBound('ann')).toBe('ano');
    expect(prefixUpperBound('é')).toBe('ê');
    expect(prefixUpperBound('a😀')).toBe('a😁');
  });

  it('skips the surrogates and drops trailing U+10FFFF', () => {
    expect(prefixUpperBound('a\u{D7FF}')).toBe('a\u{E000}');
    expect(prefixUpperBound('ab\u{10FFFF}\u{10FFFF}')).toBe('ac');
    expect(prefixUpperBound('\u{10FFFF}')).toBeNull();
    expect(prefixUpperBound('')).toBeNull();
  });

  it('bounds exactly the strings that start with the prefix, in UTF-8 byte order', () => {
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    const prefix = 'an';
    const upper = prefixUpperBound(prefix)!;
    for (const text of ['an', 'ann', 'an\u{10FFFF}x', 'anz', 'an😀']) {
      expect(Buffer.compare(bytes(text), bytes(prefix))).toBeGreaterThanOrEqual(0);
      expect(Buffer.compare(bytes(text), bytes(upper))).toBeLessThan(0);
    }
    for (const text of ['ao', 'am', 'a', 'b']) {
      const inside = Buffer.compare(bytes(text), bytes(prefix)) >= 0 && Buffer.compare(bytes(text), bytes(upper)) < 0;
      expect(inside, text).toBe(false);
    }
  });
});

describe('email search keys and cursors', () => {
  it('lower-cases ASCII letters only', () => {
    expect(emailSearchKey('Ann.Lee@Example.COM')).toBe('ann.lee@example.com');
    expect(emailSearchKey('Émile@X')).toBe('Émile@x');
  });

  it('reads back the cursors it makes, and nothing else', () => {
    expect(readEmailCursor(emailCursor('ann@x', 'ann'))).toEqual({ key: 'ann@x', id: 'ann' });
    for (const junk of ['ann', 'W10', Buffer.from('["a", 1]').toString('base64url'), '%%%']) {
      expect(readEmailCursor(junk), junk).toBeUndefined();
    }
  });
});
