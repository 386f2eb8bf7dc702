import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { outcomeForFailure, outcomeForStatus, parseJson } from '../outbound/classify-response.js';
import type { ProviderContext, ProviderOutcome } from '../provider.js';

/** The fields of a Google service-account key file that the token exchange needs. */
export interface GoogleServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
  /** Where to exchange the signed assertion; Google's key files name https://oauth2.googleapis.com/token. */
  token_uri?: string;
}

/** An access token, or the outcome the send should end with when none could be had. */
export type AccessTokenResult = { token: string } | { outcome: ProviderOutcome };

export interface AccessTokenSource {
  get(signal: AbortSignal): Promise<AccessTokenResult>;
  /** Forgets `token` (the API said it is no longer valid) so the next send mints another. */
  drop(token: string): void;
}

const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** Google tokens live an hour; one minted at most this long before expiry is not reused. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** The assertion's lifetime: Google accepts at most one hour. */
const ASSERTION_LIFETIME_S = 3600;

/**
 * OAuth 2.0 for service accounts (the JWT bearer grant, RFC 7523): sign an RS256 assertion with
 * the account's key, exchange it at token_uri, and reuse the access token until shortly before it
 * expires. Concurrent sends share one exchange. Throws when the key is unusable, which refuses
 * the integration when it is saved.
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 */
export function createAccessTokenSource(
  account: GoogleServiceAccount,
  scope: string,
  context: ProviderContext,
  provider: string,
): AccessTokenSource {
  const tokenUri = account.token_uri ?? DEFAULT_TOKEN_URI;
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<AccessTokenResult> | undefined;
  const key = rsaPrivateKey(account.private_key);

  async function exchange(signal: AbortSignal): Promise<AccessTokenResult> {
    const now = Math.floor(context.now() / 1000);
    const assertion = await new SignJWT({ scope })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(account.private_key_id && { kid: account.private_key_id }) })
      .setIssuer(account.client_email)
      .setAudience(tokenUri)
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_S)
      .sign(key);
    let response;
    try {
      response = await context.http.request({
        url: tokenUri,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        signal,
      });
    } catch (error) {
      return { outcome: outcomeForFailure(`${provider}: token endpoint`, error) };
    }
    const body = parseJson(response) as
      { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (response.status >= 200 && response.status < 300 && typeof body?.access_token === 'string') {
      const lifetimeS = typeof body.expires_in === 'number' ? body.expires_in : 3600;
      cached = { token: body.access_token, refreshAt: context.now() + lifetimeS * 1000 - REFRESH_MARGIN_MS };
      return { token: body.access_token };
    }
    if (response.status >= 200 && response.status < 300) {
      return { outcome: { status: 'retry', reason: `${provider}: token endpoint answered without an access_token` } };
    }
    // invalid_grant and friends mean the credentials are wrong: the integration's fault, not the
    // message's, so the message waits for a fix like it would on a 401.
    const detail = typeof body?.error === 'string' ? [body.error, body.error_description].join(': ') : undefined;
    const outcome = outcomeForStatus(`${provider}: token endpoint`, response, context.now(), { detail });
    return { outcome: outcome.status === 'failed' ? { status: 'retry', reason: outcome.reason } : outcome };
  }

  return {
    async get(signal) {
      if (cached && context.now() < cached.refreshAt) return { token: cached.token };
      pending ??= exchange(signal).finally(() => {
        pending = undefined;
      });
      return pending;
    },
    drop(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

/** The account's key; key files pasted through an environment variable often carry "\n" escapes. */
function rsaPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.replace(/\\n/g, '\n'));
  } catch (error) {
    throw new Error(`serviceAccount.private_key is not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('serviceAccount.private_key is not an RSA key');
  return key;
}
