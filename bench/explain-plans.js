/**
 * The plans of Herald's hot-path queries at 1,000,000 messages, on PostgreSQL and on SQLite
 * (docs/query-plans.md holds the latest output, trimmed).
 *
 *   npm run build && node bench/explain-plans.js --database postgres://postgres@127.0.0.1:5432/test
 *
 * Each store gets a fresh database (a PostgreSQL schema of its own, a temp SQLite file), migrated by
 * Herald's own store code and seeded in SQL: one environment, 10,000 subscribers, 1,000 triggers of
 * 1,000 messages over the last 60 days (ids in Herald's format, so they sort the same), mostly
 * sent, some failed, skipped and retrying, ~1.2 attempts per delivered message, and a job backlog
 * of 50,000 due and 1,000 leased. Then every query below is shown with its plan: the claim, the
 * delivery log with each filter, getMessage, queueStats and nextJobDueAt, a batch of completions
 * and a retention batch. The SQL is Herald's own, imported from dist/ or captured from the store's
 * calls, never a copy. Both databases are removed at the end.
 *
 *   --store postgres|sqlite|both   (both)
 *   --messages n                   (1000000; rounded to whole triggers of 1,000)
 *   --keep                         keep the PostgreSQL schema for experiments (drop it yourself)
 */
import { parseArgs } from 'node:util';
import { explainPostgres } from './support/explain-postgres.js';
import { explainShape } from './support/explain-shape.js';
import { explainSqlite } from './support/explain-sqlite.js';

const { values: args } = parseArgs({
  options: {
    database: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    store: { type: 'string', default: 'both' },
    messages: { type: 'string', default: '1000000' },
    keep: { type: 'boolean', default: false },
  },
});
if (!['postgres', 'sqlite', 'both'].includes(args.store)) throw new Error('--store must be postgres, sqlite or both');

const shape = explainShape(Number(args.messages));
if (args.store !== 'sqlite') await explainPostgres(args.database, shape, { keep: args.keep });
if (args.store !== 'postgres') await explainSqlite(shape);
