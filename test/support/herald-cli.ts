import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HERALD_BIN } from './child-herald.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
