import { MAX_RETRY_AFTER_MS } from '../../core/retry-policy.js';
import type { ProviderOutcome } from '../provider.js';
import { HttpFailure, type HttpResponse } from './http-client.js';

/**
 * `Retry-After` as milliseconds from now: delta-seconds or an HTTP date, clamped to [0, 24 h]
 * (the retry policy's own bound, so an integration's pause and the message's retry agree);
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.round(Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS));
}

/** The first words of a response body, for the delivery log: tags and runs of space removed. */
export function bodySnippet(response: HttpResponse, limit = 200): string {
  const text = response.text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return cut || (response.bodyError ? `(body unreadable: ${response.bodyError})` : '(empty body)');
}

/** Parses a JSON body; undefined when it is not JSON (an HTML page, a truncated document). */
export function parseJson(response: HttpResponse): unknown {
  try {
    return JSON.parse(response.text) as unknown;
  } catch {
    return undefined;
  }
}

export interface StatusRules {
  /** Statuses that mean the address is gone for good (push tokens): failed with `gone`. */
  goneStatuses?: readonly number[];
  /** The provider's own explanation, taken from its error body, to put in the log. */
  detail?: string;
}

/**
 * The outcome of a non-2xx answer, by status: 3xx (never followed), 408, 425, 429, 5xx and
 * 401/403 (credentials: the integration's fault, not the message's) are transient; other 4xx mean
 * the provider rejected this message. `provider` names who answered, for the log.
 */
export function outcomeForStatus(
  provider: string,
  response: HttpResponse,
  now: number,
  rules: StatusRules = {},
): ProviderOutcome {
  const status = response.status;
  const explained = `${provider}: HTTP ${status}: ${rules.detail ?? bodySnippet(response)}`.slice(0, 500);
  if (rules.goneStatuses?.includes(status)) return { status: 'failed', reason: explained, gone: true };
  if (status >= 300 && status < 400) {
    return { status: 'retry', reason: `${provider}: HTTP ${status}: redirect not followed` };
  }
  if (status === 429) {
    // Throttled, not down: the Retry-After pause keeps the integration aside, not its breaker.
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now);
    return { status: 'retry', reason: explained, retryAfterMs, providerAnswered: true };
  }
  if (status === 408 || status === 425 || status >= 500 || status === 401 || status === 403) {
    return { status: 'retry', reason: explained, retryAfterMs: parseRetryAfter(response.headers['retry-after'], now) };
  }
  if (status >= 400) return { status: 'failed', reason: explained };
  return { status: 'retry', reason: `${provider}: unexpected HTTP ${status}` };
}

/** The outcome of a request that got no answer at all. */
export function outcomeForFailure(provider: string, error: unknown): ProviderOutcome {
  const failure = error instanceof HttpFailure ? error : new HttpFailure(String(error), true);
  const reason = `${provider}: ${failure.message}`.slice(0, 500);
  return failure.transient ? { status: 'retry', reason } : { status: 'failed', reason };
}

/** The outcome of a 2xx answer whose body should have named the provider's message id. */
export function sentOutcome(
  provider: string,
  response: HttpResponse,
  providerMessageId: string | undefined,
): ProviderOutcome {
  if (providerMessageId) return { status: 'sent', providerMessageId, detail: `${provider}: HTTP ${response.status}` };
  const why = response.bodyError
    ? `body unreadable: ${response.bodyError}`
    : response.truncated
      ? 'body over 64 KiB, not read'
      : 'no message id in the answer';
  return { status: 'sent', detail: `${provider}: HTTP ${response.status} (accepted; ${why})` };
}
