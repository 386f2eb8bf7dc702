import { bodySnippet, outcomeForFailure, parseRetryAfter } from '../outbound/classify-response.js';
import type { HttpClient } from '../outbound/http-client.js';
import type { ProviderOutcome } from '../provider.js';
import { signWebhook, type WebhookSecret } from './sign-webhook.js';

export interface SendWebhookDeps {
  http: HttpClient;
  clock: { now(): number };
}

/**
 * POSTs a signed webhook. 2xx is delivered; 410 Gone means the receiver wants no more (failed for
 * good); anything else — other statuses, redirects (never followed), resets, timeouts — is
 * retried, as Standard Webhooks senders do. `signal` is the call's deadline (the dispatcher's). Signed with every live secret in `secrets`.
 */
export async function sendWebhook(
  deps: SendWebhookDeps,
  secrets: readonly WebhookSecret[],
  messageId: string,
  url: string,
  body: string,
  signal: AbortSignal,
): Promise<ProviderOutcome> {
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Herald-Webhooks/1',
    ...signWebhook(messageId, body, secrets, deps.clock.now()),
  };
  try {
    const response = await deps.http.request({ url, method: 'POST', headers, body, signal });
    const status = response.status;
    if (status >= 200 && status < 300) return { status: 'sent', detail: `webhook: HTTP ${status}` };
    if (status === 410) return { status: 'failed', reason: `webhook: HTTP 410: the receiver is gone` };
    const what = status >= 300 && status < 400 ? 'redirect not followed' : bodySnippet(response);
    return {
      status: 'retry',
      reason: `webhook: HTTP ${status}: ${what}`.slice(0, 500),
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], deps.clock.now()),
    };
  } catch (error) {
    return outcomeForFailure('webhook', error);
  }
}
