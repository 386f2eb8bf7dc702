#!/usr/bin/env node
// Runs before `npm test`: makes sure what the suite needs is on this machine. On a Debian machine
// where we are root it installs what is missing (Chromium for the browser tests, the openssl CLI
// for the APNs certificates) and starts the local PostgreSQL cluster; anywhere else it stops with
// one message saying exactly what to install or set. `npx vitest run <file>` skips this check.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';

const CHROMIUM = process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium';
const DATABASE_URL = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const isRoot = process.getuid?.() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
const problems = [];

function say(line) {
  process.stdout.write(`preflight: ${line}\n`);
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

let aptUpdated = false;
function aptInstall(pkg) {
  say(`installing the Debian package ${pkg} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env });
}

/** A Debian package the tests need: installed here when we can, else named in the failure. */
function requirePackage(what, present, pkg, purpose) {
  if (present()) return;
  if (isRoot && hasApt) {
    try {
      aptInstall(pkg);
    } catch (error) {
      problems.push(`${what} is missing and apt-get install ${pkg} failed (${error.message}); ${purpose}`);
      return;
    }
    if (present()) return;
  }
  problems.push(`${what} is missing: install it (Debian/Ubuntu: sudo apt-get install ${pkg}); ${purpose}`);
}

async function reachable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts the stopped Debian PostgreSQL clusters listening on the URL's port, if we may. */
function startLocalCluster(url) {
  if (!isRoot || !onPath('pg_lsclusters') || !/^(127\.0\.0\.1|localhost|\[::1\])$/.test(url.hostname)) return false;
  const port = url.port || '5432';
  const stopped = execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(
      ([version, cluster, clusterPort, status]) => version && cluster && clusterPort === port && status === 'down',
    );
  for (const [version, cluster] of stopped) {
    say(`starting the PostgreSQL ${version} cluster ${cluster} (pg_ctlcluster)…`);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, 'start'], { stdio: 'inherit' });
  }
  return stopped.length > 0;
}

async function waitFor(url, seconds) {
  let last;
  for (let i = 0; i < seconds; i++) {
    last = await reachable(url);
    if (last.ok) return last;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return last;
}

/** The test database must exist: create it through the server's default database if it does not. */
async function createDatabase(url) {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    say(`creating the database ${name}…`);
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function requirePostgres() {
  let state = await reachable(DATABASE_URL);
  if (!state.ok && state.error?.code === '3D000' && (await createDatabase(DATABASE_URL))) {
    state = await reachable(DATABASE_URL);
  }
  if (!state.ok && /ECONNREFUSED|ENOENT/.test(String(state.error?.code ?? state.error?.message))) {
    if (startLocalCluster(new URL(DATABASE_URL))) state = await waitFor(DATABASE_URL, 30);
  }
  if (state.ok) return;
  const shown = new URL(DATABASE_URL);
  if (shown.password) shown.password = '***';
  problems.push(
    `PostgreSQL is not reachable at ${shown} (${state.error?.message ?? 'unknown error'}). The suite runs ` +
      'every storage test on PostgreSQL too: install and start it (Debian/Ubuntu: sudo apt-get install ' +
      'postgresql, with trust auth for 127.0.0.1 or a password in the URL), or point ' +
      'HERALD_TEST_DATABASE_URL at a server where the user may create schemas.',
  );
}

requirePackage(
  `Chromium (${CHROMIUM})`,
  () => existsSync(CHROMIUM),
  'chromium',
  'the <herald-inbox> tests drive it headless (or set HERALD_TEST_CHROMIUM to another Chromium or Chrome)',
);
requirePackage('the openssl command', () => onPath('openssl'), 'openssl', 'the APNs tests make certificates with it');
await requirePostgres();

if (problems.length > 0) {
  process.stderr.write(
    `\nThe tests cannot run on this machine yet:\n${problems.map((p) => `  - ${p}`).join('\n')}\n\n`,
  );
  process.exit(1);
}
say('Chromium, openssl and PostgreSQL are ready');
