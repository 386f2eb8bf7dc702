import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The account the Plivo fake accepts. */
export const PLIVO_ACCOUNT = { authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: 'YzY1NjE3ZjQ4YTg2OGE3MmFkZWQ1NmNlMzg4NWM3' };

/** Plivo's Message API as Plivo documents it: 202 {api_id, message, message_uuid: [..]}; errors {api_id, error}. */
export function answerPlivo(request: RecordedRequest): FakeAnswer {
  const { authId, authToken } = PLIVO_ACCOUNT;
  const apiId = 'b6f2c4d8-7c2a-11ee-8c1e-0242ac110002';
  if (request.method !== 'POST' || request.url !== `/v1/Account/${authId}/Message/`) {
    return { status: 404, body: { api_id: apiId, error: 'not found' } };
  }
  const expected = `Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`;
  if (request.headers.authorization !== expected)
    return { status: 401, body: 'Could not verify your access level for that URL.' };
  if (request.headers['content-type'] !== 'application/json') {
    return { status: 400, body: { api_id: apiId, error: 'content-type must be application/json' } };
  }
  const body = JSON.parse(request.body) as { src?: string; dst?: string; text?: string };
  for (const field of ['src', 'dst', 'text'] as const) {
    if (!body[field]) return { status: 400, body: { api_id: apiId, error: `${field} parameter is required` } };
  }
  if (!/^\+?[1-9]\d{6,14}$/.test(body.dst!))
    return { status: 400, body: { api_id: apiId, error: 'invalid dst number' } };
  return {
    status: 202,
    body: { api_id: apiId, message: 'message(s) queued', message_uuid: ['db3ce55a-7f1d-11e1-8ea7-1231380bc196'] },
  };
}
