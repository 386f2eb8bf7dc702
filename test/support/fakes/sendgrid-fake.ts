import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The API key the SendGrid fake accepts. */
export const SENDGRID_API_KEY = 'SG.test-key';

/** SendGrid's v3 mail/send as SendGrid documents it: 202 + X-Message-Id, errors as {errors: [{message, field, help}]}. */
export function answerSendgrid(request: RecordedRequest): FakeAnswer {
  const errors = (status: number, message: string, field: string | null = null) => ({
    status,
    body: { errors: [{ message, field, help: null }] },
  });
  if (request.method !== 'POST' || request.url !== '/v3/mail/send') return errors(404, 'Not found');
  if (request.headers.authorization !== `Bearer ${SENDGRID_API_KEY}`)
    return errors(401, 'The provided authorization grant is invalid, expired, or revoked');
  if (request.headers['content-type'] !== 'application/json') return errors(415, 'Content-Type must be JSON');
  const body = JSON.parse(request.body);
  const to = body.personalizations?.[0]?.to?.[0]?.email;
  if (!body.from?.email) return errors(400, 'The from object must be provided for every email send.', 'from');
  if (!body.subject) return errors(400, 'The subject is required.', 'subject');
  if (body.content?.[0]?.type !== 'text/plain')
    return errors(400, 'The text/plain content type must be first.', 'content');
  if (!/^[^@\s]+@[^@\s]+$/.test(to ?? ''))
    return errors(400, 'Does not contain a valid address.', 'personalizations.0.to.0.email');
  return { status: 202, headers: { 'x-message-id': 'W6A2oNz8TmuTOi3wbHc8hQ' } };
}
