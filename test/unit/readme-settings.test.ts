import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envName, SETTINGS } from '../../src/config/settings.js';

// The README's settings table is what people read first: every setting is in it, under its flag
// and environment variable, and nothing is there that `herald serve` does not take.
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const rows = new Map(
  README.split('\n')
    .filter((line) => /^\| `--[a-z-]+`/.test(line))
    .map((line) => {
      const [flag, env, fallback] = line
        .split('|')
        .slice(1)
        .map((cell) => cell.trim());
      return [flag!.replace(/`/g, ''), { env: env!.replace(/`/g, ''), fallback: fallback! }] as const;
    }),
);

describe('the README settings table', () => {
  it.each(SETTINGS.map((setting) => [setting.flag, setting] as const))('lists --%s', (flag, setting) => {
    const row = rows.get(`--${flag}`);
    expect(row, `README has no row for --${flag}`).toBeDefined();
    expect(row!.env).toBe(envName(flag));
    // A literal default is shown as written; derived ones ("auto", "half of …") are explained in words.
    if (setting.default && /^[\w.,:/<>@ -]+$/.test(setting.default) && setting.default !== 'auto') {
      expect(row!.fallback).toContain(setting.default.split(' <')[0]);
    }
  });

  it('lists nothing herald serve does not take', () => {
    const flags = new Set(SETTINGS.map((setting) => `--${setting.flag}`));
    expect([...rows.keys()].filter((flag) => !flags.has(flag))).toEqual([]);
  });
});
