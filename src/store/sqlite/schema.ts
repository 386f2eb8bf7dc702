import type { Migration } from '../migration.js';

/** The SQLite schema, in order; `migrate.ts` applies what `herald_migrations` does not list yet. */
export const SQLITE_MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'initial',
    sql: `
CREATE TABLE environments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
-- Herald starts with one environment; API keys belong to it unless told otherwise.
INSERT INTO environments (id, name, created_at) VALUES ('env_development', 'development', 0);

CREATE TABLE api_keys (
  hash TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id),
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE subscribers (
  environment_id TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  email TEXT,
  phone TEXT,
  name TEXT,
  locale TEXT,
  timezone TEXT,
  data TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, subscriber_id)
) WITHOUT ROWID;

CREATE TABLE workflows (
  environment_id TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  version_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, key)
) WITHOUT ROWID;

-- Immutable: a message renders the version its trigger saw, even after the workflow changes.
CREATE TABLE workflow_versions (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  steps TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE triggers (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  workflow_key TEXT NOT NULL,
  workflow_version_id TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  workflow_key TEXT NOT NULL,
  workflow_version_id TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  recipient TEXT,
  subject TEXT,
  content BLOB, -- deflated JSON {html, text}: see ../content.ts
  attempt_count INTEGER NOT NULL DEFAULT 0,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  provider_message_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  sent_at INTEGER
);
-- The delivery log lists newest first (ids are time-ordered) within an environment, optionally
-- narrowed to one trigger, subscriber or status.
CREATE INDEX messages_by_environment ON messages (environment_id, id);
CREATE INDEX messages_by_trigger ON messages (trigger_id, id);
CREATE INDEX messages_by_subscriber ON messages (environment_id, subscriber_id, id);
CREATE INDEX messages_by_status ON messages (environment_id, status, id);

CREATE TABLE attempts (
  message_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX attempts_by_message ON attempts (message_id, at);

-- Pending work only: a finished job is deleted, so the claim index stays small. available_at is
-- both "due at" and, while claimed, "lease expires at": an expired lease makes a job due again.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  available_at INTEGER NOT NULL,
  locked_by TEXT,
  claims INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX jobs_by_available_at ON jobs (available_at);
CREATE INDEX jobs_by_locked_by ON jobs (locked_by) WHERE locked_by IS NOT NULL;

CREATE TABLE idempotency_keys (
  environment_id TEXT NOT NULL,
  key TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_created_at ON idempotency_keys (created_at);

CREATE TABLE dev_mail (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  html TEXT,
  text TEXT NOT NULL,
  headers TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX dev_mail_by_environment ON dev_mail (environment_id, id);
CREATE INDEX dev_mail_by_message ON dev_mail (message_id);
`,
  },
  {
    id: 2,
    name: 'retention',
    sql: `
-- Retention (prune-messages.ts) walks messages in id order, which is creation order, and keeps how
-- far it got here: no pass reads again what an earlier one pruned, and no index on created_at is
-- needed (one would cost every accepted message one more index write).
CREATE TABLE retention_progress (
  name TEXT PRIMARY KEY,
  last_id TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO retention_progress (name, last_id) VALUES ('messages', '');

-- Messages the walk passed while they were still being delivered; pruned once they finish.
CREATE TABLE retention_pending (
  message_id TEXT PRIMARY KEY
) WITHOUT ROWID;
`,
  },
  {
    id: 3,
    name: 'channels',
    sql: `
-- Channel data set through the subscriber API: {push, chat, webhookUrl} as JSON.
ALTER TABLE subscribers ADD COLUMN channels TEXT;

-- Which integration an attempt went to (failover makes several per job possible).
ALTER TABLE attempts ADD COLUMN integration_id TEXT;
ALTER TABLE attempts ADD COLUMN provider TEXT;

-- Providers per channel. Credentials are sealed (AES-256-GCM, core/secret-box.ts) in secrets;
-- config holds the rest. circuit is the last breaker state a worker reported, for the API.
CREATE TABLE integrations (
  environment_id TEXT NOT NULL,
  id TEXT NOT NULL,
  channel TEXT NOT NULL,
  provider TEXT NOT NULL,
  config TEXT NOT NULL,
  secrets TEXT,
  priority INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  rate_limit TEXT,
  circuit TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, id)
) WITHOUT ROWID;
`,
  },
  {
    id: 4,
    name: 'inbox',
    sql: `
-- In-app inbox items. An item's id is its message's id; the message's status follows the item
-- (core/inbox.ts). Feeds list a subscriber's items newest first through inbox_items_by_subscriber.
CREATE TABLE inbox_items (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  workflow_key TEXT NOT NULL,
  title TEXT,
  body TEXT NOT NULL,
  action_url TEXT,
  avatar_url TEXT,
  data TEXT,
  created_at INTEGER NOT NULL,
  seen_at INTEGER,
  read_at INTEGER,
  archived_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX inbox_items_by_subscriber ON inbox_items (environment_id, subscriber_id, id);

-- One row per subscriber with an inbox: the seq of their latest event and their counts, kept in
-- step with every change in the same transaction. Writers update this row first, which orders
-- (PostgreSQL: locks) the subscriber's changes, so seqs are gapless and in commit order.
CREATE TABLE inbox_feeds (
  environment_id TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  total INTEGER NOT NULL,
  unread INTEGER NOT NULL,
  unseen INTEGER NOT NULL,
  PRIMARY KEY (environment_id, subscriber_id)
) WITHOUT ROWID;

-- What SSE clients resume from (Last-Event-ID = seq). Pruned after a day by inbox_events_by_created_at.
CREATE TABLE inbox_events (
  environment_id TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL, -- JSON {item, counts}
  created_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, subscriber_id, seq)
) WITHOUT ROWID;
CREATE INDEX inbox_events_by_created_at ON inbox_events (created_at);

-- The secret subscriber hashes and inbox tokens are checked with, and the CORS origins
-- (allowed_origins NULL: the configured default).
CREATE TABLE inbox_settings (
  environment_id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  allowed_origins TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    id: 5,
    name: 'api keys and secrets at rest',
    sql: `
-- API keys get an id (what the API and \`herald keys\` name them by), the first characters of the
-- key (null for keys made before: only their hash was kept), when they were last used and when
-- they were revoked. Revoked keys stay, so a stale HERALD_API_KEY cannot bring one back. The id's
-- default fills existing rows, and rows a previous version still inserts during an upgrade.
CREATE TABLE api_keys_v5 (
  hash TEXT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE DEFAULT ('key_' || lower(hex(randomblob(10)))),
  environment_id TEXT NOT NULL REFERENCES environments(id),
  name TEXT NOT NULL,
  prefix TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
) WITHOUT ROWID;
INSERT INTO api_keys_v5 (hash, environment_id, name, created_at)
  SELECT hash, environment_id, name, created_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v5 RENAME TO api_keys;
CREATE INDEX api_keys_by_environment ON api_keys (environment_id, created_at);

-- The fingerprint (core/secret-box.ts key id) of the key that seals credentials and inbox secrets:
-- a process with another key refuses to start instead of failing sends later. A database that
-- already holds sealed credentials takes the key id they carry (\`v1.<key id>.…\`).
CREATE TABLE sealing_key (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  key_id TEXT NOT NULL
);
INSERT INTO sealing_key (singleton, key_id)
  SELECT 1, substr(secrets, 4, 8) FROM integrations WHERE secrets LIKE 'v1.%' LIMIT 1;
`,
  },
  {
    id: 6,
    name: 'message log',
    sql: `
-- The message log's order (GET /v1/messages?since=): each message gets the next seq when its
-- trigger commits, from the one counter row below, in the writing transaction. SQLite has one
-- writer, so seqs are in commit order. Messages already stored are numbered in id (creation) order.
ALTER TABLE messages ADD COLUMN seq INTEGER;
UPDATE messages SET seq = numbered.n
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM messages) AS numbered
WHERE numbered.id = messages.id;
-- messages_by_seq serves the log: seq > ? within an environment, ascending, and its MAX (the head).
CREATE INDEX messages_by_seq ON messages (environment_id, seq);

CREATE TABLE log_sequence (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO log_sequence (name, value) SELECT 'messages', COALESCE(MAX(seq), 0) FROM messages;
`,
  },
  {
    id: 7,
    name: 'workflow runs',
    sql: `
-- Workflow runs (core/run-engine.ts). A trigger may start its runs later (send_at) and be canceled
-- by key (POST /v1/triggers/cancel, served by triggers_by_cancellation_key).
ALTER TABLE triggers ADD COLUMN send_at INTEGER;
ALTER TABLE triggers ADD COLUMN cancellation_key TEXT;
CREATE INDEX triggers_by_cancellation_key ON triggers (environment_id, cancellation_key)
  WHERE cancellation_key IS NOT NULL;

-- One run per recipient of a trigger: where it is in the workflow version the trigger saw. Its
-- messages are (trigger_id, subscriber_id): messages_by_run. Triggers from before runs have none.
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  state TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  digest_id TEXT,
  digest TEXT, -- JSON {count, events}: what the digest step folded, for the steps after it
  reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX runs_by_trigger ON runs (trigger_id, subscriber_id);
CREATE INDEX runs_by_digest ON runs (digest_id) WHERE digest_id IS NOT NULL;
CREATE INDEX messages_by_run ON messages (trigger_id, subscriber_id, step_index);

-- Time-based run work, durable like jobs: a run to advance (id = the run's) or a digest to close
-- (id = the digest's), due at due_at; while claimed, due_at is when the lease expires.
CREATE TABLE run_timers (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  locked_by TEXT,
  claims INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX run_timers_by_due_at ON run_timers (due_at);

-- Open digests only: closing one deletes it, in the transaction that hands it on. One per scope
-- (environment, workflow, recipient, step and key): events of one scope always join the same one.
CREATE TABLE digests (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  mode TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  closes_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX digests_by_scope ON digests (environment_id, scope);

-- Runs a throttle step let through, per scope (environment, workflow, recipient, step and key).
CREATE TABLE throttle_hits (
  environment_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX throttle_hits_by_scope ON throttle_hits (environment_id, scope, at);
`,
  },
  {
    id: 8,
    name: 'delivery log by workflow and channel',
    sql: `
-- GET /v1/messages?workflow= and ?channel= list newest first within an environment, like the
-- other filters (list-messages.ts): each walks its index backwards from the newest id.
CREATE INDEX messages_by_workflow ON messages (environment_id, workflow_key, id);
CREATE INDEX messages_by_channel ON messages (environment_id, channel, id);
`,
  },
  {
    id: 9,
    name: 'topics and fan-out',
    sql: `
-- Topics: named groups of subscribers a trigger can fan out to (core/fan-out.ts). Listed by key.
CREATE TABLE topics (
  environment_id TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, key)
) WITHOUT ROWID;

-- Members by topic and subscriber id: the primary key serves the member list and each fan-out page
-- (the next members after a cursor). Deleting a topic or a subscriber deletes their memberships
-- (topic_subscribers_by_subscriber finds a subscriber's, and lists their topics).
CREATE TABLE topic_subscribers (
  environment_id TEXT NOT NULL,
  topic_key TEXT NOT NULL,
  subscriber_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, topic_key, subscriber_id),
  FOREIGN KEY (environment_id, topic_key) REFERENCES topics (environment_id, key) ON DELETE CASCADE,
  FOREIGN KEY (environment_id, subscriber_id) REFERENCES subscribers (environment_id, subscriber_id)
    ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX topic_subscribers_by_subscriber ON topic_subscribers (environment_id, subscriber_id, topic_key);

-- Who a trigger is about ("Ann commented"): left out of its audience.
ALTER TABLE triggers ADD COLUMN actor_id TEXT;

-- A trigger's fan-out to its topics: where its pages got to (the last subscriber id reached) and
-- how many runs the trigger has so far. Its timer in run_timers (kind 'fanout') has the trigger's id.
CREATE TABLE fanouts (
  trigger_id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL,
  topics TEXT NOT NULL, -- JSON array of topic keys
  cursor TEXT NOT NULL,
  recipients INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
`,
  },
  {
    id: 10,
    name: 'preferences',
    sql: `
-- A subscriber's preferences (core/preferences.ts): one JSON document, read with the subscriber by
-- every job claim, so a send checks the preferences as they are when it goes out.
ALTER TABLE subscribers ADD COLUMN preferences TEXT;
-- What a workflow version says about consent: JSON {category, critical, preferences}; null when
-- it says nothing (and for versions saved before this migration).
ALTER TABLE workflow_versions ADD COLUMN consent TEXT;
`,
  },
  {
    id: 11,
    name: 'layouts, partials and translations',
    sql: `
-- An environment's shared template parts (core/template-assets.ts). Every write of one moves the
-- environment's revision on in the same transaction: render threads keep what they compiled per
-- (environment, revision). default_layout names the default layout, so there is one at most.
CREATE TABLE template_revisions (
  environment_id TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  default_layout TEXT
) WITHOUT ROWID;

-- Read whole per environment (getTemplateAssets) and listed in key order: the primary keys serve
-- both.
CREATE TABLE layouts (
  environment_id TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  html TEXT NOT NULL,
  text TEXT,
  variables TEXT NOT NULL, -- JSON object
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, key)
) WITHOUT ROWID;

CREATE TABLE partials (
  environment_id TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  template TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, key)
) WITHOUT ROWID;

CREATE TABLE translations (
  environment_id TEXT NOT NULL,
  locale TEXT NOT NULL,
  messages TEXT NOT NULL, -- JSON object
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (environment_id, locale)
) WITHOUT ROWID;
`,
  },
  {
    id: 12,
    name: 'workflow version history',
    sql: `
-- A workflow's versions by number (GET /v1/workflows/{key}/versions and …/versions/{n}, and the
-- highest number a save goes on from), highest first; id orders a number saved twice (a workflow
-- deleted and saved again before numbers went on across deletes) and is the list's cursor.
CREATE INDEX workflow_versions_by_key ON workflow_versions (environment_id, key, version, id);
`,
  },
  {
    id: 13,
    name: 'test sends',
    sql: `
-- A test send (POST /v1/workflows/{key}/test, core/test-send.ts): its trigger and messages are
-- marked, read by the job claim (a test passes over preferences and quiet hours) and shown by the
-- API. Existing rows are not tests.
ALTER TABLE triggers ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
-- GET /v1/messages?test=true walks only the test messages, newest first (list-messages.ts): they
-- are few, so the index is small. ?test=false is checked on the rows another walk reads.
CREATE INDEX messages_by_test ON messages (environment_id, id) WHERE test = 1;
`,
  },
  {
    id: 14,
    name: 'dashboard users, sessions and the audit log',
    sql: `
-- Dashboard users (core/users.ts): instance-wide, not per environment. Emails are stored lower
-- case (core/users.ts normalizeEmail), so the unique index makes them unique without case.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  disabled_at INTEGER
);
CREATE UNIQUE INDEX users_by_email ON users (email);

-- Dashboard sessions (core/sessions.ts): the id is the SHA-256 of the cookie's token. A handful of
-- rows per person: pruning (expired or idle) reads the whole table, sessions_by_user serves
-- "log out everywhere".
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  csrf_token TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed logins, counted per email and per client address over a window (login throttling that
-- holds across processes); pruned by housekeeping once past the window.
CREATE TABLE login_failures (
  email TEXT NOT NULL,
  address TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures (email, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);

-- The audit log (core/audit.ts), newest first by id (time-ordered); the actor and action filters
-- walk their index backwards from the newest id. Retention walks the primary key (ids before a
-- time, ids.ts firstIdAt).
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  environment_id TEXT,
  at INTEGER NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT,
  actor_email TEXT,
  action TEXT NOT NULL,
  target TEXT NOT NULL, -- JSON object: the route's parameters
  status INTEGER NOT NULL
);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_by_actor_email ON audit_events (actor_email, id);
CREATE INDEX audit_events_by_action ON audit_events (action, id);
`,
  },
  {
    id: 16,
    name: 'message rollup',
    sql: `
-- How many messages reached each final status, per environment, UTC hour of the outcome (epoch
-- ms), channel and status (core/message-stats.ts): kept by the writes that set those statuses, in
-- their transaction, so the dashboard's overview reads a few rows instead of the delivery log.
-- Pruned with --retention (housekeeping). In-app messages seen, read or archived count as sent.
CREATE TABLE message_rollup (
  environment_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  channel TEXT NOT NULL,
  status TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (environment_id, hour, channel, status)
);
-- Messages finished before this migration, by the hour they were last updated.
INSERT INTO message_rollup (environment_id, hour, channel, status, count)
SELECT environment_id, updated_at - updated_at % 3600000, channel,
       CASE WHEN status IN ('seen', 'read', 'archived') THEN 'sent' ELSE status END, COUNT(*)
FROM messages
WHERE status IN ('sent', 'seen', 'read', 'archived', 'failed', 'skipped', 'canceled')
GROUP BY 1, 2, 3, 4;
`,
  },
  {
    id: 17,
    name: 'subscribers listed and found by id or email prefix',
    sql: `
-- Subscribers listed and found by email prefix (GET /v1/subscribers?email=): lower() folds ASCII
-- letters only, as core/subscriber-search.ts emailSearchKey does. By id, the primary key serves.
CREATE INDEX subscribers_by_email ON subscribers (environment_id, lower(email), subscriber_id);
`,
  },
];
