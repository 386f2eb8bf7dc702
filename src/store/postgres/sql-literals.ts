import pg from 'pg';

/** What a statement sent as literals may hold: numbers, text, and arrays of them (NULLs included). */
export type LiteralValue = number | string | readonly (number | string | null)[];

/** One element of a PostgreSQL array literal: quoted, with `"` and `\` escaped (docs: "Array Value Input"). */
function arrayElement(value: number | string | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A value as an SQL literal: the text of an array literal (`'{…}'`) for arrays, quoted by pg.escapeLiteral. */
export function sqlLiteral(value: LiteralValue): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return pg.escapeLiteral(value);
  return pg.escapeLiteral(`{${value.map(arrayElement).join(',')}}`);
}

/**
 * The statement with its `$n` placeholders replaced by literals, for the simple query protocol:
 * the only way node-postgres sends several statements (one ending the transaction) in one round
 * trip. Each placeholder must carry its cast (`$1::text[]`), as a typed parameter would.
 */
export function withLiterals(text: string, values: readonly LiteralValue[]): string {
  return text.replace(/\$(\d+)/g, (_placeholder, n: string) => {
    const value = values[Number(n) - 1];
    if (value === undefined) throw new Error(`no value for $${n}`);
    return sqlLiteral(value);
  });
}
