import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The API key the Resend fake accepts. */
export const RESEND_API_KEY = 're_test_key';

export interface ResendFake {
  /** Emails the fake really sent: a repeated idempotency key does not send again. */
  readonly sent: number;
  handle(request: RecordedRequest): FakeAnswer;
}

/**
 * Resend's /emails as Resend documents it: 200 {id}; errors {statusCode, message, name}; an
 * Idempotency-Key seen before answers the first response (same payload) or 409 (another payload).
 * `inflight@…` meets a concurrent request with the same key.
 */
export function createResendFake(): ResendFake {
  let sent = 0;
  const seen = new Map<string, { body: string; id: string }>();
  return {
    get sent() {
      return sent;
    },
    handle(request) {
      const error = (statusCode: number, name: string, message: string) => ({
        status: statusCode,
        body: { statusCode, message, name },
      });
      if (request.method !== 'POST' || request.url !== '/emails')
        return error(404, 'not_found', 'The requested endpoint does not exist.');
      if (!request.headers.authorization)
        return error(401, 'missing_api_key', 'Missing API key in the authorization header.');
      if (request.headers.authorization !== `Bearer ${RESEND_API_KEY}`)
        return error(403, 'invalid_api_key', 'API key is invalid.');
      if (request.headers['content-type'] !== 'application/json') return error(400, 'validation_error', 'Invalid body');
      const body = JSON.parse(request.body);
      if (!body.from || !body.subject || !(body.text || body.html))
        return error(422, 'missing_required_field', 'Missing `from`, `subject` or content.');
      if (!/^([^<>]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/.test(body.to?.[0] ?? ''))
        return error(
          422,
          'validation_error',
          'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
        );
      if (body.to[0].includes('inflight@'))
        return error(
          409,
          'concurrent_idempotent_requests',
          'Same idempotency key used while original request is still in progress.',
        );
      const key = String(request.headers['idempotency-key'] ?? '');
      const earlier = seen.get(key);
      if (earlier && earlier.body !== request.body)
        return error(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
      if (earlier) return { status: 200, body: { id: earlier.id } };
      sent += 1;
      const id = `49a3999c-0ce1-4ea6-ab68-afcd6dc2e79${sent}`;
      if (key) seen.set(key, { body: request.body, id });
      return { status: 200, body: { id } };
    },
  };
}
