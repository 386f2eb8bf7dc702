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
