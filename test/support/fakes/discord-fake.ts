import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The id Discord gives the posted message. */
export const DISCORD_MESSAGE_ID = '1168392040194912356';

/**
 * Discord's Execute Webhook as Discord documents it: 200 + message object with wait=true, 404
 * Unknown Webhook, 400 on empty content.
 */
export function answerDiscord(request: RecordedRequest): FakeAnswer {
  const match = /^\/api\/webhooks\/(\d+)\/([\w-]+)\?wait=true$/.exec(request.url);
  if (request.method !== 'POST' || !match) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
  if (request.headers['content-type'] !== 'application/json') return { status: 400, body: { message: 'bad type' } };
  const body = JSON.parse(request.body) as { content?: string };
  if (!body.content) return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
  return { status: 200, body: { id: DISCORD_MESSAGE_ID, type: 0, content: body.content, channel_id: '1' } };
}
