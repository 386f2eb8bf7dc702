import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropRunSchemas } from './support/test-database.js';

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** The modification time of a file, 0 when it does not exist. */
function modified(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Compiles src/ to dist/ before the tests when src/ changed since the last build: the CLI tests
 * spawn bin/herald.js, and the SQLite store runs its thread from the compiled script. Bundles the
 * dashboard (src/dashboard → dist/dashboard) likewise: Herald serves it from there. A stale dist/
 * would test old code; an unchanged one costs nothing, so a unit test run takes seconds.
 */
export default function setup(): () => Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  let built = 0;
  try {
    built = statSync(join(root, 'dist/.tsbuildinfo')).mtimeMs;
  } catch {
    // never built
  }
  if (newest(join(root, 'src')) >= built || statSync(join(root, 'tsconfig.json')).mtimeMs >= built) {
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  const bundler = join(root, 'scripts/build-dashboard.js');
  const bundled = modified(join(root, 'dist/dashboard/index.html'));
  if (Math.max(newest(join(root, 'src/dashboard')), modified(bundler)) >= bundled) {
    execFileSync(process.execPath, [bundler], { cwd: root, stdio: 'inherit' });
  }
  // Schemas the PostgreSQL run's tests left behind (a failed test may not clean up).
  return () => dropRunSchemas().catch(() => undefined);
}
