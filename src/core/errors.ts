/**
 * The error catalogue. Every error Herald reports to a caller has a code here; the HTTP layer turns
 * it into RFC 9457 problem+json with this status and title.
 */
export const ERRORS = {
  UNAUTHORIZED: { status: 401, title: 'Missing or invalid API key' },
  INBOX_UNAUTHORIZED: { status: 401, title: 'Missing or invalid subscriber credentials' },
  ORIGIN_NOT_ALLOWED: { status: 403, title: 'Origin not allowed to call the inbox API' },
  LOGIN_FAILED: { status: 401, title: 'Wrong email or password' },
  NOT_SIGNED_IN: { status: 401, title: 'Not signed in' },
  FORBIDDEN: { status: 403, title: 'Not allowed for this role' },
  CSRF_REFUSED: { status: 403, title: 'Cross-site request refused' },
  LOGIN_THROTTLED: { status: 429, title: 'Too many failed logins' },
  USER_NOT_FOUND: { status: 404, title: 'User not found' },
  DASHBOARD_NOT_BUILT: { status: 404, title: 'The dashboard is not built' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  WORKFLOW_NOT_FOUND: { status: 404, title: 'Workflow not found' },
  VERSION_NOT_FOUND: { status: 404, title: 'Workflow version not found' },
  TRIGGER_NOT_FOUND: { status: 404, title: 'Trigger not found' },
  SUBSCRIBER_NOT_FOUND: { status: 404, title: 'Subscriber not found' },
  TOPIC_NOT_FOUND: { status: 404, title: 'Topic not found' },
  MESSAGE_NOT_FOUND: { status: 404, title: 'Message not found' },
  INBOX_ITEM_NOT_FOUND: { status: 404, title: 'Inbox item not found' },
  API_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  LAYOUT_NOT_FOUND: { status: 404, title: 'Layout not found' },
  PARTIAL_NOT_FOUND: { status: 404, title: 'Partial not found' },
  TRANSLATION_NOT_FOUND: { status: 404, title: 'Translation not found' },
  UNSUBSCRIBE_LINK_INVALID: { status: 404, title: 'Unsubscribe link not valid' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  INVALID_REQUEST: { status: 400, title: 'Invalid request' },
  INVALID_JSON: { status: 400, title: 'Malformed JSON body' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request not received in time' },
  VALIDATION_FAILED: { status: 422, title: 'Validation failed' },
  TEMPLATE_INVALID: { status: 422, title: 'Template does not parse' },
  UNKNOWN_PARTIALS: { status: 422, title: 'Templates render partials that do not exist' },
  PARTIAL_CYCLE: { status: 422, title: 'Partials would render each other without end' },
  UNKNOWN_LAYOUT: { status: 422, title: 'An email step names a layout that does not exist' },
  TEMPLATE_IN_USE: { status: 409, title: 'The layout or partial is in use' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key reused with a different body' },
  IDEMPOTENCY_KEY_IN_FLIGHT: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  UNKNOWN_SUBSCRIBERS: { status: 422, title: 'Recipients name no subscriber' },
  UNKNOWN_TOPICS: { status: 422, title: 'Recipients name no topic' },
  INTEGRATION_NOT_FOUND: { status: 404, title: 'Integration not found' },
  INTEGRATION_READ_ONLY: { status: 409, title: 'Integration is configured by environment variables' },
  LAST_API_KEY: { status: 409, title: "The environment's last API key cannot be revoked" },
  EMAIL_TAKEN: { status: 409, title: 'A user has this email already' },
  LAST_OWNER: { status: 409, title: 'The last owner cannot be removed or demoted' },
  SETUP_DONE: { status: 409, title: 'Setup is done: Herald has users' },
  MESSAGE_NOT_RETRYABLE: { status: 409, title: 'Only a failed message can be retried' },
  SECRET_KEY_MISMATCH: { status: 409, title: 'Credentials were sealed with another HERALD_SECRET_KEY' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, detail: string, errors?: FieldError[]) {
    super(detail);
    this.name = 'HeraldError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.errors = errors;
  }
}
