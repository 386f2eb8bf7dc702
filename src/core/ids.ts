import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
let pool = Buffer.alloc(0);
let poolOffset = 0;

function random10(): Buffer {
  // Draw randomness in blocks: one syscall per 409 ids instead of one per id.
  if (poolOffset + 10 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return slice;
}

/**
 * A time-ordered, URL-safe id such as `msg_01jd9x…`: 48 bits of milliseconds then 80 random bits,
 * in Crockford base32. Sorting ids sorts by creation time, which cursor pagination relies on.
 */
export function newId(prefix: string, now = Date.now()): string {
  let out = firstIdAt(prefix, now);
  const bytes = random10();
  // 80 bits → 16 base32 characters, 5 bits at a time.
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/**
 * The shape of every id `newId(prefix)` makes, as a regular expression source: how a list cursor
 * (the last item's id) is told from a malformed one.
 */
export function idPattern(prefix: string): string {
  return `^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`;
}

/**
 * The prefix and time part of an id without its random part: it sorts after every id `newId`
 * makes before `time` and before every id made at `time` or later. `id < firstIdAt('msg', t)`
 * selects the messages created before `t` by walking the primary key, with no index on created_at.
 */
export function firstIdAt(prefix: string, time: number): string {
  const timeChars: string[] = [];
  for (let i = 0; i < 10; i++) {
    timeChars.push(CROCKFORD[time % 32]!);
    time = Math.floor(time / 32);
  }
  return prefix + '_' + timeChars.reverse().join('');
}
