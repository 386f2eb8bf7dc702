import { Type } from 'typebox';
import type { HttpResponse } from '../outbound/http-client.js';
import {
  bodySnippet,
  outcomeForFailure,
  outcomeForStatus,
  parseJson,
  parseRetryAfter,
  sentOutcome,
} from '../outbound/classify-response.js';
import { BaseUrlField, endpoint } from '../outbound/endpoint.js';
import type { ProviderDefinition, ProviderOutcome } from '../provider.js';
import { HTTP } from '../outbound/ssrf.js';

interface TelegramConfig {
  /** From @BotFather: `{bot id}:{secret}`. */
  botToken: string;
  /** The chat for subscribers without `chat.telegram`: a chat id or `@channelusername`. */
  chatId?: string;
  baseUrl?: string;
}

interface TelegramAnswer {
  ok?: boolean;
  result?: { message_id?: number };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

const TELEGRAM_API = 'https://api.telegram.org';

/** sendMessage refuses longer texts ("message is too long"). */
const MAX_TEXT = 4096;

/**
 * Telegram Bot API sendMessage: POST /bot{token}/sendMessage with JSON `{chat_id, text}`. Telegram
 * answers `{ok: true, result: {message_id}}` or `{ok: false, error_code, description,
 * parameters?}`; a 429 names its wait in `parameters.retry_after` (seconds).
 * https://core.telegram.org/bots/api#sendmessage
 */
export const telegram: ProviderDefinition<'chat', TelegramConfig> = {
  provider: 'telegram',
  channel: 'chat',
  address: 'chat',
  configSchema: Type.Object(
    {
      botToken: Type.String({ pattern: '^[0-9]+:[A-Za-z0-9_-]+$' }),
      chatId: Type.Optional(Type.String({ pattern: '^(-?[0-9]+|@[A-Za-z0-9_]{5,32})$' })),
      baseUrl: BaseUrlField,
    },
    { additionalProperties: false },
  ),
  secretFields: ['botToken'],
  destinationFields: ['baseUrl'],
  urlFields: { baseUrl: HTTP },
  urlSchemes: ['tgram'],
  // tgram://{bot_token}/{chat_id}. The token's own colon cannot survive URL parsing (it reads as
  // a port), so this takes the forms Apprise also accepts: the colon as a slash
  // (tgram://123456/AAH…/{chat_id}), or encoded (tgram://123456%3AAAH…/{chat_id}), with an
  // optional "bot" prefix.
  fromUrl(url) {
    const host = decodeURIComponent(url.hostname).replace(/^bot/i, '');
    const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [botId, inlineSecret] = host.split(':');
    const secret = inlineSecret ?? path.shift();
    if (!botId || !/^\d+$/.test(botId) || !secret || !/^[A-Za-z0-9_-]+$/.test(secret)) {
      throw new Error(
        'expected tgram://{bot_token}/{chat_id}, with the token as {bot id}/{secret} or {bot id}%3A{secret}',
      );
    }
    const listed = url.searchParams.get('to')?.split(/[\s,]+/) ?? [];
    const chats = [...path, ...listed].filter(Boolean);
    if (chats.length > 1) throw new Error('tgram: give one chat id; Herald sends to each subscriber’s own chat');
    const chatId = chats[0];
    return { botToken: `${botId}:${secret}`, ...(chatId && { chatId }) };
  },
  chatKey: 'telegram',
  defaultDestination: (config) => config.chatId,
  create(config, context) {
    const url = endpoint(config.baseUrl, TELEGRAM_API, `/bot${config.botToken}/sendMessage`);
    return {
      async send(message, signal) {
        let response;
        try {
          response = await context.http.request({
            url,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ chat_id: message.destination, text: truncate(message.text, MAX_TEXT) }),
            signal,
          });
        } catch (error) {
          return outcomeForFailure('telegram', error);
        }
        const body = parseJson(response) as TelegramAnswer | undefined;
        if (response.status >= 200 && response.status < 300) {
          const id = body?.result?.message_id;
          return sentOutcome('telegram', response, id === undefined ? undefined : String(id));
        }
        return outcomeForError(response, body, context.now());
      },
    };
  },
};

function outcomeForError(response: HttpResponse, body: TelegramAnswer | undefined, now: number): ProviderOutcome {
  const status = response.status;
  const detail = body?.description
    ? `${body.description}${body.parameters?.migrate_to_chat_id ? ` (the chat is now ${body.parameters.migrate_to_chat_id})` : ''}`
    : undefined;
  const reason = `telegram: HTTP ${status}: ${detail ?? bodySnippet(response)}`.slice(0, 500);
  // Telegram answers 403 when this chat refuses the bot: blocked by the user, kicked from the
  // group, a deactivated account, a user who never started the bot. A wrong token is a 401 (or a
  // 404 for a malformed one), so unlike the default rule, 403 here is about the recipient, and
  // retrying the same chat cannot succeed.
  if (status === 403 && body?.ok === false) return { status: 'failed', reason };
  // A 404 with Telegram's own body means no bot has this token: the integration's fault, as a 401.
  if (status === 404 && body?.ok === false) return { status: 'retry', reason };
  const outcome = outcomeForStatus('telegram', response, now, { detail });
  if (outcome.status !== 'retry' || outcome.retryAfterMs !== undefined) return outcome;
  // Telegram states its wait in the body (a Retry-After header, if one came, was read above).
  const seconds = body?.parameters?.retry_after;
  return seconds === undefined ? outcome : { ...outcome, retryAfterMs: parseRetryAfter(String(seconds), now) };
}

/** Cuts to `max` UTF-16 units without leaving half of a surrogate pair at the end. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
