import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The docs are read on GitHub and in editors: every file they cite must exist, and nothing in them
// may render as something other than what was written (an unclosed fence swallows the rest of the
// page; a bare <tag> outside code disappears).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRACKED = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const DOCS = TRACKED.filter((file) => file.endsWith('.md'));
const FILE_NAMES = new Set(TRACKED.map((file) => file.split('/').pop()!));
const FOLDERS = new Set(
  TRACKED.flatMap((file) =>
    file
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
  ),
);

/** Lines outside fenced code blocks, with their numbers. */
function prose(text: string): { line: string; at: number }[] {
  const lines: { line: string; at: number }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, index) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push({ line, at: index + 1 });
  });
  return lines;
}

describe.each(DOCS)('%s', (doc) => {
  const source = readFileSync(join(ROOT, doc), 'utf8');

  it('closes every code fence', () => {
    expect(source.split('\n').filter((line) => /^\s*```/.test(line)).length % 2).toBe(0);
  });

  it('cites only files and folders that exist', () => {
    const missing: string[] = [];
    // Relative links: [text](path#anchor)
    for (const [, target] of source.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
      const path = normalize(join(dirname(doc), target!.split('#')[0]!)).replace(/\/$/, '');
      if (!TRACKED.includes(path) && !FOLDERS.has(path)) missing.push(target!);
    }
    // Repository paths and file names in code spans: `src/http/app.ts`, `app.ts`
    for (const [, span] of source.matchAll(/`([^`\s]+)`/g)) {
      const path = span!.replace(/[.,:;]$/, '');
      if (/^(src|test|bench|docs|web|bin|\.ci)\/[\w./-]+$/.test(path) && !path.includes('*')) {
        if (!TRACKED.includes(path) && !FOLDERS.has(path.replace(/\/$/, ''))) missing.push(path);
      } else if (/^[\w.-]+\.(ts|js|json|md)$/.test(path) && !FILE_NAMES.has(path)) {
        missing.push(path);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has no raw HTML tags outside code', () => {
    // Code spans may run over a line break: take them out of the whole text, keeping its lines.
    const text = prose(source)
      .map(({ line }) => line)
      .join('\n')
      .replace(/`[^`]*`/g, (span) => span.replace(/[^\n]/g, ''));
    const tags = text.split('\n').filter((line) => /<\/?[a-z][\w-]*(\s[^>]*)?>/i.test(line));
    expect(tags).toEqual([]);
  });
});
