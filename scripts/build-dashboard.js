#!/usr/bin/env node
// Bundles the dashboard (src/dashboard: Preact + htm) into dist/dashboard with esbuild: one
// script and one stylesheet with content hashes in their names, and an index.html that loads
// them. No CDN and no inline script or style (the dashboard's Content-Security-Policy allows
// neither). `npm run build` and `npm ci` (prepare) run it; Herald serves the result.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/dashboard`;

rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });
const result = await build({
  entryPoints: { app: `${root}src/dashboard/main.js` },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome109', 'firefox115', 'safari15.6'],
  outdir: `${out}/assets`,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const script = outputs.find((name) => name.endsWith('.js'));
const style = outputs.find((name) => name.endsWith('.css'));
if (!script || !style) throw new Error(`esbuild wrote ${outputs.join(', ')}: expected one .js and one .css`);

writeFileSync(
  `${out}/index.html`,
  `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Herald</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/dashboard/assets/${style}" />
    <script type="module" src="/dashboard/assets/${script}"></script>
  </head>
  <body>
    <div id="app"></div>
    <noscript>The Herald dashboard needs JavaScript.</noscript>
  </body>
</html>
`,
);
