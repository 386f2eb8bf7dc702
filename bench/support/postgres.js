import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { track } from './cleanup.js';

const PG_MODULE = import.meta.resolve('pg');
/** Background processes that work for every connection: the WAL flushes of commits land here too. */
const SHARED_BACKENDS = ['walwriter', 'background writer', 'checkpointer'];

async function withClient(databaseUrl, work) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'herald_bench_driver' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The server's version and the settings that decide what a commit costs; written into the results. */
export async function serverInfo(databaseUrl) {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query(
      `SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS synchronous_commit,
              current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS wal_sync_method,
              current_setting('commit_delay') AS commit_delay,
              current_setting('max_connections')::int AS max_connections,
              (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections_in_use`,
    );
    return rows[0];
  });
}

/**
 * A schema of its own for one measurement, dropped afterwards (also on error or Ctrl-C, and on an
 * unexpected exit through a synchronous child process, since nothing async runs then). Every
 * connection of the run is opened with `application_name` = the schema name, so `backendPids`
 * finds the server processes that worked for this run and no one else's.
 */
export function benchSchema(databaseUrl, label) {
  const name = `bench_${randomBytes(4).toString('hex')}_${label}`;
  const sql = `DROP SCHEMA IF EXISTS ${name} CASCADE`;
  const drop = track(`schema ${name}`, {
    stop: () => withClient(databaseUrl, (client) => client.query(sql)),
    kill() {
      const script = `const pg = (await import(${JSON.stringify(PG_MODULE)})).default;
        const client = new pg.Client(${JSON.stringify(databaseUrl)});
        await client.connect(); await client.query(${JSON.stringify(sql)}); await client.end();`;
      spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 5_000, stdio: 'ignore' });
    },
  });
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', name);
  const plainUrl = url.toString();
  url.searchParams.set('schema', name);
  return {
    name,
    /** For Herald: `?schema=` picks its schema. */
    heraldUrl: url.toString(),
    /** For clients that take the schema as an option (pg-boss). */
    plainUrl,
    /** Server pids that work for this schema's connections, plus the shared WAL writer and friends. */
    backendPids: () =>
      withClient(databaseUrl, async (client) => {
        const { rows } = await client.query(
          'SELECT pid FROM pg_stat_activity WHERE application_name = $1 OR backend_type = ANY($2::text[])',
          [name, SHARED_BACKENDS],
        );
        return rows.map((row) => row.pid);
      }),
    /**
     * What the run made the server do, summed over the schema's tables: scans and rows written.
     * Read it after the run's processes have exited, so their statistics are flushed.
     */
    tableStats: () =>
      withClient(databaseUrl, async (client) => {
        const { rows } = await client.query(
          `SELECT coalesce(sum(seq_scan), 0)::int AS seq_scans, coalesce(sum(idx_scan), 0)::int AS index_scans,
                  coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int AS rows_written,
                  coalesce(sum(n_dead_tup), 0)::int AS dead_rows
           FROM pg_stat_user_tables WHERE schemaname = $1`,
          [name],
        );
        const bySeqScans = await client.query(
          `SELECT relname, seq_scan FROM pg_stat_user_tables WHERE schemaname = $1 AND seq_scan > 0
           ORDER BY seq_scan DESC LIMIT 3`,
          [name],
        );
        return { ...rows[0], seqScansByTable: Object.fromEntries(bySeqScans.rows.map((r) => [r.relname, r.seq_scan])) };
      }),
    /** Runs one statement with search_path set to this schema; for diagnosing a failed run. */
    query: (sql, params = []) =>
      withClient(databaseUrl, async (client) => {
        await client.query(`SET search_path TO ${name}`);
        return (await client.query(sql, params)).rows;
      }),
    drop,
  };
}
