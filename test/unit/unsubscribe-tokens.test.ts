import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/secret-box.js';
import { createUnsubscribeTokens, UNSUBSCRIBE_KEY_PURPOSE, unsubscribeUrl } from '../../src/core/unsubscribe.js';

const box = createSecretBox('a-secret-key-of-at-least-32-characters!');
const tokens = createUnsubscribeTokens(box.deriveKey(UNSUBSCRIBE_KEY_PURPOSE));
const claims = { environmentId: 'env_development', subscriberId: 'user-42', workflowKey: 'weekly-digest' };

describe('unsubscribe tokens', () => {
  it('are compact and URL-safe, and give back what they name', () => {
    const token = tokens.sign(claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(token.length).toBeLessThan(90);
    expect(tokens.verify(token)).toEqual(claims);
    // Any subscriber id a route accepts: 255 characters, none of them ASCII.
    const long = { ...claims, subscriberId: '😀'.repeat(127) + 'é' };
    expect(tokens.verify(tokens.sign(long))).toEqual(long);
  });

  it('refuse every altered character, a swapped signature, and another key', () => {
    const token = tokens.sign(claims);
    for (let i = 0; i < token.length; i++) {
      for (const replacement of ['A', 'z', '0', '-', '.']) {
        if (token[i] === replacement) continue;
        const altered = token.slice(0, i) + replacement + token.slice(i + 1);
        expect(tokens.verify(altered), altered).toBeUndefined();
      }
    }
    const [payload] = token.split('.');
    const other = tokens.sign({ ...claims, subscriberId: 'user-43' });
    expect(tokens.verify(`${payload}.${other.split('.')[1]}`)).toBeUndefined();
    const elsewhere = createUnsubscribeTokens(
      createSecretBox(randomBytes(32).toString('hex')).deriveKey(UNSUBSCRIBE_KEY_PURPOSE),
    );
    expect(elsewhere.verify(token)).toBeUndefined();
    for (const junk of ['', '.', 'abc', `${token}.x`, token.slice(0, -1), `${payload}`, 'x'.repeat(5000)]) {
      expect(tokens.verify(junk), junk).toBeUndefined();
    }
  });

  it('are signed with a key of their own, not the sealing key', () => {
    expect(() => box.deriveKey('integration-secrets/v1')).toThrow();
    expect(box.deriveKey(UNSUBSCRIBE_KEY_PURPOSE)).toHaveLength(32);
    expect(box.deriveKey(UNSUBSCRIBE_KEY_PURPOSE).equals(box.deriveKey('something-else/v1'))).toBe(false);
  });

  it('make links under the public URL, with or without its trailing slash or a path', () => {
    expect(unsubscribeUrl('https://herald.example.com', 'tok.sig')).toBe(
      'https://herald.example.com/v1/unsubscribe/tok.sig',
    );
    expect(unsubscribeUrl('https://example.com/herald/', 'tok.sig')).toBe(
      'https://example.com/herald/v1/unsubscribe/tok.sig',
    );
  });
});
