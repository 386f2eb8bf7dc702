import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ON_POSTGRES, testDatabaseUrl, testSchema } from './test-database.js';

export const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

export interface ChildHerald {
  process: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * Spawns `herald serve` as a separate process (the built CLI in dist/), waits for its banner and
 * returns its URL. `env` adds HERALD_* variables. In the PostgreSQL run of the suite, a child
 * given no database gets the schema its `--data-dir` names, so a restart on the same dir finds
 * the same data (the global teardown drops these schemas).
 */
export async function spawnHerald(args: string[], env: Record<string, string> = {}): Promise<ChildHerald> {
  const dataDir = args[args.indexOf('--data-dir') + 1];
  const database =
    ON_POSTGRES && !args.includes('--database') && env.HERALD_DATABASE === undefined && args.includes('--data-dir')
      ? ['--database', testDatabaseUrl(testSchema(dataDir))]
      : [];
  const argv = [HERALD_BIN, 'serve', '--port', '0', '--log-level', 'warn', ...database, ...args];
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`herald exited (${code}) before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`herald did not start within 15 s:\n${output}`)), 15_000).unref();
  });
  return { process: child, url, output: () => output, exited };
}
