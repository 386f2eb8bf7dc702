import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createSqliteStore } from '../../dist/store/sqlite/sqlite-store.js';
import { completionsFor, listFilters, oneLine, SEED_ATTEMPTS, statusSql } from './explain-shape.js';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * SQLite: a temp file migrated by Herald's store (in process, the same code its thread runs),
 * seeded with the same shape as PostgreSQL. Not ANALYZEd: Herald never runs ANALYZE, so the plans
 * shown are the ones its databases get. Each store call runs for real (the file is thrown away)
 * while its statements are captured; each is then shown with `EXPLAIN QUERY PLAN` and, for reads,
 * the median time of 20 runs.
 */
export async function explainSqlite(shape) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-explain-'));
  const path = join(dir, 'herald.db');
  try {
    await createSqliteStore({ path }).close(); // migrates
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    const started = performance.now();
    seed(db, shape);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const version = db.prepare('SELECT sqlite_version() AS v').get().v;
    console.log(`# SQLite ${version}: seeded ${shape.messages.toLocaleString('en')} messages in ${seconds} s\n`);
    const store = createSqliteStore({ path });
    try {
      await report(db, store, shape);
    } finally {
      await store.close();
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Crockford base32 of a millisecond time in SQL, as ids.ts writes it. */
function b32(expr) {
  return Array.from({ length: 10 }, (_, i) => `substr('${CROCKFORD}', ((${expr} >> ${5 * (9 - i)}) & 31) + 1, 1)`).join(
    ' || ',
  );
}

function seed(db, shape) {
  const { env, now, day, perTrigger, subscribers } = shape;
  const counter = (name, to) => `${name}(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM ${name} WHERE n < ${to - 1})`;
  db.transaction(() => {
    db.prepare(`INSERT INTO workflows VALUES (?, 'digest', 'Digest', 1, 'wfv_seed', 0, 0)`).run(env);
    db.prepare(
      `INSERT INTO workflow_versions VALUES ('wfv_seed', ?, 'digest', 'Digest', 1,
         '[{"type":"email","subject":"Your digest","text":"Hello"}]', 0)`,
    ).run(env);
    db.prepare(
      `WITH RECURSIVE ${counter('s', subscribers)}
       INSERT INTO subscribers (environment_id, subscriber_id, email, name, data, created_at, updated_at)
       SELECT @env, 's' || n, 's' || n || '@example.com', 'Subscriber ' || n, '{"plan":"pro"}', @at, @at FROM s`,
    ).run({ env, at: now - 90 * day });
    db.exec(`CREATE TEMP TABLE seed_triggers AS
      WITH RECURSIVE ${counter('t', shape.triggers)}
      SELECT n AS k, at, 'trg_' || ${b32('at')} || lower(hex(randomblob(8))) AS id, 'msg_' || ${b32('at')} AS prefix
      FROM (SELECT n, ${shape.firstAt} + n * ${shape.step} AS at FROM t)`);
    db.prepare(
      `INSERT INTO triggers (id, environment_id, workflow_key, workflow_version_id, data, created_at)
       SELECT id, ?, 'digest', 'wfv_seed', '{"items":[' || replace(printf('%8s', ''), ' ', '{"title":"An item","url":"https://example.com/x"},') || '{}]}', at
       FROM seed_triggers ORDER BY k`,
    ).run(env);
    // Appended in id order, as Herald's inserts are. j % 4 = 0: a first attempt was retried.
    db.prepare(
      `WITH RECURSIVE ${counter('j', perTrigger)}
       INSERT INTO messages (id, environment_id, trigger_id, workflow_key, workflow_version_id, subscriber_id,
                             channel, step_index, status, reason, recipient, subject, content, attempt_count,
                             failed_attempts, provider_message_id, created_at, updated_at, sent_at)
       SELECT id, @env, trigger_id, 'digest', 'wfv_seed', 's' || sub, 'email', 0, status,
              CASE status WHEN 'failed' THEN '550 5.1.1 <s' || sub || '@example.com>: no such user'
                          WHEN 'skipped' THEN 'no email address' WHEN 'retrying' THEN '451 4.7.1 try again later' END,
              CASE WHEN status IN ('sent', 'failed', 'retrying') THEN 's' || sub || '@example.com' END,
              CASE WHEN status = 'sent' THEN 'Your digest for this week' END,
              CASE WHEN status = 'sent' THEN @content END,
              CASE WHEN status IN ('queued', 'sending', 'skipped') THEN 0 WHEN j % 4 = 0 AND status <> 'retrying' THEN 2 ELSE 1 END,
              CASE WHEN status IN ('failed', 'retrying') OR (status = 'sent' AND j % 4 = 0) THEN 1 ELSE 0 END,
              CASE WHEN status = 'sent' THEN '<' || id || '@example.com>' END,
              at, at + 2000, CASE WHEN status = 'sent' THEN at + 2000 END
       FROM (SELECT t.prefix || lower(hex(randomblob(8))) AS id, t.id AS trigger_id, t.at, j.n AS j,
                    (t.k * ${perTrigger} + j.n) % ${subscribers} AS sub, ${statusSql(shape, 't.k', 'j.n')} AS status
             FROM seed_triggers t, j)
       ORDER BY id`,
    ).run({ env, content: shape.content });
    db.exec(SEED_ATTEMPTS);
    db.prepare(
      `INSERT INTO jobs (id, message_id, available_at, locked_by, claims, created_at)
       SELECT id, id,
              CASE status WHEN 'queued' THEN created_at WHEN 'sending' THEN @now + 30000
                          ELSE @now + (abs(random()) % 21600) * 1000 END,
              CASE WHEN status = 'sending' THEN 'worker-1' END,
              CASE WHEN status = 'queued' THEN 0 ELSE 1 END, created_at
       FROM messages WHERE status IN ('queued', 'sending', 'retrying') ORDER BY id`,
    ).run({ now });
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
}

async function report(db, store, shape) {
  const { env, now } = shape;
  const middle = db
    .prepare(
      `SELECT id, trigger_id FROM messages WHERE status = 'sent' AND attempt_count = 2
       AND id >= (SELECT id FROM messages ORDER BY id LIMIT 1 OFFSET ?) ORDER BY id LIMIT 1`,
    )
    .get(Math.floor((shape.sending * shape.perTrigger) / 2));
  const later = db.prepare('SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET 120').get();
  const show = (title, captured) => {
    for (const { source, args } of captured.statements) explainOne(db, title, source, args);
    if (captured.writes) console.log(`(the whole call, committed: ${captured.ms.toFixed(2)} ms)\n`);
  };

  // Writes first, as a worker does them: claim 100, complete them, one retention batch.
  const claim = await capture(() => store.claimJobs('explain', 100, now, 30_000), true);
  show('claim 100 due jobs (claim-jobs.ts)', claim);
  const held = db.prepare(`SELECT id FROM jobs WHERE locked_by = 'explain' ORDER BY id`).all();
  const completions = completionsFor(
    held.map((row) => row.id),
    'explain',
    now,
  );
  show('completeJobs, 100 completions (complete-jobs.ts)', await capture(() => store.completeJobs(completions), true));
  show(
    'retention batch of 500 (prune-messages.ts)',
    await capture(() => store.pruneMessages(now - 30 * shape.day, 500), true),
  );

  for (const [title, filter] of listFilters(middle, later)) {
    show(`delivery log: ${title}`, await capture(() => store.listMessages(env, { limit: 50, ...filter })));
  }
  show('getMessage', await capture(() => store.getMessage(env, middle.id)));
  show('nextJobDueAt', await capture(() => store.nextJobDueAt()));
  show('queueStats (every /metrics scrape)', await capture(() => store.queueStats(now)));
}

/**
 * Runs `work` and returns the distinct statements it ran (better-sqlite3's Statement methods,
 * wrapped meanwhile), with the arguments of their first run, and how long the call took.
 */
async function capture(work, writes = false) {
  const proto = Object.getPrototypeOf(new BetterSqlite3(':memory:').prepare('SELECT 1'));
  const originals = { run: proto.run, get: proto.get, all: proto.all };
  const statements = new Map();
  for (const [name, original] of Object.entries(originals)) {
    proto[name] = function (...args) {
      if (!/^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(this.source) && !statements.has(this.source)) {
        statements.set(this.source, { source: this.source, args });
      }
      return original.apply(this, args);
    };
  }
  const started = performance.now();
  try {
    await work();
  } finally {
    Object.assign(proto, originals);
  }
  return { statements: [...statements.values()], ms: performance.now() - started, writes };
}

/** Prints the statement, its query plan as a tree and, for a read, its median time over 20 runs. */
function explainOne(db, title, source, args) {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...args);
  const depth = new Map([[0, -1]]);
  const lines = rows.map((row) => {
    depth.set(row.id, depth.get(row.parent) + 1);
    return `${'  '.repeat(depth.get(row.id))}${row.detail}`;
  });
  let timing = '';
  if (/^\s*(SELECT|WITH)/i.test(source)) {
    const statement = db.prepare(source);
    const times = Array.from({ length: 20 }, () => {
      const started = performance.now();
      statement.all(...args);
      return performance.now() - started;
    }).sort((a, b) => a - b);
    timing = `\n(median of 20 runs: ${times[10].toFixed(3)} ms)`;
  }
  console.log(`## ${title}\n\n${oneLine(source)}\n\n${lines.join('\n')}${timing}\n`);
}
