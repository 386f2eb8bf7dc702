import { createHmac, randomBytes } from 'node:crypto';

/** A signing secret of the webhook integration; `expiresAt` is set on the old one when rotated. */
export interface WebhookSecret {
  secret: string;
  expiresAt: number | null;
}

/** How long a rotated-out secret keeps signing, so receivers can switch without a gap. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** A new secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function isWebhookSecret(value: string): boolean {
  const bytes = Buffer.from(value.replace(/^whsec_/, ''), 'base64');
  return /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(value) && bytes.length >= 24 && bytes.length <= 64;
}

/**
 * Standard Webhooks signature headers (https://www.standardwebhooks.com): HMAC-SHA256 with the
 * secret's bytes over `{id}.{timestamp}.{body}`, `v1,<base64>`, one per live secret, space
 * separated. `webhook-id` is Herald's message id, the same on every retry, so receivers can
 * de-duplicate.
 */
export function signWebhook(
  messageId: string,
  body: string,
  secrets: readonly WebhookSecret[],
  now: number,
): Record<string, string> {
  const timestamp = Math.floor(now / 1000).toString();
  const signed = `${messageId}.${timestamp}.${body}`;
  const signatures = secrets
    .filter((secret) => secret.expiresAt === null || secret.expiresAt > now)
    .map((secret) => {
      const key = Buffer.from(secret.secret.replace(/^whsec_/, ''), 'base64');
      return `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
    });
  return {
    'webhook-id': messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}
