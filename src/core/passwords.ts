import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Dashboard passwords, hashed with scrypt (node:crypto). The stored form carries its parameters,
 * `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url), so they can be raised later without
 * invalidating older hashes: a hash is always checked with the parameters it was made with.
 */

/**
 * N = 2^15, r = 8, p = 1: 32 MiB and some 50–100 ms of one core per hash, the setting scrypt's
 * paper gives for interactive logins. Stronger settings cost memory per concurrent login (2^17 is
 * 128 MiB each); raise them here, and new hashes use them while old ones keep working.
 */
export const SCRYPT_PARAMS = { log2N: 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** Shorter passwords are refused (the API, the setup page and `herald users`). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer ones are refused too: scrypt reads all of it, and nobody types more. */
export const MAX_PASSWORD_LENGTH = 1024;

interface Params {
  log2N: number;
  r: number;
  p: number;
}

/** scrypt needs a little over 128 · N · r bytes; Node's default `maxmem` (32 MiB) is just short of it at N = 2^15. */
const maxmemFor = (params: Params) => 128 * 2 ** params.log2N * params.r * 2;

function derive(password: string, salt: Buffer, params: Params, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** params.log2N, r: params.r, p: params.p, maxmem: maxmemFor(params) };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Why a password cannot be used, or undefined when it can. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

/** A new hash of the password, with a fresh 16-byte salt and the current parameters. */
export async function hashPassword(password: string, params: Params = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return ['scrypt', params.log2N, params.r, params.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Whether `password` matches `stored` (compared in constant time); false for a hash it cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 22 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16 || password.length > MAX_PASSWORD_LENGTH) return false;
  const actual = await derive(password, salt, { log2N, r, p }, expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * A hash checked when no user has the email given at login, so that a wrong email costs the same
 * time as a wrong password and the answer does not tell which accounts exist.
 */
let dummy: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

/** A password for a person to copy once: 20 characters from 64, about 120 bits. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
