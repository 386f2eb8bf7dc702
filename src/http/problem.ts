import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, HeraldError, type ErrorCode, type FieldError } from '../core/errors.js';
import { fieldErrorsOf, type SchemaError } from '../core/validation-errors.js';
import { resolveComponent } from './components.js';

export const PROBLEM_TYPE_BASE = 'urn:herald:error:';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  requestId?: string;
}

export function problem(code: ErrorCode, detail: string, errors?: FieldError[]): ProblemBody {
  const { status, title } = ERRORS[code];
  const body: ProblemBody = { type: PROBLEM_TYPE_BASE + code.toLowerCase(), title, status, detail, code };
  if (errors && errors.length > 0) body.errors = errors;
  return body;
}

export function sendProblem(reply: FastifyReply, body: ProblemBody): FastifyReply {
  if (body.status === 503) reply.header('Retry-After', '1');
  return reply.code(body.status).type('application/problem+json').send(body);
}

/** Store failures that mean "try again shortly" rather than "Herald is broken". */
const UNAVAILABLE = new Set([
  'SQLITE_THREAD_EXITED',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  // The database server cannot be reached, or the connection broke.
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // PostgreSQL: shutting down, restarting, starting up (57P01–57P03), out of connections, memory
  // or disk (53…), a deadlock or serialization victim (40P01, 40001), a lock not available.
  '57P01',
  '57P02',
  '57P03',
  '53000',
  '53100',
  '53200',
  '53300',
  '40P01',
  '40001',
  '55P03',
]);

/** True when the store could not do its part for a reason that passes: the caller should retry. */
export function isStoreUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  // PostgreSQL's class 08 is "connection exception".
  if (UNAVAILABLE.has(code) || code.startsWith('08')) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i.test(
    typeof e?.message === 'string' ? e.message : '',
  );
}

/** Maps any error to problem+json: catalogue errors keep their status, unknown ones become a logged 500. */
export function toProblem(error: unknown, request: FastifyRequest): ProblemBody {
  if (error instanceof HeraldError) return problem(error.code, error.message, error.errors);
  const e = error as FastifyError & { validation?: SchemaError[]; validationContext?: string };
  if (e.validation) {
    const errors = fieldErrorsOf(e.validation, { resolveRef: resolveComponent });
    const part = e.validationContext ?? 'body';
    const detail = `Invalid ${part}: ` + errors.map((x) => `${x.path} ${x.message}`).join('; ');
    return problem(part === 'body' ? 'VALIDATION_FAILED' : 'INVALID_REQUEST', detail, errors);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('INVALID_JSON', 'The body is empty; send a JSON object');
    case 'FST_ERR_BAD_URL':
      return problem('INVALID_REQUEST', 'The URL path holds malformed percent-encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return problem('INVALID_REQUEST', 'A path segment of the URL is too long');
  }
  if (isStoreUnavailable(error)) {
    request.log.warn({ err: error }, 'store unavailable');
    return problem('SERVICE_UNAVAILABLE', 'The database is busy or unavailable; try again shortly');
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { ...problem('INVALID_REQUEST', e.message || 'Invalid request'), status };
  }
  request.log.error({ err: error }, 'unhandled error');
  return {
    ...problem('INTERNAL', 'Something went wrong; the request id identifies it in the logs'),
    requestId: request.id,
  };
}

/** The answer to a request that is not valid HTTP (bad request line, header too large, …). */
export function clientErrorProblem(error: Error & { code?: string }): { status: number; body: string } {
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = problem(
    'INVALID_REQUEST',
    tooLarge ? 'The request headers are too large' : 'The request is not valid HTTP',
  );
  const status = tooLarge ? 431 : 400;
  return { status, body: JSON.stringify({ ...body, status }) };
}
