import { describe, expect, it } from 'vitest';
import {
  generatePassword,
  hashPassword,
  passwordProblem,
  SCRYPT_PARAMS,
  verifyPassword,
} from '../../src/core/passwords.js';
import { refusal } from '../../src/core/roles.js';
import { LOGIN_WINDOW_MS, loginRetryAfterSeconds } from '../../src/core/sessions.js';

describe('passwords', () => {
  it('are hashed with scrypt, a fresh salt and the parameters in the hash', async () => {
    const [a, b] = await Promise.all([hashPassword('correct horse battery'), hashPassword('correct horse battery')]);
    expect(a).toMatch(/^scrypt\$15\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b); // salted
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(SCRYPT_PARAMS).toEqual({ log2N: 15, r: 8, p: 1 });
  });

  it('are checked with the parameters they were hashed with, so the parameters can change', async () => {
    const older = await hashPassword('an older password', { log2N: 14, r: 8, p: 1 });
    expect(older.startsWith('scrypt$14$8$1$')).toBe(true);
    expect(await verifyPassword('an older password', older)).toBe(true);
  });

  it('never match a hash that cannot be read, or asks for absurd parameters', async () => {
    for (const stored of [
      '',
      'plain',
      'scrypt$15$8$1$c2FsdA',
      'bcrypt$x$y$z$a$b',
      'scrypt$40$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
    ]) {
      expect(await verifyPassword('anything at all', stored)).toBe(false);
    }
  });

  it('have at least 12 characters; generated ones are long and random', () => {
    expect(passwordProblem('elevenchars')).toMatch(/at least 12/);
    expect(passwordProblem('twelve chars')).toBeUndefined();
    const generated = new Set(Array.from({ length: 50 }, generatePassword));
    expect(generated.size).toBe(50);
    for (const password of generated) expect(passwordProblem(password)).toBeUndefined();
  });
});

describe('login throttling', () => {
  const none = { count: 0, oldestAt: null };
  it('waits until the oldest failure of a full window leaves it', () => {
    const now = 1_000_000_000;
    expect(loginRetryAfterSeconds({ email: { count: 9, oldestAt: now - 1000 }, address: none }, now)).toBe(0);
    expect(loginRetryAfterSeconds({ email: { count: 10, oldestAt: now - 60_000 }, address: none }, now)).toBe(
      (LOGIN_WINDOW_MS - 60_000) / 1000,
    );
    expect(
      loginRetryAfterSeconds({ email: none, address: { count: 50, oldestAt: now - LOGIN_WINDOW_MS + 10 } }, now),
    ).toBe(1);
  });
});

describe('roles', () => {
  const user = (role: 'owner' | 'admin' | 'viewer') => ({ type: 'user', id: 'usr_1', email: 'a@b.c', role }) as const;
  it('viewers read, admins do all but users, owners everything, API keys all but users', () => {
    expect(refusal(user('viewer'), 'GET', '/v1/topics')).toBeUndefined();
    expect(refusal(user('viewer'), 'PUT', '/v1/topics/:key')).toMatch(/Viewers may only read/);
    expect(refusal(user('viewer'), 'GET', '/v1/users')).toMatch(/Only owners/);
    expect(refusal(user('admin'), 'DELETE', '/v1/workflows/:key')).toBeUndefined();
    expect(refusal(user('admin'), 'PATCH', '/v1/users/:id')).toMatch(/Only owners/);
    expect(refusal(user('owner'), 'DELETE', '/v1/users/:id')).toBeUndefined();
    expect(refusal({ type: 'api_key', id: 'key_1' }, 'POST', '/v1/api-keys')).toBeUndefined();
    expect(refusal({ type: 'api_key', id: 'key_1' }, 'GET', '/v1/users')).toMatch(/API keys belong to one environment/);
  });
});
