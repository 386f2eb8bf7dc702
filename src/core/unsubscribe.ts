import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One-click unsubscribe links (RFC 8058). A token names an environment, a subscriber and a workflow
 * and is signed with HMAC-SHA256 under a key derived from Herald's secret key (SecretBox.deriveKey
 * with UNSUBSCRIBE_KEY_PURPOSE): only this Herald makes tokens it accepts, and a token altered in
 * any character is refused. Tokens do not expire: the link in a year-old email must still work.
 *
 * Token: `<payload>.<signature>`, both base64url; the payload is the three names joined by NUL
 * (none can hold one: ids and keys refuse control characters), the signature the first 16 bytes of
 * the MAC over the payload as written (128 bits).
 */

export const UNSUBSCRIBE_KEY_PURPOSE = 'unsubscribe-links/v1';

const SIGNATURE_BYTES = 16;
const SIGNATURE = /^[A-Za-z0-9_-]{22}$/;
/** Up to a 255-character subscriber id of 4-byte characters, an environment id and a workflow key. */
const PAYLOAD = /^[A-Za-z0-9_-]{4,2000}$/;

export interface UnsubscribeClaims {
  environmentId: string;
  subscriberId: string;
  workflowKey: string;
}

export interface UnsubscribeTokens {
  sign(claims: UnsubscribeClaims): string;
  /** The claims of a token this Herald signed; undefined for anything else. */
  verify(token: string): UnsubscribeClaims | undefined;
}

export function createUnsubscribeTokens(key: Buffer): UnsubscribeTokens {
  const mac = (payload: string) =>
    createHmac('sha256', key).update(payload).digest().subarray(0, SIGNATURE_BYTES).toString('base64url');
  return {
    sign(claims) {
      const names = `${claims.environmentId}\u0000${claims.subscriberId}\u0000${claims.workflowKey}`;
      const payload = Buffer.from(names).toString('base64url');
      return `${payload}.${mac(payload)}`;
    },
    verify(token) {
      const [payload, signature, extra] = token.split('.');
      if (extra !== undefined || !payload || !signature || !PAYLOAD.test(payload) || !SIGNATURE.test(signature)) {
        return undefined;
      }
      if (!timingSafeEqual(Buffer.from(mac(payload)), Buffer.from(signature))) return undefined;
      const names = Buffer.from(payload, 'base64url').toString('utf8').split('\u0000');
      if (names.length !== 3 || names.some((name) => name === '')) return undefined;
      const [environmentId, subscriberId, workflowKey] = names as [string, string, string];
      return { environmentId, subscriberId, workflowKey };
    },
  };
}

/** The link a token is answered at: `<public URL>/v1/unsubscribe/<token>`. */
export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/unsubscribe/${token}`;
}
