import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The incoming webhook the Mattermost fake knows: /hooks/{MATTERMOST_HOOK}. */
export const MATTERMOST_HOOK = 'yobjmukpaw3r3urc5h6i369yima';

/**
 * A Mattermost incoming webhook as Mattermost answers it: 200 "ok" as text; 400 {id, message,
 * status_code} for an unknown webhook or an empty text.
 */
export function answerMattermost(request: RecordedRequest): FakeAnswer {
  const refuse = (id: string, message: string) => ({
    status: 400,
    body: { id, message, detailed_error: '', request_id: 'pbk6q1bfwjrzbqbbb8me56d7xc', status_code: 400 },
  });
  if (request.method !== 'POST' || request.url !== `/hooks/${MATTERMOST_HOOK}`) {
    return refuse('web.incoming_webhook.invalid.app_error', 'Invalid webhook.');
  }
  if (request.headers['content-type'] !== 'application/json') {
    return refuse('api.webhook.incoming.error', 'Unable to parse incoming data.');
  }
  const body = JSON.parse(request.body) as { text?: string };
  if (!body.text) return refuse('web.incoming_webhook.text.app_error', 'No text specified.');
  return { status: 200, body: 'ok' };
}
