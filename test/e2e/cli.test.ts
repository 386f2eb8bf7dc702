import { execFile, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName, SETTINGS } from '../../src/config/settings.js';
import { spawnHerald, HERALD_BIN, type ChildHerald } from '../support/child-herald.js';
import { call } from '../support/herald.js';
import { dropSchemas, testDatabaseUrl, testSchema } from '../support/test-database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Environment for child processes: the caller's, minus any HERALD_* setting that would leak in. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));

/** Runs the built CLI to completion. */
function herald(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [HERALD_BIN, ...args],
      { env: { ...cleanEnv, ...env }, encoding: 'utf8', timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
  dirs.push(dir);
  return dir;
};

/** Runs `use` against a `herald serve` child, which is killed afterwards if `use` left it running. */
async function withServe(args: string[], env: Record<string, string>, use: (child: ChildHerald) => Promise<void>) {
  const child = await spawnHerald(args, env);
  try {
    await use(child);
  } finally {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }
}

beforeAll(() => {
  // `npm test` builds first; a bare `npx vitest run` may not have.
  if (!existsSync(join(ROOT, 'dist/cli/cli.js'))) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `text` as a literal inside a RegExp. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Help text with line wrapping undone, so a wrapped option reads as one line. */
const unwrap = (text: string) => text.replace(/\s+/g, ' ');

describe('help', () => {
  it('lists the commands', async () => {
    const { code, stdout } = await herald(['--help']);
    expect(code).toBe(0);
    for (const command of ['serve', 'migrate', 'keys']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('herald --help also lists every setting with its env var and default', async () => {
    const { stdout } = await herald(['--help']);
    for (const setting of SETTINGS) {
      expect(stdout).toContain(`--${setting.flag} <${setting.placeholder}>`);
      expect(stdout).toContain(envName(setting.flag));
      if (setting.default !== undefined) expect(stdout).toContain(`default: ${setting.default}`);
    }
  });

  it('serve --help lists every option with its env var and default', async () => {
    const { code, stdout } = await herald(['serve', '--help']);
    expect(code).toBe(0);
    const help = unwrap(stdout);
    for (const setting of SETTINGS) {
      expect(help).toContain(`--${setting.flag} <${setting.placeholder}>`);
      expect(help).toContain(`env: ${envName(setting.flag)}`);
      if (setting.default !== undefined) expect(help).toContain(`default: ${JSON.stringify(setting.default)}`);
    }
    expect(help).toContain('env: HERALD_PORT');
    expect(help).toContain('default: "8750"');
  });
});

describe('invalid configuration', () => {
  it('exits 2 with one line naming --port for a bad flag', async () => {
    const { code, stdout, stderr } = await herald(['serve', '--port', 'abc', '--data-dir', tempDir()]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--port');
  });

  it('exits 2 for a bad environment variable', async () => {
    const { code, stderr } = await herald(['serve', '--data-dir', tempDir()], { HERALD_PORT: 'abc' });
    expect(code).toBe(2);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--port');
    expect(stderr).toContain('HERALD_PORT');
  });

  it('exits 2 for a split role on SQLite, where one process must do all the work', async () => {
    const { code, stderr } = await herald(['serve', '--role', 'api', '--data-dir', tempDir()]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/--role.*postgres/);
  });

  it('exits 2 for a HERALD_API_KEY shorter than 32 characters, saying how to make one', async () => {
    const { code, stderr } = await herald(['serve', '--data-dir', tempDir()], { HERALD_API_KEY: 'short-but-16-chars' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--api-key.*at least 32 characters.*`herald keys create` or `openssl rand -base64 32`/);
  });

  it('exits 2 for a split role without HERALD_SECRET_KEY, saying what to set', async () => {
    for (const role of ['api', 'worker']) {
      const { code, stderr } = await herald(['serve', '--role', role, '--database', 'postgres://127.0.0.1:1/none']);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(new RegExp(`--role ${role} .*needs --secret-key .*set HERALD_SECRET_KEY to the same`));
    }
  });

  it('exits 2 for an unknown option', async () => {
    const { code, stderr } = await herald(['serve', '--no-such-option']);
    expect(code).toBe(2);
    expect(stderr).toContain('--no-such-option');
  });

  it('names the flag for an unknown option, a misspelt one and a missing value', async () => {
    const misspelt = await herald(['serve', '--prot', '9000']);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toMatch(/^herald: unknown option '--prot'/);
    expect(misspelt.stderr).toContain('Did you mean --port?');
    const missing = await herald(['serve', '--data-dir', tempDir(), '--port']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^herald: option '--port <number>' argument missing/);
    for (const [flag, value] of [
      ['--request-timeout', '5'],
      ['--max-connections', 'lots'],
    ]) {
      const { code, stderr } = await herald(['serve', flag!, value!, '--data-dir', tempDir()]);
      expect(code).toBe(2);
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr).toContain(flag);
    }
  });

  describe('never prints a rejected secret', () => {
    const secret = 'hunter2Hunter2';
    it.each([
      ['--api-key', 'HERALD_API_KEY', secret],
      ['--secret-key', 'HERALD_SECRET_KEY', `${secret}-but-too-short`],
      ['--database', 'HERALD_DATABASE', `postgres://herald:${secret}@db.example.com/herald?schema=Not-An-Identifier`],
      ['--database', 'HERALD_DATABASE', `postgres://herald:${secret}@[not-a-host/herald`],
      ['--smtp-url', 'HERALD_SMTP_URL', `http://mailer:${secret}@smtp.example.com`],
    ])('%s, given as a flag or as %s', async (flag, env, value) => {
      for (const run of [
        () => herald(['serve', flag, value, '--data-dir', tempDir()]),
        () => herald(['serve', '--data-dir', tempDir()], { [env]: value }),
      ]) {
        const { code, stderr } = await run();
        expect(code).toBe(2);
        expect(stderr).toContain(flag);
        expect(stderr).toContain(env);
        expect(stderr).not.toContain(secret);
      }
    });

    it('a value given to a misspelt flag', async () => {
      const { code, stderr } = await herald(['serve', `--apikey=${secret}`]);
      expect(code).toBe(2);
      expect(stderr).toContain("unknown option '--apikey=…'");
      expect(stderr).not.toContain(secret);
    });
  });

  it('lets a flag win over the environment, and stops with 0 on SIGTERM', async () => {
    // spawnHerald passes --port 0.
    await withServe(['--data-dir', tempDir()], { HERALD_PORT: 'abc' }, async (child) => {
      expect((await call(child.url + '/healthz', 'GET')).status).toBe(200);
      child.process.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    });
  });
});

describe('migrate and keys', () => {
  it('migrate applies the migrations, then reports the schema up to date', async () => {
    const dir = tempDir();
    const first = await herald(['migrate', '--data-dir', dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied migrations \d+(, \d+)*\n$/);
    expect(existsSync(join(dir, 'herald.db'))).toBe(true);
    const second = await herald(['migrate', '--data-dir', dir]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/up to date/);
  });

  it('serve --no-migrate refuses a schema that was not migrated, and starts once `herald migrate` ran', async () => {
    const dir = tempDir();
    const refused = await herald(['serve', '--port', '0', '--no-migrate', '--data-dir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not current.*herald migrate/);
    expect((await herald(['migrate', '--data-dir', dir])).code).toBe(0);
    await withServe(['--no-migrate', '--data-dir', dir], {}, async (child) => {
      expect((await call(child.url + '/readyz', 'GET')).status).toBe(200);
    });
  });

  it('serve with HERALD_MIGRATE=false does the same on PostgreSQL, where migrate reports what it applied too', async () => {
    const schema = testSchema();
    const database = testDatabaseUrl(schema);
    try {
      // A data dir of its own: with no API key this is dev mode, which keeps a key file there.
      const refused = await herald(['serve', '--port', '0', '--database', database, '--data-dir', tempDir()], {
        HERALD_MIGRATE: 'false',
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/not current.*herald migrate/);
      const migrated = await herald(['migrate', '--database', database]);
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toMatch(/^applied migrations \d+(, \d+)*\n$/);
      expect((await herald(['migrate', '--database', database])).stdout).toMatch(/up to date/);
      await withServe(['--database', database, '--data-dir', tempDir()], { HERALD_MIGRATE: 'false' }, async (child) => {
        expect((await call(child.url + '/readyz', 'GET')).status).toBe(200);
      });
    } finally {
      await dropSchemas(schema);
    }
  });

  it('exits 2 for a --migrate that is neither true nor false', async () => {
    const { code, stderr } = await herald(['serve', '--migrate', 'maybe']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--migrate.*true or false/);
  });

  it('keys create prints a key that authenticates against a server on the same data dir', async () => {
    const dir = tempDir();
    const created = await herald(['keys', 'create', '--data-dir', dir, '--name', 'ci']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^hk_[A-Za-z0-9_-]{40,}$/);

    await withServe(['--data-dir', dir], {}, async (child) => {
      const ok = await call(child.url + '/v1/workflows', 'GET', undefined, { authorization: `Bearer ${key}` });
      expect(ok.status).toBe(200);
      const wrong = await call(child.url + '/v1/workflows', 'GET', undefined, { authorization: `Bearer ${key}x` });
      expect(wrong.status).toBe(401);
    });
  });
});

// Several processes one after another: slow on a loaded machine, so a longer limit than the default.
describe('serve', { timeout: 120_000 }, () => {
  it('exits 1 with the reason when its port is taken, instead of hanging', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const { code, stderr } = await herald(['serve', '--port', String(port), '--data-dir', tempDir()]);
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use (EADDRINUSE)`);
      expect(stderr).toContain('--port (HERALD_PORT)');
    } finally {
      blocker.close();
    }
  });

  it('in dev mode keeps one API key in the data dir and prints it at every start', async () => {
    const dir = tempDir();
    let key = '';
    await withServe(['--data-dir', dir], { HERALD_API_KEY: '' }, async (child) => {
      const banner = child.output();
      expect(banner).toContain(`listening on ${child.url}`);
      expect(banner).toMatch(/dev mailbox/);
      expect(banner).toContain('/v1/dev/mail');
      expect(banner).toContain(`inbox: ${child.url}/inbox.js; dev mode lets pages on any origin call it`);
      expect(banner).toContain(`secret key: generated into ${join(dir, 'secret-key')} — back it up`);
      key =
        new RegExp(`API key \\(dev mode, new; kept in ${literal(join(dir, 'api-key'))}\\): (hk_\\S+)`).exec(
          banner,
        )?.[1] ?? '';
      expect(key).toMatch(/^hk_/);
      expect(readFileSync(join(dir, 'api-key'), 'utf8').trim()).toBe(key);
      expect(statSync(join(dir, 'api-key')).mode & 0o777).toBe(0o600);
      const res = await call(child.url + '/v1/dev/mail', 'GET', undefined, { authorization: `Bearer ${key}` });
      expect(res.status).toBe(200);
      child.process.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    });
    // Its use was written when the server stopped.
    const listed = await herald(['keys', 'list', '--data-dir', dir]);
    expect(listed.stdout).toMatch(
      new RegExp(`^key_\\S+\\s+dev\\s+${literal(key.slice(0, 11))}…\\s+\\S+Z\\s+\\S+Z$`, 'm'),
    );

    await withServe(['--data-dir', dir], {}, async (child) => {
      expect(child.output()).toContain(`API key (dev mode, same as before; kept in ${join(dir, 'api-key')}): ${key}`);
      expect(child.output()).toContain('secret key: kept in');
    });

    // Revoked (with another key made first: never the last one), the next start mints a new one.
    expect((await herald(['keys', 'create', '--data-dir', dir, '--name', 'ops'])).code).toBe(0);
    expect((await herald(['keys', 'revoke', key.slice(0, 9), '--data-dir', dir])).code).toBe(0);
    await withServe(['--data-dir', dir], {}, async (child) => {
      const fresh = /API key \(dev mode, new; [^)]*\): (hk_\S+)/.exec(child.output())?.[1];
      expect(fresh).toMatch(/^hk_/);
      expect(fresh).not.toBe(key);
      expect(readFileSync(join(dir, 'api-key'), 'utf8').trim()).toBe(fresh);
      const old = await call(child.url + '/v1/workflows', 'GET', undefined, { authorization: `Bearer ${key}` });
      expect(old.status).toBe(401);
    });
  });

  it('uses HERALD_API_KEY without creating another key, and refuses it once it was revoked', async () => {
    const dir = tempDir();
    const apiKey = 'hk_from_the_environment_0123456789abcdef';
    await withServe(['--data-dir', dir], { HERALD_API_KEY: apiKey }, async (child) => {
      expect(child.output()).toMatch(/API key: from HERALD_API_KEY \(key_\S+\)/);
      expect(child.output()).toContain('pages need their origin allowed (HERALD_INBOX_ORIGINS');
      expect(child.output()).not.toMatch(/hk_[A-Za-z0-9_-]{40,}/);
      expect(existsSync(join(dir, 'api-key'))).toBe(false);
      const res = await call(child.url + '/v1/workflows', 'GET', undefined, { authorization: `Bearer ${apiKey}` });
      expect(res.status).toBe(200);
    });
    expect((await herald(['keys', 'create', '--data-dir', dir])).code).toBe(0);
    expect((await herald(['keys', 'revoke', 'hk_from_the', '--data-dir', dir])).code).toBe(0);
    const refused = await herald(['serve', '--port', '0', '--data-dir', dir], { HERALD_API_KEY: apiKey });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /HERALD_API_KEY was revoked .*Set HERALD_API_KEY to a new key: `herald keys create`/,
    );
  });
});

describe('keys', { timeout: 120_000 }, () => {
  it('creates, lists and revokes keys by id or prefix, never the last one', async () => {
    const dir = tempDir();
    const first = await herald(['keys', 'create', '--data-dir', dir, '--name', 'ci runner']);
    expect(first.code).toBe(0);
    const firstKey = first.stdout.trim();
    expect(first.stderr).toMatch(/created API key key_\S+ "ci runner": shown once/);
    const second = (await herald(['keys', 'create', '--data-dir', dir])).stdout.trim();

    const list = await herald(['keys', 'list', '--data-dir', dir]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+CREATED\s+LAST USED$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(`^key_\\S+\\s+ci runner\\s+${literal(firstKey.slice(0, 11))}…\\s+\\S+Z\\s+never$`),
      ),
      expect.stringMatching(new RegExp(`^key_\\S+\\s+cli\\s+${literal(second.slice(0, 11))}…\\s+\\S+Z\\s+never$`)),
    ]);
    expect(list.stdout).not.toContain(firstKey);
    const [firstId, secondId] = lines.slice(1).map((line) => line.split(/\s+/)[0]!);

    const ambiguous = await herald(['keys', 'revoke', 'hk_', '--data-dir', dir]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/"hk_" matches 2 keys .*give the id/);
    const unknown = await herald(['keys', 'revoke', 'key_nope', '--data-dir', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no API key has the id or prefix "key_nope"/);

    const revoked = await herald(['keys', 'revoke', `${firstKey.slice(0, 11)}…`, '--data-dir', dir]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${firstId} "ci runner"`);
    const last = await herald(['keys', 'revoke', secondId!, '--data-dir', dir]);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/is the last API key: create another first \(`herald keys create`\)/);
    expect((await herald(['keys', 'list', '--data-dir', dir])).stdout).not.toContain(firstId);

    await withServe(['--data-dir', dir], {}, async (child) => {
      const auth = (key: string) => ({ authorization: `Bearer ${key}` });
      expect((await call(child.url + '/v1/workflows', 'GET', undefined, auth(second))).status).toBe(200);
      expect((await call(child.url + '/v1/workflows', 'GET', undefined, auth(firstKey))).status).toBe(401);
    });
  });

  it('exits 2 for a --name with control characters, naming the option', async () => {
    const { code, stderr } = await herald(['keys', 'create', '--data-dir', tempDir(), '--name', 'a\u0007b']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--name/);
  });
});
