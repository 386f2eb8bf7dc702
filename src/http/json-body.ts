import { isUtf8 } from 'node:buffer';
import { HeraldError } from '../core/errors.js';

/** Objects nested deeper than this are refused rather than walked. */
const MAX_DEPTH = 64;

function check(value: unknown, depth: number, path: string): void {
  if (typeof value === 'string') {
    // Lone surrogates cannot be stored as UTF-8 and NUL cannot be stored in PostgreSQL text.
    if (!value.isWellFormed() || value.includes('\u0000')) {
      throw new HeraldError('INVALID_JSON', `${path || '/'} holds a NUL character or an unpaired surrogate`);
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_DEPTH) throw new HeraldError('INVALID_JSON', `The body is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) check(value[i], depth + 1, `${path}/${i}`);
    return;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw new HeraldError('INVALID_JSON', `${path}/${key}: this key name is not allowed`);
    }
    check(key, depth, `${path}/${key}`);
    check((value as Record<string, unknown>)[key], depth + 1, `${path}/${key}`);
  }
}

/**
 * Parses a JSON request body. Beyond JSON.parse, it refuses what would break later: bytes that
 * are not UTF-8 (rather than storing U+FFFD in their place), prototype keys, unpaired
 * surrogates, NUL characters and extreme nesting, each as a 400. A leading byte-order mark is
 * ignored, as RFC 8259 allows.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (!isUtf8(body)) throw new HeraldError('INVALID_JSON', 'The body is not valid UTF-8');
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : 'unparseable';
    throw new HeraldError('INVALID_JSON', `The body is not valid JSON: ${message.slice(0, 200)}`);
  }
  check(value, 0, '');
  return value;
}
