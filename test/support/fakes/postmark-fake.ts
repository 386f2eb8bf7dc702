import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The server token the Postmark fake accepts. */
export const POSTMARK_SERVER_TOKEN = 'server-token';

/**
 * Postmark's /email as Postmark documents it: 200 {To, SubmittedAt, MessageID, ErrorCode: 0,
 * Message: "OK"}; 401 {ErrorCode: 10} for a bad token; 422 {ErrorCode, Message} for a refused
 * message (`bounced@…` inactive, 406; `credits@…` out of credits, 405).
 */
export function answerPostmark(request: RecordedRequest): FakeAnswer {
  const refuse = (status: number, ErrorCode: number, Message: string) => ({ status, body: { ErrorCode, Message } });
  if (request.method !== 'POST' || request.url !== '/email') return refuse(404, 0, 'Not found');
  if (request.headers['x-postmark-server-token'] !== POSTMARK_SERVER_TOKEN)
    return refuse(401, 10, 'Request does not contain a valid Server token.');
  if (request.headers['content-type'] !== 'application/json' || request.headers.accept !== 'application/json')
    return refuse(422, 409, 'JSON required');
  const body = JSON.parse(request.body);
  if (!body.From || !body.To || !(body.TextBody || body.HtmlBody))
    return refuse(422, 300, 'Invalid email request: Provide either email TextBody or HtmlBody or both.');
  if (body.To.includes('bounced@'))
    return refuse(
      422,
      406,
      'You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: bounced@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.',
    );
  if (body.To.includes('credits@')) return refuse(422, 405, 'Not allowed to send: you have run out of credits.');
  return {
    status: 200,
    body: {
      To: body.To,
      SubmittedAt: '2026-11-28T14:09:00.0000000-05:00',
      MessageID: 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817',
      ErrorCode: 0,
      Message: 'OK',
    },
  };
}
