import { outcomeForStatus, parseRetryAfter } from '../outbound/classify-response.js';
import type { HttpResponse } from '../outbound/http-client.js';
import type { ProviderOutcome } from '../provider.js';

/** What Slack's Web API answers, on success or not (HTTP 200 either way). */
export interface SlackApiAnswer {
  ok?: boolean;
  ts?: string;
  channel?: string;
  error?: string;
  response_metadata?: { messages?: string[] };
}

/**
 * Web API `error` strings after which the same request can succeed later: the token (the
 * integration's fault, not the message's, like a 401), the rate limit, or Slack itself. Every
 * other error names something wrong with this message or its channel, and retrying repeats it.
 * https://docs.slack.dev/reference/methods/chat.postMessage#errors
 */
const TRANSIENT_API_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'no_permission',
  'not_allowed_token_type',
  'team_access_not_granted',
  'org_login_required',
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * Incoming-webhook answers (plain text) that no retry can fix, whatever their status: Slack sends
 * action_prohibited and invalid_token with 403, which alone would read as a credential hiccup.
 * https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
 */
const PERMANENT_WEBHOOK_ERRORS = new Set([
  'invalid_payload',
  'invalid_blocks',
  'invalid_blocks_format',
  'no_text',
  'missing_text_or_fallback_or_attachments',
  'too_many_attachments',
  'user_not_found',
  'action_prohibited',
  'posting_to_general_channel_denied',
  'channel_not_found',
  'channel_is_archived',
  'no_service',
  'no_team',
  'no_active_hooks',
  'invalid_token',
  'team_disabled',
]);

/** What the terse codes mean for whoever reads the delivery log. */
const EXPLANATIONS: Record<string, string> = {
  channel_not_found: 'no such channel, or the app cannot see it',
  not_in_channel: 'the app is not a member of the channel; invite it',
  is_archived: 'the channel is archived',
  channel_is_archived: 'the channel is archived',
  no_service: 'the webhook is disabled, removed or mistyped',
  invalid_token: 'the webhook was revoked',
  action_prohibited: 'a workspace restriction forbids this webhook to post here',
  invalid_auth: 'the bot token is not valid',
  not_authed: 'no bot token was sent',
  missing_scope: 'the bot token lacks the chat:write scope',
  msg_too_long: 'the text is too long',
};

function explain(code: string, messages: readonly string[] = []): string {
  const meaning = EXPLANATIONS[code];
  const details = messages.length > 0 ? `: ${messages.slice(0, 3).join('; ')}` : '';
  return `${code}${meaning ? ` (${meaning})` : ''}${details}`;
}

/** The outcome of a chat.postMessage answer with `ok: false`, by its `error` string. */
export function apiErrorOutcome(response: HttpResponse, answer: SlackApiAnswer, now: number): ProviderOutcome {
  const code = answer.error ?? 'unknown_error';
  const reason = `slack: chat.postMessage: ${explain(code, answer.response_metadata?.messages)}`.slice(0, 500);
  if (TRANSIENT_API_ERRORS.has(code)) {
    return { status: 'retry', reason, retryAfterMs: parseRetryAfter(response.headers['retry-after'], now) };
  }
  return { status: 'failed', reason };
}

/** The outcome of a non-2xx chat.postMessage answer: by status, with Slack's `error` as detail. */
export function apiStatusOutcome(
  response: HttpResponse,
  answer: SlackApiAnswer | undefined,
  now: number,
): ProviderOutcome {
  const detail = answer?.error ? explain(answer.error, answer.response_metadata?.messages) : undefined;
  return outcomeForStatus('slack', response, now, { detail });
}

/** The outcome of a non-2xx incoming-webhook answer, whose body is a bare error code. */
export function webhookErrorOutcome(response: HttpResponse, now: number): ProviderOutcome {
  const code = response.text.trim();
  const known = /^[a-z_]+$/.test(code);
  const clientError = response.status >= 400 && response.status < 500 && response.status !== 429;
  if (clientError && PERMANENT_WEBHOOK_ERRORS.has(code)) {
    return { status: 'failed', reason: `slack: HTTP ${response.status}: ${explain(code)}` };
  }
  return outcomeForStatus('slack', response, now, { detail: known ? explain(code) : undefined });
}
