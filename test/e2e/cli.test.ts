import { execFile, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
      { env: { ...cleanEnv, ...env }, encoding: 'utf8', timeout: 20_000 },
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

  it('serve with HERALD_MIGRATE=false does the same on PostgreSQL', async () => {
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

describe('serve', () => {
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

  it('creates a key when none is configured and mentions the dev mailbox', async () => {
    await withServe(['--data-dir', tempDir()], { HERALD_API_KEY: '' }, async (child) => {
      const banner = child.output();
      expect(banner).toContain(`listening on ${child.url}`);
      expect(banner).toMatch(/dev mailbox/);
      expect(banner).toContain('/v1/dev/mail');
      expect(banner).toContain(`inbox: ${child.url}/inbox.js; dev mode lets pages on any origin call it`);
      const key = /API key \(shown once\): (hk_\S+)/.exec(banner)?.[1];
      expect(key).toBeDefined();
      const res = await call(child.url + '/v1/dev/mail', 'GET', undefined, { authorization: `Bearer ${key}` });
      expect(res.status).toBe(200);
    });
  });

  it('uses HERALD_API_KEY without creating another key', async () => {
    const apiKey = 'hk_from_the_environment_0001';
    await withServe(['--data-dir', tempDir()], { HERALD_API_KEY: apiKey }, async (child) => {
      expect(child.output()).toContain('API key: from HERALD_API_KEY');
      expect(child.output()).toContain('pages need their origin allowed (HERALD_INBOX_ORIGINS');
      expect(child.output()).not.toMatch(/hk_[A-Za-z0-9_-]{40,}/);
      const res = await call(child.url + '/v1/workflows', 'GET', undefined, { authorization: `Bearer ${apiKey}` });
      expect(res.status).toBe(200);
    });
  });
});
