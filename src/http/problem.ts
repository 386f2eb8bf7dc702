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
  if (body.status === 503 && !reply.hasHeader('retry-after')) reply.header('Retry-After', '1');
  return reply.code(body.status).type('application/problem+json').send(body);
}

/**
 * SQLite result codes (better-sqlite3 reports the extended code, e.g. `SQLITE_IOERR_WRITE`,
 * `SQLITE_BUSY_SNAPSHOT`, `SQLITE_READONLY_DBMOVED`) whose primary code means the database file
 * cannot be used right now: locked, busy, out of memory or disk, unreadable, moved, corrupt. The
 * primary codes left out (ERROR, CONSTRAINT, MISMATCH, MISUSE, RANGE, TOOBIG…) are Herald's bugs.
 */
const SQLITE_UNAVAILABLE = new Set([
  'SQLITE_THREAD_EXITED', // Herald's own: the store's thread has died
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_NOMEM',
  'SQLITE_READONLY',
  'SQLITE_INTERRUPT',
  'SQLITE_IOERR',
  'SQLITE_CORRUPT',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
  'SQLITE_SCHEMA',
  'SQLITE_NOLFS',
  'SQLITE_AUTH',
  'SQLITE_NOTADB',
  'SQLITE_PERM',
]);

/** Socket and DNS failures on the way to a database server. */
const NETWORK_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EADDRNOTAVAIL',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * PostgreSQL SQLSTATE classes and codes that mean the database cannot serve Herald right now, as
 * opposed to a query Herald got wrong (syntax, types, constraints: those stay a logged 500).
 */
const POSTGRES_UNAVAILABLE_CLASSES = [
  '08', // connection exception
  '28', // invalid authorization: a password or pg_hba.conf changed under a running process
  '53', // insufficient resources: out of connections, memory or disk
  '55', // object not in prerequisite state: 55000 database not accepting connections, 55P03 lock not available
  '57', // operator intervention: shutdown, restart, starting up, 57014 query canceled
  '58', // system error: I/O errors, missing files
  'F0', // configuration file error
  'XX', // internal error: data or index corrupted
];
const POSTGRES_UNAVAILABLE_CODES = new Set([
  '40000', // transaction rollback
  '40001', // serialization failure: retrying succeeds
  '40003', // statement completion unknown
  '40P01', // deadlock detected: one side is rolled back
  '25006', // read-only transaction: connected to a standby after a failover
  '25P03', // idle-in-transaction session timeout
  '25P04', // transaction timeout
  '3D000', // the database does not exist (dropped, or not created yet)
  '3F000', // the schema does not exist
  '42P01', // a table does not exist: the schema was dropped or not migrated
  '72000', // snapshot too old
]);

/** Errors of the pg driver and pg-pool, which carry no SQLSTATE, about the connection itself. */
const DRIVER_UNAVAILABLE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|Client was closed and is not queryable|Cannot use a pool after calling end on the pool|Query read timeout|The server does not support SSL connections|^SASL: /i;

/** True when the store could not do its part for a reason that passes: the caller should retry. */
export function isStoreUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('SQLITE_')) {
    // SQLITE_IOERR_WRITE → SQLITE_IOERR: the extended code refines the primary one.
    const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
    return SQLITE_UNAVAILABLE.has(primary) || SQLITE_UNAVAILABLE.has(code);
  }
  if (NETWORK_UNAVAILABLE.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) {
    return POSTGRES_UNAVAILABLE_CODES.has(code) || POSTGRES_UNAVAILABLE_CLASSES.includes(code.slice(0, 2));
  }
  return DRIVER_UNAVAILABLE.test(typeof e?.message === 'string' ? e.message : '');
}

/** A body limit as people read it: "1 MiB", "6.0 MiB"; 1 MiB when the route sets none. */
function mebibytes(limit: number | undefined): string {
  const mib = (limit ?? 1_048_576) / 1_048_576;
  return Number.isInteger(mib) ? `${mib} MiB` : `${mib.toFixed(1)} MiB`;
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
      return problem(
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than ${mebibytes(request.routeOptions.bodyLimit)}`,
      );
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

/** The answer to a request that is not valid HTTP, has headers too large, or did not arrive in time. */
export function clientErrorProblem(
  error: Error & { code?: string },
  requestTimeoutMs: number,
): { status: number; body: string } {
  let body: ProblemBody;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    body = problem(
      'REQUEST_TIMEOUT',
      `The request headers and body were not received within ${requestTimeoutMs / 1000} s; the connection is closed`,
    );
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    body = { ...problem('INVALID_REQUEST', 'The request headers are too large'), status: 431 };
  } else {
    body = problem('INVALID_REQUEST', 'The request is not valid HTTP');
  }
  return { status: body.status, body: JSON.stringify(body) };
}
