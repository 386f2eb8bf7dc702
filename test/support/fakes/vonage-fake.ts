import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The credentials the Vonage fake accepts. */
export const VONAGE_ACCOUNT = { apiKey: 'abcd1234', apiSecret: 'secret' };

/** Numbers the fake answers with a documented refusal, by status. */
const REFUSALS: Record<string, { status: string; text: string }> = {
  '447700900001': { status: '1', text: 'Throughput Rate Exceeded - please wait [ 1 ] and retry' },
  '447700900007': { status: '7', text: 'Number barred.' },
  '447700900029': { status: '29', text: 'Non-Whitelisted Destination - rejected' },
};

/**
 * Vonage's SMS API as Vonage documents it: always HTTP 200, one entry per message part; status "0"
 * is success, anything else the error (4 invalid credentials, 2 missing parameters, …). Texts over
 * 160 characters go out as two parts, the second refused, to test a half-sent text.
 */
export function answerVonage(request: RecordedRequest): FakeAnswer {
  if (request.method !== 'POST' || request.url !== '/sms/json') return { status: 404, body: 'Not Found' };
  const refuse = (status: string, text: string) => ({
    status: 200,
    body: { 'message-count': '1', messages: [{ status, 'error-text': text }] },
  });
  if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') {
    return refuse('2', 'Missing api_key');
  }
  const form = new URLSearchParams(request.body);
  if (form.get('api_key') !== VONAGE_ACCOUNT.apiKey || form.get('api_secret') !== VONAGE_ACCOUNT.apiSecret)
    return refuse('4', 'Bad Credentials');
  for (const field of ['from', 'to', 'text']) if (!form.get(field)) return refuse('2', `Missing ${field} param`);
  const to = form.get('to')!;
  if (!/^\d{7,15}$/.test(to)) return refuse('3', 'Invalid to address');
  const refusal = REFUSALS[to];
  if (refusal) return refuse(refusal.status, refusal.text);
  const part = (id: string, status = '0') => ({ to, 'message-id': id, status, 'remaining-balance': '3.1' });
  if (form.get('text')!.length > 160) {
    return {
      status: 200,
      body: { 'message-count': '2', messages: [part('0C00000A'), { ...part('', '1'), 'error-text': 'Throttled' }] },
    };
  }
  return { status: 200, body: { 'message-count': '1', messages: [part('0C000000217B7F02')] } };
}
