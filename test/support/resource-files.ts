import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runHeraldCli, type CliRun } from './herald-cli.js';
import { TEST_API_KEY, type TestHerald } from './herald.js';

/** Folders of resource files for `herald apply` and `herald export` tests, removed by `removeAll`. */
export function resourceFolders() {
  const made: string[] = [];
  return {
    /** A new empty folder, or one holding `files` (path under it → text). */
    folder(files: Record<string, string> = {}): string {
      const dir = mkdtempSync(join(tmpdir(), 'herald-apply-'));
      made.push(dir);
      writeFiles(dir, files);
      return dir;
    },
    removeAll() {
      for (const dir of made) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** Every file under `dir` (path under it → text), sorted by path. */
export function readFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else files[path] = readFileSync(join(dir, path), 'utf8');
    }
  };
  walk('');
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** `herald <command> <args> --url <the Herald> --key <its key>`, run in `cwd` (so paths print relative). */
export function heraldAgainst(herald: TestHerald, command: 'apply' | 'export', args: string[], cwd: string) {
  return runHeraldCli([command, ...args, '--url', herald.url, '--key', TEST_API_KEY], { cwd });
}

/** The plan lines of an apply's output (`+ create …`, `~ update …`, `= unchanged …`, `- delete …`). */
export const planLines = (run: CliRun) => run.stdout.split('\n').filter((line) => /^[+~=-] /.test(line));
