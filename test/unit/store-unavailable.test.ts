import { describe, expect, it } from 'vitest';
import { isStoreUnavailable } from '../../src/http/problem.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isStoreUnavailable: a failure to reach or use the database (503), not a bug (500)', () => {
  it.each([
    // PostgreSQL, by class
    ['08006', 'connection failure'],
    ['08001', 'cannot establish a connection'],
    ['28P01', 'password authentication failed (changed under a running process)'],
    ['28000', 'no pg_hba.conf entry'],
    ['53300', 'too many connections'],
    ['53100', 'disk full'],
    ['55000', 'database is not currently accepting connections (ALLOW_CONNECTIONS false)'],
    ['55P03', 'lock not available'],
    ['57P01', 'admin shutdown'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now (starting up)'],
    ['57P04', 'database dropped'],
    ['57014', 'query canceled (statement timeout)'],
    ['58030', 'I/O error'],
    ['58P01', 'undefined file'],
    ['F0000', 'configuration file error'],
    ['XX000', 'internal error'],
    ['XX001', 'data corrupted'],
    // PostgreSQL, by code
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
    ['40003', 'statement completion unknown'],
    ['25006', 'read-only transaction (a standby after failover)'],
    ['25P03', 'idle-in-transaction timeout'],
    ['3D000', 'database does not exist'],
    ['3F000', 'schema does not exist'],
    ['42P01', 'table does not exist (schema dropped)'],
    // SQLite: primary and extended codes as better-sqlite3 reports them
    ['SQLITE_BUSY', ''],
    ['SQLITE_BUSY_SNAPSHOT', ''],
    ['SQLITE_BUSY_TIMEOUT', ''],
    ['SQLITE_LOCKED_SHAREDCACHE', ''],
    ['SQLITE_IOERR', ''],
    ['SQLITE_IOERR_WRITE', ''],
    ['SQLITE_IOERR_FSYNC', ''],
    ['SQLITE_IOERR_SHORT_READ', ''],
    ['SQLITE_READONLY', ''],
    ['SQLITE_READONLY_DBMOVED', ''],
    ['SQLITE_READONLY_RECOVERY', ''],
    ['SQLITE_CANTOPEN', ''],
    ['SQLITE_CANTOPEN_ISDIR', ''],
    ['SQLITE_CORRUPT', ''],
    ['SQLITE_CORRUPT_INDEX', ''],
    ['SQLITE_NOTADB', ''],
    ['SQLITE_NOMEM', ''],
    ['SQLITE_FULL', ''],
    ['SQLITE_PROTOCOL', ''],
    ['SQLITE_PERM', ''],
    ['SQLITE_THREAD_EXITED', "Herald's own: the store's thread died"],
    // The network on the way to the server
    ['ECONNREFUSED', ''],
    ['ECONNRESET', ''],
    ['ETIMEDOUT', ''],
    ['EHOSTUNREACH', ''],
    ['ENOTFOUND', 'the database host name does not resolve'],
    ['EAI_AGAIN', ''],
  ])('%s (%s) is unavailable', (code) => {
    expect(isStoreUnavailable(withCode(code))).toBe(true);
  });

  it.each([
    ['42601', 'syntax error'],
    ['42703', 'undefined column'],
    ['42P18', 'indeterminate datatype'],
    ['23505', 'unique violation'],
    ['23502', 'not-null violation'],
    ['22P02', 'invalid text representation'],
    ['22021', 'character not in repertoire'],
    ['0A000', 'feature not supported'],
    ['40002', 'integrity constraint violation at commit'],
    ['25001', 'active SQL transaction'],
    ['54000', 'program limit exceeded'],
    ['SQLITE_ERROR', 'SQL error or missing database'],
    ['SQLITE_CONSTRAINT_UNIQUE', ''],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', ''],
    ['SQLITE_MISMATCH', ''],
    ['SQLITE_MISUSE', ''],
    ['SQLITE_RANGE', ''],
    ['SQLITE_TOOBIG', ''],
    ['ERR_INVALID_ARG_TYPE', 'a Node.js programming error'],
  ])('%s (%s) is a bug', (code) => {
    expect(isStoreUnavailable(withCode(code))).toBe(false);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'Cannot use a pool after calling end on the pool',
    'Query read timeout',
    'The server does not support SSL connections',
    'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string',
  ])('the pg driver and pg-pool error "%s" is unavailable', (message) => {
    expect(isStoreUnavailable(new Error(message))).toBe(true);
  });

  it('keeps plain errors, null and non-errors as bugs', () => {
    for (const error of [
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      new Error('something broke'),
      null,
      undefined,
      'text',
      42,
    ]) {
      expect(isStoreUnavailable(error)).toBe(false);
    }
  });
});
