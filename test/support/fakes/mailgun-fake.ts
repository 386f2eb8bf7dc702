import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The key and sending domain the Mailgun fake accepts. */
export const MAILGUN_ACCOUNT = { apiKey: 'key-test', domain: 'mg.example.com' };

/** Mailgun's messages API as Mailgun documents it: 200 {id, message}; 401 "Forbidden" as plain text; 400/404 {message}. */
export function answerMailgun(request: RecordedRequest): FakeAnswer {
  const basic = `Basic ${Buffer.from(`api:${MAILGUN_ACCOUNT.apiKey}`).toString('base64')}`;
  if (request.headers.authorization !== basic) return { status: 401, body: 'Forbidden' };
  const match = /^\/v3\/([^/]+)\/messages$/.exec(request.url);
  if (request.method !== 'POST' || !match) return { status: 404, body: { message: 'Not Found' } };
  if (match[1] !== MAILGUN_ACCOUNT.domain) return { status: 404, body: { message: `Domain not found: ${match[1]}` } };
  if (request.headers['content-type'] !== 'application/x-www-form-urlencoded')
    return { status: 400, body: { message: 'unsupported content type' } };
  const form = new URLSearchParams(request.body);
  if (!form.get('from')) return { status: 400, body: { message: "'from' parameter is missing" } };
  if (!form.get('text') && !form.get('html'))
    return {
      status: 400,
      body: { message: "Need at least one of 'text', 'html' or 'template' parameters specified" },
    };
  if (!/@/.test(form.get('to') ?? ''))
    return { status: 400, body: { message: 'to parameter is not a valid address. please check documentation' } };
  return {
    status: 200,
    body: { id: '<20261128140900.1.ABCDEF0123456789@mg.example.com>', message: 'Queued. Thank you.' },
  };
}
