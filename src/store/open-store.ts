import { join, resolve } from 'node:path';
import type { Store } from '../core/store.js';
import { connectionConfig, createPool } from './postgres/connection.js';
import { migratePostgres } from './postgres/migrate.js';
import { createPostgresStore } from './postgres/postgres-store.js';
import { migrateSqlite } from './sqlite/migrate.js';
import { openSqlite } from './sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from './sqlite/threaded-sqlite-store.js';

/**
 * The settings that name a database (config/settings.ts). `herald serve` and every CLI command
 * open and migrate their database through this file, so they cannot read these differently.
 */
export interface DatabaseSettings {
  /** A postgres:// URL (`?schema=` is Herald's), a SQLite file path, or empty for `<dataDir>/herald.db`. */
  database: string;
  dataDir: string;
  /** PostgreSQL connections in this process's pool. */
  dbPool: number;
  /** Apply pending migrations on open (the default); with false the schema must already be current. */
  migrate?: boolean;
}

export interface OpenStoreOptions {
  /** How long an Idempotency-Key holds (the stores' default: 24 h). */
  idempotencyWindowMs?: number;
  /** Called if the SQLite thread dies: nothing more can be written, so the process should stop. */
  onFatal?: (error: Error) => void;
}

type DatabaseTarget =
  { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; connectionString: string; schema: string | undefined };

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//.test(database);
}

/** The SQLite file the settings point at. */
export function databasePath(settings: Pick<DatabaseSettings, 'database' | 'dataDir'>): string {
  return resolve(settings.database || join(settings.dataDir, 'herald.db'));
}

function targetOf(settings: Pick<DatabaseSettings, 'database' | 'dataDir'>): DatabaseTarget {
  if (!isPostgresUrl(settings.database)) return { dialect: 'sqlite', path: databasePath(settings) };
  // `?schema=` is Herald's, not libpq's: take it out before pg sees the URL.
  const url = new URL(settings.database);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return { dialect: 'postgres', connectionString: url.toString(), schema };
}

/** Where the data lives, for people: the SQLite path, or the PostgreSQL URL without its password. */
export function describeDatabase(settings: Pick<DatabaseSettings, 'database' | 'dataDir'>): string {
  if (!isPostgresUrl(settings.database)) return databasePath(settings);
  const url = new URL(settings.database);
  if (url.password) url.password = '***';
  return url.toString();
}

/**
 * Opens the store the settings name: PostgreSQL for a postgres:// URL, else SQLite (in its own
 * thread). It migrates the schema unless `migrate` is false; then the schema must already be
 * current, or opening fails naming `herald migrate`.
 */
export async function openStore(settings: DatabaseSettings, options: OpenStoreOptions = {}): Promise<Store> {
  const target = targetOf(settings);
  const migrate = settings.migrate !== false;
  const store =
    target.dialect === 'postgres'
      ? await createPostgresStore({
          connectionString: target.connectionString,
          schema: target.schema,
          poolSize: settings.dbPool,
          idempotencyWindowMs: options.idempotencyWindowMs,
          migrate,
        })
      : await createThreadedSqliteStore({
          path: target.path,
          idempotencyWindowMs: options.idempotencyWindowMs,
          onFatal: options.onFatal,
          migrate,
        });
  if (!migrate) {
    try {
      await store.ping();
    } catch (error) {
      await store.close();
      throw new Error(
        `--no-migrate: the database schema is not current (${(error as Error).message}); run \`herald migrate\` first`,
      );
    }
  }
  return store;
}

/**
 * Applies the pending migrations of the database the settings name, with the same migrations the
 * stores apply on open (PostgreSQL: under its advisory lock, on one connection). Returns the ids
 * applied, none when the schema was current.
 */
export async function migrateDatabase(settings: Pick<DatabaseSettings, 'database' | 'dataDir'>): Promise<number[]> {
  const target = targetOf(settings);
  if (target.dialect === 'sqlite') {
    const db = openSqlite(target.path);
    try {
      return migrateSqlite(db);
    } finally {
      db.close();
    }
  }
  const pool = createPool({
    ...connectionConfig(target.connectionString, target.schema),
    max: 1,
    connectionTimeoutMillis: 10_000,
  });
  try {
    return await migratePostgres(pool, target.schema);
  } finally {
    await pool.end();
  }
}
