import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '../../src/core/api-keys.js';
import { createSecretBox } from '../../src/core/secret-box.js';
import type { Store } from '../../src/core/store.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/schema.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/schema.js';
import { openSqlite } from '../../src/store/sqlite/sqlite-store.js';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { inboxClient } from '../support/inbox.js';
import { dropSchemas, ON_POSTGRES, TEST_DATABASE_URL, testDatabaseUrl, testSchema } from '../support/test-database.js';

// Whoever reads the database must not be able to act as anyone: inbox secrets are sealed like
// integration credentials (API keys are stored as hashes). Runs on both stores.

const ENV = 'env_development';
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A data dir and database that survive restarts of the Herald started on them. */
function persistentSettings(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-at-rest-'));
  const schema = ON_POSTGRES ? testSchema() : undefined;
  cleanups.push(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (schema) await dropSchemas(schema);
  });
  return {
    dir,
    schema,
    settings: { 'data-dir': dir, database: schema ? testDatabaseUrl(schema) : join(dir, 'herald.db'), ...extra },
  };
}

/** The inbox secret as the database holds it (the store below the sealing layer lists it raw). */
async function storedInboxSecret(store: Store): Promise<string> {
  const [row] = (await store.listInboxSecrets()).filter((entry) => entry.environmentId === ENV);
  return row!.secret;
}

async function expectInboxWorks(h: TestHerald, secret: string) {
  const client = await inboxClient(h, 'ann', secret);
  expect((await client.call('GET', '/v1/inbox/counts')).status).toBe(200);
}

describe('the inbox secret at rest', () => {
  it('is stored sealed, shown to key holders, and checks subscriber hashes', async () => {
    const h = await startTestHerald();
    try {
      const { secret } = (await h.api('GET', '/v1/inbox/settings')).body;
      expect(secret).toMatch(/^his_/);
      const stored = await storedInboxSecret(h.herald.store);
      expect(stored).toMatch(/^v1\./);
      expect(stored).not.toContain(secret.slice(4));
      await expectInboxWorks(h, secret);

      const rotated = (await h.api('POST', '/v1/inbox/settings/rotate-secret')).body.secret;
      const storedAfter = await storedInboxSecret(h.herald.store);
      expect(storedAfter).toMatch(/^v1\./);
      expect(storedAfter).not.toBe(stored);
      expect(storedAfter).not.toContain(rotated.slice(4));
      await expectInboxWorks(h, rotated);
    } finally {
      await h.close();
    }
  });

  it('seals a secret stored in plain text (from before sealing) when it is read, and at the next start', async () => {
    const { settings } = persistentSettings();
    const plain = 'his_stored_in_plain_text_before_sealing_0123';
    const first = await startTestHerald(settings);
    await first.api('GET', '/v1/inbox/settings');
    const store = first.herald.store;
    expect(await store.replaceInboxSecret(ENV, await storedInboxSecret(store), plain)).toBe(true);
    // PUT reads the settings back: the plain secret is what it was, and is sealed from now on.
    const put = await first.api('PUT', '/v1/inbox/settings', { allowedOrigins: ['https://app.example.com'] });
    expect(put.body.secret).toBe(plain);
    expect(await storedInboxSecret(store)).toMatch(/^v1\./);

    expect(await store.replaceInboxSecret(ENV, await storedInboxSecret(store), plain)).toBe(true);
    await first.close();
    const second = await startTestHerald(settings);
    try {
      // Sealed at start, before anything read it.
      expect(await storedInboxSecret(second.herald.store)).toMatch(/^v1\./);
      expect((await second.api('GET', '/v1/inbox/settings')).body.secret).toBe(plain);
      await expectInboxWorks(second, plain);
    } finally {
      await second.close();
    }
  });
});

describe('a lost secret key', () => {
  /** Runs one statement on the database `settings` name, with no Herald running on it. */
  async function runSql(settings: { database: string }, schema: string | undefined, sql: string) {
    if (schema === undefined) {
      const db = openSqlite(settings.database);
      db.exec(sql);
      db.close();
      return;
    }
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`SET search_path = ${schema}; ${sql}`);
    } finally {
      await client.end();
    }
  }

  it('can be replaced as docs/operations.md says: forget its fingerprint, rotate the inbox secret', async () => {
    const { dir, settings, schema } = persistentSettings();
    const first = await startTestHerald(settings);
    const oldSecret = (await first.api('GET', '/v1/inbox/settings')).body.secret;
    await first.close();
    rmSync(join(dir, 'secret-key'));
    await expect(startTestHerald(settings)).rejects.toThrow(/sealed with key/);

    await runSql(settings, schema, 'DELETE FROM sealing_key');
    const next = await startTestHerald({ ...settings, 'secret-key': 'the-replacement-secret-key-0123456789abc' });
    try {
      const locked = await next.api('GET', '/v1/inbox/settings');
      expect(locked.status).toBe(409);
      expect(locked.body.code).toBe('SECRET_KEY_MISMATCH');
      const rotated = await next.api('POST', '/v1/inbox/settings/rotate-secret');
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(oldSecret);
      await expectInboxWorks(next, rotated.body.secret);
    } finally {
      await next.close();
    }
  });
});

describe('upgrading a database from before migration 5', () => {
  const SECRET_KEY = 'the-key-that-sealed-the-old-credentials-0123';
  const legacyKey = generateApiKey();
  const legacyInboxSecret = 'his_legacy_plain_inbox_secret_0123456789abcdef';
  const sealedToken = createSecretBox(SECRET_KEY).seal(
    JSON.stringify({ authToken: 'twilio-token-0123456789abcd' }),
    `integration:${ENV}/sms`,
  );
  const rows = {
    apiKey: [hashApiKey(legacyKey), ENV, 'serve', 1_700_000_000_000],
    integration: [ENV, 'sms', 'sms', 'twilio', '{"accountSid":"AC1","from":"+15005550006"}', sealedToken, 0, 1, 1, 1],
    inbox: [ENV, legacyInboxSecret, 1],
  };

  /** Migrations 1–4 and rows written by the previous version, on the database `settings` name. */
  async function createVersion4Database(settings: { database: string }, schema: string | undefined) {
    const insertKey = 'INSERT INTO api_keys (hash, environment_id, name, created_at) VALUES';
    const insertIntegration = `INSERT INTO integrations (environment_id, id, channel, provider, config, secrets,
      priority, enabled, created_at, updated_at) VALUES`;
    const insertInbox = 'INSERT INTO inbox_settings (environment_id, secret, updated_at) VALUES';
    if (schema === undefined) {
      const db = openSqlite(settings.database);
      db.exec(
        'CREATE TABLE herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      for (const migration of SQLITE_MIGRATIONS.filter((m) => m.id <= 4)) {
        db.exec(migration.sql);
        db.prepare('INSERT INTO herald_migrations VALUES (?, ?, 0)').run(migration.id, migration.name);
      }
      db.prepare(`${insertKey} (?, ?, ?, ?)`).run(...rows.apiKey);
      db.prepare(`${insertIntegration} (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...rows.integration);
      db.prepare(`${insertInbox} (?, ?, ?)`).run(...rows.inbox);
      db.close();
      return;
    }
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}`);
      await client.query(
        'CREATE TABLE herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      for (const migration of POSTGRES_MIGRATIONS.filter((m) => m.id <= 4)) {
        await client.query(migration.sql);
        await client.query('INSERT INTO herald_migrations VALUES ($1, $2, 0)', [migration.id, migration.name]);
      }
      await client.query(`${insertKey} ($1, $2, $3, $4)`, rows.apiKey);
      await client.query(`${insertIntegration} ($1, $2, $3, $4, $5, $6, $7, $8 = 1, $9, $10)`, rows.integration);
      await client.query(`${insertInbox} ($1, $2, $3)`, rows.inbox);
    } finally {
      await client.end();
    }
  }

  it('keeps old keys working (with ids, names and unknown prefixes), takes the sealing key from sealed credentials and seals the inbox secret', async () => {
    const { settings, schema } = persistentSettings({ 'secret-key': SECRET_KEY });
    await createVersion4Database(settings, schema);
    // The first start migrates; the fingerprint comes from the credentials the old version sealed,
    // so a process with another key is refused even before any process of this version ran.
    await expect(
      startTestHerald({ ...settings, 'secret-key': 'a-different-secret-key-0123456789abcdef' }),
    ).rejects.toThrow(/sealed with key \S+, but HERALD_SECRET_KEY is key/);
    const h = await startTestHerald(settings);
    try {
      const auth = { authorization: `Bearer ${legacyKey}` };
      const list = await call(h.url + '/v1/api-keys', 'GET', undefined, auth);
      expect(list.status).toBe(200);
      expect(list.body.items).toContainEqual({
        id: expect.stringMatching(/^key_/),
        name: 'serve',
        prefix: null,
        createdAt: 1_700_000_000_000,
        lastUsedAt: null,
      });
      expect(await storedInboxSecret(h.herald.store)).toMatch(/^v1\./);
      expect((await h.api('GET', '/v1/inbox/settings')).body.secret).toBe(legacyInboxSecret);
      // Its last characters show only when the credentials open with the configured key.
      expect((await h.api('GET', '/v1/integrations/sms')).body.config).toMatchObject({ authToken: '••••abcd' });
    } finally {
      await h.close();
    }
  });
});
