import { execSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { newBrowser, signIn } from '../support/dashboard.js';
import { HERALD_BIN, spawnHerald } from '../support/child-herald.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

// `herald users create | list | reset-password` on the database a running Herald uses (SQLite
// here: the CLI opens the same file).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));

/** Runs the built CLI with `stdin` as its input (none: stdin is closed, not a terminal). */
function herald(args: string[], stdin = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [HERALD_BIN, ...args], { env: cleanEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

let dir: string;
let h: TestHerald;
beforeAll(async () => {
  // `npm test` builds first; a bare `npx vitest run` may not have.
  if (!existsSync(join(ROOT, 'dist/cli/users-commands.js'))) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
  dir = mkdtempSync(join(tmpdir(), 'herald-users-cli-'));
  h = await startTestHerald({ 'data-dir': dir });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const users = (...args: string[]) => [...args, '--data-dir', dir];

describe('herald serve', () => {
  it('says where the dashboard is, and that setup is pending until a user exists', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'herald-banner-'));
    try {
      const first = await spawnHerald(['--data-dir', fresh, '--database', '']);
      first.process.kill('SIGTERM');
      await first.exited;
      expect(first.output()).toContain(
        `dashboard: ${first.url}/dashboard/ — setup pending: open it to create the first user`,
      );
      const created = await herald([
        'users',
        'create',
        '--email',
        'a@example.com',
        '--role',
        'owner',
        '--data-dir',
        fresh,
      ]);
      expect(created.code, created.stderr).toBe(0);
      const second = await spawnHerald(['--data-dir', fresh, '--database', '']);
      second.process.kill('SIGTERM');
      await second.exited;
      expect(second.output()).toContain(
        `dashboard: ${second.url}/dashboard/ (sign in; \`herald users list\` shows who may)`,
      );
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe('herald users', () => {
  it('create --password-stdin: the user can sign in to the running Herald at once', async () => {
    const res = await herald(
      users('users', 'create', '--email', 'Owner@Example.com', '--role', 'owner', '--password-stdin'),
      'a strong passphrase\n',
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^created owner owner@example\.com \(usr_\w+\)\n$/);
    const browser = await signIn(h, { email: 'owner@example.com', password: 'a strong passphrase' });
    expect((await browser.call('GET', '/dashboard/api/session')).body.user.role).toBe('owner');
    expect((await h.api('GET', '/dashboard/api/state')).body.setupRequired).toBe(false);
  });

  it('create without a password: generates one and prints it once, on stdout', async () => {
    const res = await herald(users('users', 'create', '--email', 'viewer@example.com', '--role', 'viewer'));
    expect(res.code, res.stderr).toBe(0);
    const password = res.stdout.trim();
    expect(password).toMatch(/^[\w-]{20}$/);
    expect(res.stderr).toContain('the password above is shown once');
    await signIn(h, { email: 'viewer@example.com', password });
  });

  it('list: every user, oldest first, without hashes', async () => {
    const res = await herald(users('users', 'list'));
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+EMAIL\s+ROLE\s+CREATED\s+DISABLED$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(1, 3))).toEqual([
      ['owner@example.com', 'owner'],
      ['viewer@example.com', 'viewer'],
    ]);
    expect(res.stdout).not.toContain('scrypt');
  });

  it('reset-password: a new password, and every session of the user ends', async () => {
    const before = await signIn(h, {
      email: 'viewer@example.com',
      password: (await resetViewer('first new password')).password,
    });
    const res = await herald(
      users('users', 'reset-password', '--email', 'VIEWER@example.com', '--password-stdin'),
      'second new password',
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('their sessions have ended');
    expectProblem(await before.call('GET', '/v1/topics'), 401, 'NOT_SIGNED_IN');
    const old = await newBrowser(h).call('POST', '/dashboard/api/login', {
      email: 'viewer@example.com',
      password: 'first new password',
    });
    expectProblem(old, 401, 'LOGIN_FAILED');
    await signIn(h, { email: 'viewer@example.com', password: 'second new password' });
  });

  it('records its changes in the audit log as the cli actor', async () => {
    const events = (await h.herald.store.listAuditEvents('env_development', { limit: 100 })).items;
    const cli = events.filter((event) => event.actor.type === 'cli').map((event) => event.action);
    expect(cli).toEqual(expect.arrayContaining(['herald users create', 'herald users reset-password']));
  });

  it('refuses a short password, a taken email, an unknown user and an unknown role', async () => {
    const short = await herald(
      users('users', 'create', '--email', 'x@example.com', '--role', 'admin', '--password-stdin'),
      'short\n',
    );
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 12 characters');
    const taken = await herald(
      users('users', 'create', '--email', 'OWNER@example.com', '--role', 'admin', '--password-stdin'),
      'long enough password',
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('exists already');
    const unknown = await herald(
      users('users', 'reset-password', '--email', 'nobody@example.com', '--password-stdin'),
      'long enough password',
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user has the email nobody@example.com');
    const role = await herald(users('users', 'create', '--email', 'y@example.com', '--role', 'root'));
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('Allowed choices are owner, admin, viewer');
  });
});

async function resetViewer(password: string) {
  const res = await herald(
    users('users', 'reset-password', '--email', 'viewer@example.com', '--password-stdin'),
    password,
  );
  expect(res.code, res.stderr).toBe(0);
  return { password };
}
