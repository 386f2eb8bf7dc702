import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CLAIM } from '../../dist/store/postgres/claim-jobs.js';
import { listMessagesQuery } from '../../dist/store/postgres/list-messages.js';
import { createPostgresStore } from '../../dist/store/postgres/postgres-store.js';
import { completionsFor, elideLists, listFilters, oneLine, SEED_ATTEMPTS, statusSql } from './explain-shape.js';

/**
 * PostgreSQL: a schema of its own, migrated by Herald's store, seeded server-side, VACUUM
 * ANALYZEd; then `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)` of each query, inside a transaction that
 * is rolled back. The claim and list SQL is imported from dist/; the rest is captured from the
 * store's own calls (see `capture`). The schema is dropped at the end unless `keep`.
 */
export async function explainPostgres(databaseUrl, shape, { keep = false } = {}) {
  const schema = `herald_explain_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
  await admin.connect();
  let store;
  try {
    store = await createPostgresStore({ connectionString: databaseUrl, schema, poolSize: 2 });
    const started = performance.now();
    await seed(admin, shape);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const { version } = (await admin.query(`SELECT current_setting('server_version') AS version`)).rows[0];
    console.log(`# PostgreSQL ${version}: seeded ${shape.messages.toLocaleString('en')} messages in ${seconds} s`);
    await report(admin, store, shape);
  } finally {
    await store?.close();
    if (keep) console.log(`kept schema ${schema}`);
    else await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

async function seed(admin, shape) {
  const q = (text, values) => admin.query(text, values);
  const { env, now, day, perTrigger, subscribers } = shape;
  // Crockford base32 of a timestamp, as ids.ts writes it; the random part of an id is hex, which
  // is a subset of the same alphabet, so the seeded ids sort exactly as Herald's do.
  await q(`CREATE FUNCTION pg_temp.b32(v bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz', ((v >> (5 * (9 - i))) & 31)::int + 1, 1), ''
                      ORDER BY i)
    FROM generate_series(0, 9) AS i $$`);
  await q(`INSERT INTO workflows VALUES ($1, 'digest', 'Digest', 1, 'wfv_seed', 0, 0)`, [env]);
  await q(
    `INSERT INTO workflow_versions VALUES ('wfv_seed', $1, 'digest', 'Digest', 1,
       '[{"type":"email","subject":"Your digest","text":"Hello"}]', 0)`,
    [env],
  );
  await q(
    `INSERT INTO subscribers (environment_id, subscriber_id, email, name, data, created_at, updated_at)
     SELECT $1, 's' || n, 's' || n || '@example.com', 'Subscriber ' || n, '{"plan":"pro"}', $2, $2
     FROM generate_series(0, $3 - 1) AS n`,
    [env, now - 90 * day, subscribers],
  );
  await q(
    `CREATE TEMP TABLE seed_triggers AS
     SELECT k, at, 'trg_' || pg_temp.b32(at) || substr(md5(k::text), 1, 16) AS id, 'msg_' || pg_temp.b32(at) AS prefix
     FROM (SELECT k, $1::bigint + k * $2::bigint AS at FROM generate_series(0, $3 - 1) AS k) t`,
    [shape.firstAt, shape.step, shape.triggers],
  );
  await q(
    `INSERT INTO triggers (id, environment_id, workflow_key, workflow_version_id, data, created_at)
     SELECT id, $1, 'digest', 'wfv_seed', '{"items":[' || repeat('{"title":"An item","url":"https://example.com/x"},', 8) || '{}]}', at
     FROM seed_triggers ORDER BY k`,
    [env],
  );
  // Appended in id order, as Herald's inserts are. j % 4 = 0: a first attempt was retried.
  await q(
    `INSERT INTO messages (id, environment_id, trigger_id, workflow_key, workflow_version_id, subscriber_id,
                           channel, step_index, status, reason, recipient, subject, content, attempt_count,
                           failed_attempts, provider_message_id, created_at, updated_at, sent_at)
     SELECT id, $1, trigger_id, 'digest', 'wfv_seed', 's' || sub, 'email', 0, status,
            CASE status WHEN 'failed' THEN '550 5.1.1 <s' || sub || '@example.com>: no such user'
                        WHEN 'skipped' THEN 'no email address' WHEN 'retrying' THEN '451 4.7.1 try again later' END,
            CASE WHEN status IN ('sent', 'failed', 'retrying') THEN 's' || sub || '@example.com' END,
            CASE WHEN status = 'sent' THEN 'Your digest for this week' END,
            CASE WHEN status = 'sent' THEN $2::bytea END,
            CASE WHEN status IN ('queued', 'sending', 'skipped') THEN 0 WHEN j % 4 = 0 AND status <> 'retrying' THEN 2 ELSE 1 END,
            CASE WHEN status IN ('failed', 'retrying') OR (status = 'sent' AND j % 4 = 0) THEN 1 ELSE 0 END,
            CASE WHEN status = 'sent' THEN '<' || id || '@example.com>' END,
            at, at + 2000, CASE WHEN status = 'sent' THEN at + 2000 END
     FROM (SELECT t.prefix || substr(md5(t.k || ':' || j), 1, 16) AS id, t.id AS trigger_id, t.at, j,
                  (t.k * ${perTrigger} + j) % ${subscribers} AS sub, ${statusSql(shape, 't.k', 'j')} AS status
           FROM seed_triggers t CROSS JOIN generate_series(0, ${perTrigger - 1}) AS j) m
     ORDER BY id`,
    [env, shape.content],
  );
  await q(SEED_ATTEMPTS);
  await q(
    `INSERT INTO jobs (id, message_id, available_at, locked_by, claims, created_at)
     SELECT id, id,
            CASE status WHEN 'queued' THEN created_at WHEN 'sending' THEN $1::bigint + 30000
                        ELSE $1::bigint + (abs(hashtext(id)) % 21600) * 1000 END,
            CASE WHEN status = 'sending' THEN 'worker-1' END,
            CASE WHEN status = 'queued' THEN 0 ELSE 1 END, created_at
     FROM messages WHERE status IN ('queued', 'sending', 'retrying') ORDER BY id`,
    [now],
  );
  await q('VACUUM ANALYZE');
}

async function report(admin, store, shape) {
  const { env, now } = shape;
  const counts = (
    await admin.query(
      `SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM attempts) AS attempts,
              (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM jobs WHERE available_at <= $1) AS due,
              pg_size_pretty(pg_total_relation_size('messages')) AS messages_size,
              current_setting('shared_buffers') AS shared_buffers`,
      [now],
    )
  ).rows[0];
  console.log(`rows: ${JSON.stringify(counts)}\n`);

  const pick = async (sql) => (await admin.query(sql)).rows[0];
  const middle = await pick(`SELECT id, trigger_id FROM messages WHERE status = 'sent' AND attempt_count = 2
    AND id >= (SELECT id FROM messages ORDER BY id OFFSET ${Math.floor((shape.sending * shape.perTrigger) / 2)} LIMIT 1)
    ORDER BY id LIMIT 1`);
  const later = await pick(`SELECT id FROM messages ORDER BY id DESC OFFSET 120 LIMIT 1`);
  const explain = (title, statement) => explainOne(admin, title, statement);

  await explain('claim 100 due jobs (claim-jobs.ts)', { text: CLAIM, values: [now, 100, now + 30_000, 'explain'] });
  for (const [title, filter] of listFilters(middle, later)) {
    await explain(`delivery log: ${title} (list-messages.ts)`, listMessagesQuery(env, { limit: 50, ...filter }));
  }
  for (const s of await capture(() => store.getMessage(env, middle.id))) await explain('getMessage', s);
  for (const s of await capture(() => store.nextJobDueAt())) await explain('nextJobDueAt', s);
  for (const s of await capture(() => store.queueStats(now))) await explain('queueStats (every /metrics scrape)', s);

  const held = (await admin.query(`SELECT id FROM jobs WHERE locked_by = 'worker-1' ORDER BY id LIMIT 100`)).rows;
  const completions = completionsFor(
    held.map((row) => row.id),
    'worker-1',
    now,
  );
  for (const s of await capture(() => store.completeJobs(completions), { dryRun: true })) {
    await explain('completeJobs, 100 completions (complete-jobs.ts)', s);
  }
  for (const s of await capture(() => store.pruneMessages(now - 30 * shape.day, 500), { dryRun: true })) {
    await explain('retention batch of 500 (prune-messages.ts)', s);
  }
}

/**
 * Runs `work` and returns the statements it sent through pg (Client.query, wrapped meanwhile).
 * With `dryRun`, statements that write are only recorded, answered with no rows: the reads they
 * depend on still run, and the database is left as it was.
 */
async function capture(work, { dryRun = false } = {}) {
  const original = pg.Client.prototype.query;
  const statements = [];
  pg.Client.prototype.query = function (config, values, callback) {
    const text = typeof config === 'string' ? config : config.text;
    if (/^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(text))
      return original.call(this, config, values, callback);
    statements.push({ text, values: Array.isArray(values) ? values : (config.values ?? []) });
    if (dryRun && /^\s*(INSERT|UPDATE|DELETE|WITH)/i.test(text)) {
      const result = { rows: [], rowCount: 0, fields: [] };
      // pg.Pool#query passes a callback; a client checked out by the store awaits the promise.
      const done = typeof values === 'function' ? values : callback;
      if (done) return void process.nextTick(done, null, result);
      return Promise.resolve(result);
    }
    return original.call(this, config, values, callback);
  };
  try {
    await work();
  } finally {
    pg.Client.prototype.query = original;
  }
  return statements;
}

/** Prints the statement and its plan, executed inside a transaction that is rolled back. */
async function explainOne(admin, title, { text, values }) {
  await admin.query('BEGIN');
  try {
    const { rows } = await admin.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, values);
    console.log(`## ${title}\n\n${oneLine(text)}\n`);
    console.log(rows.map((row) => elideLists(row['QUERY PLAN'])).join('\n') + '\n');
  } finally {
    await admin.query('ROLLBACK');
  }
}
