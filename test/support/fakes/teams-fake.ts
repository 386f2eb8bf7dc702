import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The run id the fake's Workflows trigger answers with. */
export const TEAMS_RUN_ID = '08584620392394885011435407645CU12';
/** The trigger URL signature the fake accepts. */
export const TEAMS_SIGNATURE = 'KODuebWbDGYFr0z0eu-6Rj8aUKz7108W3wrNJZxFE5A';

/** A Workflows trigger URL at `origin`, as the Teams "Post to a channel" flow gives one. */
export function teamsTriggerUrl(origin: string, workflow = 'a1b2c3', sig = TEAMS_SIGNATURE): string {
  return (
    `${origin}/workflows/${workflow}/triggers/manual/paths/invoke?api-version=2016-06-01` +
    `&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`
  );
}

function logicAppsError(status: number, code: string, message: string, headers?: Record<string, string>) {
  return { status, headers, body: { error: { code, message } } };
}

/**
 * A Workflows trigger as Logic Apps answers it: 202 + run id once the signed URL and the body the
 * "When a Teams webhook request is received" trigger expects check out; `{error: {code, message}}`
 * otherwise. Workflow "deleted" is gone, "throttled" is over its limit.
 */
export function answerTeamsTrigger(request: RecordedRequest): FakeAnswer {
  const url = new URL(request.url, 'http://fake');
  const match = /^\/workflows\/([\w-]+)\/triggers\/manual\/paths\/invoke$/.exec(url.pathname);
  if (request.method !== 'POST' || !match) return { status: 404, body: '' };
  const workflow = match[1];
  if (workflow === 'deleted')
    return logicAppsError(404, 'WorkflowNotFound', "The workflow 'deleted' could not be found.");
  if (!url.searchParams.get('sig')) {
    return logicAppsError(
      401,
      'DirectApiAuthorizationRequired',
      'The request must be authenticated only by Shared Access scheme.',
    );
  }
  if (url.searchParams.get('sig') !== TEAMS_SIGNATURE) {
    return logicAppsError(
      401,
      'DirectApiInvalidAuthorizationSignature',
      'The provided authorization signature is not valid.',
    );
  }
  if (workflow === 'throttled') {
    return logicAppsError(
      429,
      'WorkflowRequestsThrottled',
      "Number of requests for workflow 'throttled' exceeded the limit of '100' over time window of '00:05:00'.",
      { 'retry-after': '12' },
    );
  }
  if (url.searchParams.get('api-version') === null || url.searchParams.get('sp') !== '/triggers/manual/run') {
    return logicAppsError(400, 'InvalidRequest', 'The api-version query parameter is required.');
  }
  if (request.headers['content-type'] !== 'application/json') {
    return logicAppsError(415, 'UnsupportedMediaType', 'The content media type is not supported.');
  }
  const body = JSON.parse(request.body) as { type?: string; attachments?: { contentType?: string }[] };
  if (body.type !== 'message' || !body.attachments?.[0]?.contentType) {
    return logicAppsError(
      400,
      'TriggerInputSchemaMismatch',
      "The input body for trigger 'manual' of type 'Request' did not match its schema definition.",
    );
  }
  return { status: 202, headers: { 'x-ms-workflow-run-id': TEAMS_RUN_ID } };
}
