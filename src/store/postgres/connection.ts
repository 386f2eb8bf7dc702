import pg from 'pg';

/**
 * Millisecond timestamps and COUNT(*) are BIGINT, which pg hands back as strings by default. Every
 * value Herald stores fits a double exactly (dates until year 287,396), so read them as numbers.
 * Set on Herald's connections only, not pg's process-wide parsers.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** A schema name is spliced into SQL, so only plain identifiers are accepted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** How every Herald connection (pooled or listening) is opened. */
export function connectionConfig(connectionString: string, schema: string | undefined): pg.ClientConfig {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`schema must be a lower-case identifier, got ${JSON.stringify(schema)}`);
  }
  return {
    connectionString,
    types: TYPES,
    // A startup parameter, so every connection has it before its first query. (Setting it from
    // pool.on('connect') races the caller's first query on that connection, which pg 8 queues
    // with a deprecation warning and pg 9 refuses.) An `options` in the URL takes precedence.
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  };
}

/**
 * Opens Herald's pool. A pooled connection that breaks while checked out between two queries (the
 * server restarts, a proxy cuts it) emits 'error' with no query to reject; unheard, that event
 * would crash the process. The next query on it fails instead, and the failure path drops it.
 */
export function createPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('connect', (client) => client.on('error', () => undefined));
  // An idle connection that breaks is dropped by the pool and replaced on next use.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `work` in a transaction on one pooled connection. On failure it rolls back and hands the
 * connection back to be closed, not reused: after an error its state is not to be trusted.
 */
export function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransactionCommittedBy(pool, async (client) => ({ value: await work(client), committed: false }));
}

/**
 * inTransaction for work that may send the COMMIT itself, in the same round trip as its last
 * statement (so that a lock taken there is not held while the answer travels to this process and
 * the next command back); it says whether it did.
 */
export async function inTransactionCommittedBy<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<{ value: T; committed: boolean }>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { value: result, committed } = await work(client);
    if (!committed) await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}

/** PostgreSQL chose this transaction as a deadlock victim: it was rolled back, and may be tried again. */
export function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '40P01';
}

/** Statements whose rows are all the caller wants, on any pooled connection. */
export function rowQueries(pool: pg.Pool) {
  return {
    query: async <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      (await pool.query<Row>(sql, params)).rows,
    /** For the statements on the delivery path: each connection parses and plans them once. */
    named: async <Row extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) =>
      (await pool.query<Row>({ name, text, values })).rows,
  };
}
