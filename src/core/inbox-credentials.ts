import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Inbox tokens live at most a day: a browser session asks its backend for a new one. */
export const MAX_INBOX_TOKEN_TTL_MS = 24 * 3_600_000;

const TOKEN_PREFIX = 'hit_';

/** A new environment inbox secret: 32 random bytes, `his_` + base64url. */
export function generateInboxSecret(): string {
  return 'his_' + randomBytes(32).toString('base64url');
}

/** hex(HMAC-SHA256(secret, subscriberId)): what the customer's backend hands its page. */
export function subscriberHash(secret: string, subscriberId: string): string {
  return createHmac('sha256', secret).update(subscriberId).digest('hex');
}

/**
 * Whether `id` could name a subscriber: 1 to 255 characters, none of them a control character
 * (the rule every route that creates subscribers applies). Credentials for any other id can never
 * reach an inbox, and PostgreSQL text cannot even hold U+0000, so they are refused before any query.
 */
export function isPossibleSubscriberId(id: string): boolean {
  return /^[^\u0000-\u001f\u007f]{1,255}$/u.test(id);
}

/** Compares in constant time (for equal lengths; a length is no secret). */
function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function isValidSubscriberHash(secret: string, subscriberId: string, hash: string): boolean {
  return same(subscriberHash(secret, subscriberId), hash.toLowerCase());
}

interface TokenClaims {
  /** environment id */
  e: string;
  /** subscriber id */
  s: string;
  /** expiry, epoch ms */
  x: number;
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`inbox-token.${payload}`).digest('base64url');
}

/**
 * A short-lived inbox token: `hit_<claims>.<signature>`, signed with the environment's inbox
 * secret (rotating the secret revokes every token). The environment id is readable, so a token
 * names the secret that checks it.
 */
export function createInboxToken(
  secret: string,
  claims: { environmentId: string; subscriberId: string; expiresAt: number },
): string {
  const payload = Buffer.from(
    JSON.stringify({ e: claims.environmentId, s: claims.subscriberId, x: claims.expiresAt } satisfies TokenClaims),
  ).toString('base64url');
  return `${TOKEN_PREFIX}${payload}.${sign(secret, payload)}`;
}

/** The environment a token claims, before its signature is checked; undefined when it is no token. */
export function inboxTokenEnvironment(token: string): string | undefined {
  return readClaims(token)?.claims.e;
}

function readClaims(token: string): { claims: TokenClaims; payload: string; signature: string } | undefined {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const [payload, signature, extra] = token.slice(TOKEN_PREFIX.length).split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<TokenClaims>;
    if (typeof claims.e !== 'string' || typeof claims.s !== 'string' || typeof claims.x !== 'number') return undefined;
    return { claims: claims as TokenClaims, payload, signature };
  } catch {
    return undefined;
  }
}

/** The subscriber a valid token stands for; 'expired' once past its time; undefined when not valid. */
export function verifyInboxToken(
  secret: string,
  token: string,
  now: number,
): { environmentId: string; subscriberId: string; expiresAt: number } | 'expired' | undefined {
  const read = readClaims(token);
  if (!read || !same(sign(secret, read.payload), read.signature)) return undefined;
  if (read.claims.x <= now) return 'expired';
  return { environmentId: read.claims.e, subscriberId: read.claims.s, expiresAt: read.claims.x };
}
