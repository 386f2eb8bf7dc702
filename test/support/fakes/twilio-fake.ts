import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The account the Twilio fake accepts. */
export const TWILIO_ACCOUNT = { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'f00dcafe' };

/** A number whose sender queue is full: Twilio answers 400/21611, which is transient. */
export const TWILIO_QUEUE_FULL_NUMBER = '+14155550199';

/**
 * Twilio's Messages API as Twilio documents it: 201 + Message resource; 401/20003 on bad
 * credentials; 400/21211 for an invalid To, 400/21604 without a Body, 400/21611 when the sender's
 * queue is full.
 */
export function answerTwilio(request: RecordedRequest): FakeAnswer {
  const { accountSid, authToken } = TWILIO_ACCOUNT;
  const error = (status: number, code: number, message: string) => ({
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  });
  if (request.method !== 'POST' || request.url !== `/2010-04-01/Accounts/${accountSid}/Messages.json`) {
    return error(404, 20404, 'The requested resource was not found');
  }
  const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  if (request.headers.authorization !== expected) return error(401, 20003, 'Authenticate');
  if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') {
    return error(400, 20001, 'Unsupported content type');
  }
  const form = new URLSearchParams(request.body);
  const to = form.get('To') ?? '';
  if (!/^\+[1-9]\d{6,14}$/.test(to)) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  if (!form.get('From') && !form.get('MessagingServiceSid')) {
    return error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message");
  }
  if (!form.get('Body')) return error(400, 21604, 'A text message body or media urls must be specified.');
  if (to === TWILIO_QUEUE_FULL_NUMBER)
    return error(400, 21611, "This 'From' number has exceeded the maximum number of queued messages");
  return {
    status: 201,
    body: { sid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f', status: 'queued', to, body: form.get('Body') },
  };
}
