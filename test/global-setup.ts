import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dropRunSchemas } from './support/test-database.js';

/**
 * Compiles src/ to dist/ once before the tests: the CLI tests spawn bin/herald.js, and the SQLite
 * store runs its thread from the compiled script. A stale dist/ would test old code.
 */
export default function setup(): () => Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // Schemas the PostgreSQL run's tests left behind (a failed test may not clean up).
  return () => dropRunSchemas().catch(() => undefined);
}
