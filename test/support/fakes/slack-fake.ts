import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The bot token the fake's chat.postMessage accepts. */
export const SLACK_BOT_TOKEN = 'xoxb-1234-5678-abcdef';

/**
 * Incoming webhooks as Slack documents them: 200 `ok`, else a status and a bare error code. The
 * webhook's last path segment picks the answer: revoked, archived, restricted, broken.
 */
export function answerSlackWebhook(request: RecordedRequest): FakeAnswer {
  const match = /^\/services\/(\w+)\/(\w+)\/(\w+)$/.exec(request.url);
  if (request.method !== 'POST' || !match) return { status: 404, body: 'no_service' };
  const token = match[3];
  if (token === 'revoked') return { status: 404, body: 'no_service' };
  if (token === 'archived') return { status: 410, body: 'channel_is_archived' };
  if (token === 'restricted') return { status: 403, body: 'action_prohibited' };
  if (token === 'broken') return { status: 500, body: 'rollup_error' };
  if (request.headers['content-type'] !== 'application/json') return { status: 400, body: 'invalid_payload' };
  const body = JSON.parse(request.body) as { text?: string };
  if (!body.text) return { status: 400, body: 'no_text' };
  return { status: 200, body: 'ok' };
}

/**
 * chat.postMessage as Slack documents it: HTTP 200 with `ok`, rate limits as 429 + Retry-After.
 * Channels C404, COUTSIDE, CBUSY and CBADBLOCKS meet the documented errors.
 */
export function answerSlackPostMessage(request: RecordedRequest): FakeAnswer {
  if (request.method !== 'POST') return { status: 405, body: 'method not allowed' };
  if (!request.headers.authorization) return { status: 200, body: { ok: false, error: 'not_authed' } };
  if (request.headers.authorization !== `Bearer ${SLACK_BOT_TOKEN}`) {
    return { status: 200, body: { ok: false, error: 'invalid_auth' } };
  }
  if (!request.headers['content-type']?.startsWith('application/json')) {
    return { status: 200, body: { ok: false, error: 'invalid_form_data' } };
  }
  const body = JSON.parse(request.body) as { channel?: string; text?: string; blocks?: unknown[] };
  switch (body.channel) {
    case undefined:
    case 'C404':
      return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    case 'COUTSIDE':
      return { status: 200, body: { ok: false, error: 'not_in_channel' } };
    case 'CBUSY':
      return { status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } };
    case 'CBADBLOCKS':
      return {
        status: 200,
        body: {
          ok: false,
          error: 'invalid_blocks',
          response_metadata: { messages: ['[ERROR] must provide an object [json-pointer:/blocks/0]'] },
        },
      };
  }
  if (!body.text && !body.blocks) return { status: 200, body: { ok: false, error: 'no_text' } };
  return {
    status: 200,
    body: { ok: true, channel: body.channel, ts: '1503435956.000247', message: { text: body.text, type: 'message' } },
  };
}

/** Slack at one origin: the Web API's chat.postMessage and the incoming webhooks. */
export function answerSlack(request: RecordedRequest): FakeAnswer {
  return request.url === '/api/chat.postMessage' ? answerSlackPostMessage(request) : answerSlackWebhook(request);
}
