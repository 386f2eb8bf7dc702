import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../src/store/open-store.js';
import { TEST_DATABASE_URL, testDatabaseUrl, testSchema } from '../support/test-database.js';

// The two dialects' migrations (src/store/sqlite/schema.ts, src/store/postgres/schema.ts) are
// written by hand, side by side. This test migrates a fresh SQLite file and a fresh PostgreSQL
// schema the way `herald migrate` does and compares what they hold: tables, columns (type, NOT
// NULL), primary keys, unique column sets and indexes by name. Each side is described as a list
// of facts ("column messages.seq: integer"); a fact one side has and the other lacks fails the
// test, unless DIALECT_ONLY lists it with the reason. Not compared: defaults, CHECKs, foreign
// keys, collations (PostgreSQL's COLLATE "C" is what gives it SQLite's byte order) and what an
// index's expression computes (a column `(expression)`).

/**
 * Column types, as the kind of value they hold. SQLite's INTEGER is 64-bit: PostgreSQL's integer
 * (32-bit) matches it only for small counts, so timestamps are checked to be bigint separately.
 */
const TYPE_KINDS: Record<'sqlite' | 'postgres', Record<string, string>> = {
  sqlite: { TEXT: 'text', INTEGER: 'integer', BLOB: 'bytes' },
  postgres: { text: 'text', integer: 'integer', bigint: 'integer', bytea: 'bytes', boolean: 'boolean' },
};

/** Facts only one dialect has, on purpose. A fact listed here that both have (or neither) fails too. */
const DIALECT_ONLY: { fact: string; on: 'sqlite' | 'postgres'; reason: string }[] = [
  {
    fact: 'column attempts.seq: integer not null',
    on: 'postgres',
    reason:
      "stands in for SQLite's rowid: attempts made in the same millisecond are read back in the order they were written",
  },
  { fact: 'primary key attempts (seq)', on: 'postgres', reason: 'the same: SQLite keys attempts by rowid' },
  { fact: 'column integrations.enabled: integer not null', on: 'sqlite', reason: 'SQLite has no boolean type (0/1)' },
  { fact: 'column integrations.enabled: boolean not null', on: 'postgres', reason: 'the same column as a boolean' },
  { fact: 'column triggers.test: integer not null', on: 'sqlite', reason: 'SQLite has no boolean type (0/1)' },
  { fact: 'column triggers.test: boolean not null', on: 'postgres', reason: 'the same column as a boolean' },
  { fact: 'column messages.test: integer not null', on: 'sqlite', reason: 'SQLite has no boolean type (0/1)' },
  { fact: 'column messages.test: boolean not null', on: 'postgres', reason: 'the same column as a boolean' },
  {
    fact: 'index api_keys_by_id on api_keys (id) unique',
    on: 'postgres',
    reason:
      'api_keys.id is unique on both (see the unique facts): SQLite declares it UNIQUE when migration 5 rebuilds ' +
      'the table, PostgreSQL adds the column to the existing table and indexes it',
  },
  {
    fact: 'index subscribers_by_id on subscribers (environment_id, subscriber_id)',
    on: 'postgres',
    reason:
      'lists subscribers in byte order (COLLATE "C") whatever the database\'s collation; SQLite\'s primary key ' +
      'is in byte order already',
  },
];

interface ColumnFact {
  name: string;
  type: string;
  notNull: boolean;
}
interface IndexFact {
  name: string;
  columns: string[];
  unique: boolean;
  partial: boolean;
  /** Made by CREATE INDEX, not by a PRIMARY KEY or UNIQUE constraint. */
  explicit: boolean;
}
interface TableFacts {
  columns: ColumnFact[];
  primaryKey: string[];
  indexes: IndexFact[];
}

function typeKind(dialect: 'sqlite' | 'postgres', table: string, column: ColumnFact): string {
  const kind = TYPE_KINDS[dialect][column.type];
  if (!kind) throw new Error(`${dialect} ${table}.${column.name} is ${column.type}: add it to TYPE_KINDS`);
  return kind;
}

/** One line per fact, sorted: what the comparison and its failure message read. */
function facts(dialect: 'sqlite' | 'postgres', tables: Map<string, TableFacts>): string[] {
  const lines: string[] = [];
  for (const [table, { columns, primaryKey, indexes }] of tables) {
    lines.push(`table ${table}`);
    for (const column of columns) {
      lines.push(
        `column ${table}.${column.name}: ${typeKind(dialect, table, column)}${column.notNull ? ' not null' : ''}`,
      );
    }
    if (primaryKey.length > 0) lines.push(`primary key ${table} (${primaryKey.join(', ')})`);
    for (const index of indexes) {
      if (index.unique && !index.partial) lines.push(`unique ${table} (${index.columns.join(', ')})`);
      if (index.explicit) {
        const traits = [index.unique && 'unique', index.partial && 'partial'].filter(Boolean).join(' ');
        lines.push(`index ${index.name} on ${table} (${index.columns.join(', ')})${traits ? ` ${traits}` : ''}`);
      }
    }
  }
  return [...new Set(lines)].sort();
}

function sqliteTables(path: string): Map<string, TableFacts> {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    const tables = new Map<string, TableFacts>();
    const names = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
      .pluck()
      .all() as string[];
    for (const table of names) {
      const info = db.prepare('SELECT name, type, "notnull", pk FROM pragma_table_info(?)').all(table) as {
        name: string;
        type: string;
        notnull: number;
        pk: number;
      }[];
      // PostgreSQL makes a primary-key column NOT NULL; SQLite would take a NULL in a rowid table's
      // TEXT key (a documented quirk), and Herald never writes one: count it as NOT NULL.
      const columns = info.map((c) => ({
        name: c.name,
        type: c.type.toUpperCase(),
        notNull: c.notnull === 1 || c.pk > 0,
      }));
      const primaryKey = info
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name);
      const list = db.prepare('SELECT name, "unique", origin, partial FROM pragma_index_list(?)').all(table) as {
        name: string;
        unique: number;
        origin: 'c' | 'u' | 'pk';
        partial: number;
      }[];
      const indexes = list
        .filter((index) => index.origin !== 'pk')
        .map((index) => ({
          name: index.name,
          columns: (
            db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(index.name) as {
              name: string | null;
            }[]
          ).map((c) => c.name ?? '(expression)'),
          unique: index.unique === 1,
          partial: index.partial === 1,
          explicit: index.origin === 'c',
        }));
      tables.set(table, { columns, primaryKey, indexes });
    }
    return tables;
  } finally {
    db.close();
  }
}

async function postgresTables(client: pg.Client, schema: string): Promise<Map<string, TableFacts>> {
  const tables = new Map<string, TableFacts>();
  const { rows: columns } = await client.query<{ table: string; name: string; type: string; nullable: string }>(
    `SELECT c.table_name AS table, c.column_name AS name, c.data_type AS type, c.is_nullable AS nullable
     FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
     ORDER BY c.table_name, c.ordinal_position`,
    [schema],
  );
  for (const column of columns) {
    if (!tables.has(column.table)) tables.set(column.table, { columns: [], primaryKey: [], indexes: [] });
    tables.get(column.table)!.columns.push({ name: column.name, type: column.type, notNull: column.nullable === 'NO' });
  }
  // pg_indexes names them; pg_index says which back a constraint, which are unique or partial.
  const { rows: indexes } = await client.query<{
    table: string;
    name: string;
    columns: string[];
    unique: boolean;
    primary: boolean;
    partial: boolean;
    constraint: boolean;
  }>(
    `SELECT x.tablename AS table, x.indexname AS name,
            array(SELECT coalesce(a.attname::text, '(expression)') FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                  LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns,
            i.indisunique AS unique, i.indisprimary AS primary, i.indpred IS NOT NULL AS partial,
            EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) AS constraint
     FROM pg_indexes x
     JOIN pg_class ic ON ic.relname = x.indexname
     JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = x.schemaname
     JOIN pg_index i ON i.indexrelid = ic.oid
     WHERE x.schemaname = $1`,
    [schema],
  );
  for (const index of indexes) {
    const table = tables.get(index.table)!;
    if (index.primary) table.primaryKey = index.columns;
    else {
      table.indexes.push({
        name: index.name,
        columns: index.columns,
        unique: index.unique,
        partial: index.partial,
        explicit: !index.constraint,
      });
    }
  }
  return tables;
}

describe('the SQLite and PostgreSQL schemas, fully migrated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-schemas-'));
  const schema = testSchema();
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let sqlite: Map<string, TableFacts>;
  let postgres: Map<string, TableFacts>;

  beforeAll(async () => {
    await client.connect();
    await migrateDatabase({ database: join(dir, 'herald.db'), dataDir: dir });
    await migrateDatabase({ database: testDatabaseUrl(schema), dataDir: dir });
    sqlite = sqliteTables(join(dir, 'herald.db'));
    postgres = await postgresTables(client, schema);
  });
  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('were read (every table has columns, messages its indexes)', () => {
    expect(sqlite.get('messages')?.indexes.length).toBeGreaterThan(3);
    expect([...postgres.keys()].sort()).toEqual(expect.arrayContaining(['messages', 'herald_migrations']));
  });

  it('agree: same tables, columns, keys and indexes, but for the differences DIALECT_ONLY explains', () => {
    const sqliteFacts = facts('sqlite', sqlite);
    const postgresFacts = facts('postgres', postgres);
    const allowed = (on: 'sqlite' | 'postgres', fact: string) =>
      DIALECT_ONLY.some((entry) => entry.on === on && entry.fact === fact);
    const onlySqlite = sqliteFacts.filter((fact) => !postgresFacts.includes(fact));
    const onlyPostgres = postgresFacts.filter((fact) => !sqliteFacts.includes(fact));
    expect({
      onlySqlite: onlySqlite.filter((fact) => !allowed('sqlite', fact)),
      onlyPostgres: onlyPostgres.filter((fact) => !allowed('postgres', fact)),
    }).toEqual({ onlySqlite: [], onlyPostgres: [] });
    // Every exception still applies: one that no longer does is removed, not kept "just in case".
    const stale = DIALECT_ONLY.filter(
      (entry) => !(entry.on === 'sqlite' ? onlySqlite : onlyPostgres).includes(entry.fact),
    );
    expect(stale).toEqual([]);
  });

  it('store millisecond timestamps as bigint on PostgreSQL (an integer would end in January 1970)', () => {
    const narrow: string[] = [];
    for (const [table, { columns }] of postgres) {
      for (const column of columns) {
        if (/_at$/.test(column.name) && column.type !== 'bigint')
          narrow.push(`${table}.${column.name}: ${column.type}`);
      }
    }
    expect(narrow).toEqual([]);
  });
});
