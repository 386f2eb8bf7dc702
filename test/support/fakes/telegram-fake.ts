import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The bot token the Telegram fake accepts. */
export const TELEGRAM_BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

/**
 * The Bot API's sendMessage as Telegram documents it: {ok: true, result: Message}, or {ok: false,
 * error_code, description, parameters?}. Chat "42" blocked the bot, "77" floods, other
 * non-numbers are unknown.
 */
export function answerTelegram(request: RecordedRequest): FakeAnswer {
  const refuse = (status: number, description: string, parameters?: object) => ({
    status,
    body: { ok: false, error_code: status, description, ...(parameters && { parameters }) },
  });
  const match = /^\/bot(\d+:[\w-]+)\/sendMessage$/.exec(request.url);
  if (request.method !== 'POST' || !match) return refuse(404, 'Not Found');
  if (match[1] !== TELEGRAM_BOT_TOKEN) return refuse(401, 'Unauthorized');
  if (request.headers['content-type'] !== 'application/json') return refuse(400, 'Bad Request: message text is empty');
  const body = JSON.parse(request.body) as { chat_id?: string; text?: string };
  if (!body.text) return refuse(400, 'Bad Request: message text is empty');
  if (body.text.length > 4096) return refuse(400, 'Bad Request: message is too long');
  if (body.chat_id === '42') return refuse(403, 'Forbidden: bot was blocked by the user');
  if (body.chat_id === '77') return refuse(429, 'Too Many Requests: retry after 35', { retry_after: 35 });
  if (!/^-?\d+$|^@\w+$/.test(body.chat_id ?? '')) return refuse(400, 'Bad Request: chat not found');
  return {
    status: 200,
    body: {
      ok: true,
      result: { message_id: 4711, date: 1700000000, chat: { id: Number(body.chat_id) }, text: body.text },
    },
  };
}
