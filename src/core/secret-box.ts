import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { HeraldError } from './errors.js';

/**
 * Seals secrets at rest (integration credentials, inbox secrets) with AES-256-GCM (authenticated: a tampered or swapped
 * value fails to open instead of decrypting to garbage). The key is derived from
 * HERALD_SECRET_KEY with HKDF, and each value is bound to where it belongs (environment and
 * integration id, as associated data), so a sealed value copied to another row does not open.
 * Format: `v1.<key id>.<iv>.<ciphertext>.<tag>`, base64url; the key id names the key that sealed
 * it, so a changed HERALD_SECRET_KEY reports as such.
 */
export interface SecretBox {
  /** A short fingerprint of the key, stored with each sealed value. */
  readonly keyId: string;
  seal(plaintext: string, boundTo: string): string;
  open(sealed: string, boundTo: string): string;
  /**
   * A key of its own for another use of the same secret (HKDF with `purpose` as the info), e.g.
   * signing unsubscribe links: no second secret to configure, and no key serves two purposes.
   */
  deriveKey(purpose: string): Buffer;
}

export const MIN_SECRET_KEY_LENGTH = 32;

/** Whether a stored value is sealed (rather than plain text stored before sealing). */
export function isSealed(value: string): boolean {
  return value.startsWith('v1.');
}

export function createSecretBox(secretKey: string): SecretBox {
  if (secretKey.length < MIN_SECRET_KEY_LENGTH) {
    throw new Error(`HERALD_SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters`);
  }
  const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', secretKey, 'herald', purpose, 32));
  const key = derive('integration-secrets/v1');
  const keyId = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  return {
    keyId,
    deriveKey(purpose) {
      if (purpose === 'integration-secrets/v1') throw new Error('that purpose is the sealing key');
      return derive(purpose);
    },
    seal(plaintext, boundTo) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(boundTo));
      const encrypted = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, encrypted, cipher.getAuthTag()].map((part) => part.toString('base64url'));
      return ['v1', keyId, ...parts].join('.');
    },
    open(sealed, boundTo) {
      const [version, sealedKeyId, iv, encrypted, tag] = sealed.split('.');
      if (version !== 'v1' || !iv || encrypted === undefined || !tag) {
        throw new HeraldError('SECRET_KEY_MISMATCH', 'a stored secret is not in a format this Herald reads');
      }
      if (sealedKeyId !== keyId) {
        throw new HeraldError(
          'SECRET_KEY_MISMATCH',
          `stored secrets were sealed with key ${sealedKeyId}, but this process's secret key is key ${keyId}`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(boundTo));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(encrypted, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new HeraldError('SECRET_KEY_MISMATCH', 'a stored secret failed authentication (altered or moved)');
      }
    },
  };
}
