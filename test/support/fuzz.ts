import fc from 'fast-check';
import { expect } from 'vitest';
import { expectProblem } from './expect-problem.js';
import type { ApiResponse } from './herald.js';

/** The property every answer must hold: 2xx, or a 4xx problem+json; never a 5xx. */
export function expectWellFormed(res: ApiResponse): void {
  if (res.status >= 500) throw new Error(`answered ${res.status}: ${res.text.slice(0, 500)}`);
  expect(res.status).toBeGreaterThanOrEqual(200);
  if (res.status >= 400) expectProblem(res);
}

const percentEncode = (bytes: Uint8Array) => [...bytes].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');

/** Path segments: any text fully percent-encoded, arbitrary bytes, and raw URL characters with stray `%`. */
export const segment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }).map((s) => percentEncode(new TextEncoder().encode(s))),
  fc.uint8Array({ maxLength: 60 }).map(percentEncode),
  fc.stringMatching(/^[A-Za-z0-9._~%+!$&'()*,;=:@-]{0,300}$/),
);

/** Header values fetch can send: visible Latin-1, no control characters. */
export const headerChar = fc
  .integer({ min: 0x21, max: 0xff })
  .filter((c) => c !== 0x7f && (c < 0x80 || c > 0x9f))
  .map((c) => String.fromCharCode(c));
