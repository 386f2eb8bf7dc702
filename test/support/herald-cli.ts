import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HERALD_BIN } from './child-herald.js';
import { waitFor } from './wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Longer than a build takes on a busy machine. */
const STALE_LOCK_MS = 120_000;

/** The newest modification time of the TypeScript sources under `dir`. */
function newestSource(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return newestSource(path);
      return entry.name.endsWith('.ts') ? statSync(path).mtimeMs : 0;
    }),
  );
}

const isBuilt = () => {
  const main = join(ROOT, 'dist/main.js');
  return existsSync(main) && statSync(main).mtimeMs >= newestSource(join(ROOT, 'src'));
};

/**
 * Builds dist/ (what bin/herald.js runs) when it is missing or older than src/, so a test of the
 * command never runs yesterday's build. Test files run in parallel: one builds, under a lock
 * folder, and the others wait for it.
 */
export async function buildHeraldCli(): Promise<void> {
  if (isBuilt()) return;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const lock = join(ROOT, 'dist/.build-lock');
  await waitFor(
    () => {
      try {
        mkdirSync(lock);
        return true;
      } catch {
        // A lock older than any build is one a killed run left behind.
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmdirSync(lock);
        return false;
      }
    },
    { timeoutMs: 2 * STALE_LOCK_MS, intervalMs: 200, what: 'the build of dist/ by another test file' },
  );
  try {
    if (!isBuilt()) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  } finally {
    rmdirSync(lock);
  }
}

/** Environment for the command: the caller's, minus any HERALD_* setting that would leak in. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `herald <args>` (bin/herald.js) to completion in `cwd`. */
export function runHeraldCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  return new Promise<CliRun>((resolve) => {
    const child = execFile(
      process.execPath,
      [HERALD_BIN, ...args],
      { env: { ...cleanEnv, ...options.env }, cwd: options.cwd ?? ROOT, encoding: 'utf8', timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}
