import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ and what each may import from the rest of src/ (docs/architecture.md, Layout).
 * Dependencies point inward: main → {http, worker, cli} → core ← {store, channels}. Beside them:
 * - config (the one list of settings: flags, env vars, validation) is read by main.ts and the CLI
 *   before anything is opened. It depends on core only (and two channel parsers, below); http,
 *   worker, store and channels get the values they need from main.ts, never the settings.
 * - observability (metrics) depends on core only; main.ts builds it and hands it to http and worker.
 * - main.ts is the composition root: it may import anything, and nothing in src/ imports it
 *   (bin/herald.js runs main.ts's runHerald, which hands the CLI what its commands open and
 *   start). startup-keys.ts is its helper for the keys a start sets up.
 * Every entry of src/ must be listed: a new folder fails lint until it has a line here.
 * `packages`: npm and node: modules the layer must not import either.
 */
const LAYERS = {
  core: {
    may: [],
    // Threads and processes are infrastructure: core states what it needs (e.g. an async
    // render) and main.ts wires the worker code that provides it.
    packages: ['fastify', 'better-sqlite3', 'pg', 'nodemailer', 'node:worker_threads', 'node:child_process'],
    message: 'core imports no framework, driver, provider, thread or outer layer',
  },
  store: { may: ['core'], packages: ['fastify', 'nodemailer'], message: 'stores depend only on core' },
  channels: { may: ['core'], packages: ['fastify', 'better-sqlite3', 'pg'], message: 'channels depend only on core' },
  http: {
    may: ['core', 'observability'],
    packages: ['better-sqlite3', 'pg', 'nodemailer'],
    message: 'http receives its store, channels and settings from main.ts',
  },
  worker: {
    may: ['core', 'observability'],
    packages: ['fastify', 'better-sqlite3', 'pg', 'nodemailer'],
    message: 'the worker receives its store, channels and settings from main.ts',
  },
  cli: {
    may: ['core', 'config'],
    packages: ['fastify', 'better-sqlite3', 'pg', 'nodemailer'],
    message: 'the CLI receives what its commands open and start from main.ts (runHerald)',
  },
  config: {
    may: ['core'],
    // Settings are checked with the very parsers the channels use the values with (a --email-from
    // mailbox, an --allow-private-networks list), so what the config accepts the channel reads.
    // Both modules are pure: no provider, socket or driver comes with them.
    except: ['channels/email/mime.js', 'channels/outbound/ssrf.js'],
    packages: ['fastify', 'better-sqlite3', 'pg', 'nodemailer'],
    message: 'config depends only on core (and the two channel parsers listed in eslint.config.js)',
  },
  observability: {
    may: ['core'],
    packages: ['fastify', 'better-sqlite3', 'pg', 'nodemailer'],
    message: 'observability depends only on core',
  },
  // The dashboard's front end (browser code, bundled by scripts/build-dashboard.js): nothing of the server.
  dashboard: {
    may: [],
    packages: ['fastify', 'better-sqlite3', 'pg', 'nodemailer', 'node:*'],
    message: 'the dashboard runs in the browser: it talks to Herald over HTTP only',
  },
  'main.ts': { may: 'all' },
  'startup-keys.ts': {
    may: ['core', 'config'],
    packages: ['fastify', 'better-sqlite3', 'pg', 'nodemailer'],
    message: 'startup-keys.ts is given the store by main.ts',
  },
};

const SRC_ENTRIES = readdirSync(new URL('./src', import.meta.url)).filter((name) => !name.endsWith('.d.ts'));
const unlisted = SRC_ENTRIES.filter((name) => !(name in LAYERS));
if (unlisted.length > 0) {
  throw new Error(`eslint.config.js: give src/${unlisted.join(', src/')} a layer in LAYERS (what it may import)`);
}
const ROOT_FILES = SRC_ENTRIES.filter((name) => name.endsWith('.ts'));

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A regular expression for the relative imports of `layer` that reach src/ entries it may not
 * import: `../` (any number) up to src/, then the entry.
 */
function forbiddenImports(layer, rule) {
  const forbidden = SRC_ENTRIES.filter((name) => name !== layer && !rule.may.includes(name)).map((name) =>
    name.endsWith('.ts') ? escape(name.replace(/\.ts$/, '.js')) + '$' : escape(name) + '/',
  );
  const allowed = (rule.except ?? []).map((path) => `(?!${escape(path)}$)`).join('');
  return `^(\\.\\./)+${allowed}(${forbidden.join('|')})`;
}

/** Folders and root files of src/, each with the imports it may not make. */
const layers = Object.entries(LAYERS)
  .filter(([, rule]) => rule.may !== 'all')
  .map(([layer, rule]) => ({
    files: ROOT_FILES.includes(layer) ? [`src/${layer}`] : [`src/${layer}/**/*.ts`, `src/${layer}/**/*.js`],
    patterns: [
      { regex: forbiddenImports(layer, rule), message: rule.message },
      ...(rule.packages.length > 0 ? [{ group: rule.packages, message: rule.message }] : []),
    ],
  }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'test-artifacts/**', '.herald/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        setImmediate: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      'no-control-regex': 'off', // validators match control characters on purpose
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Front-end code runs in the browser (the inbox with no build step, the dashboard bundled):
    // browser globals, no Node ones.
    files: ['web/**/*.js', 'src/dashboard/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        navigator: 'readonly',
        customElements: 'readonly',
        HTMLElement: 'readonly',
        HTMLImageElement: 'readonly',
        HTMLTimeElement: 'readonly',
        CSSStyleSheet: 'readonly',
        Element: 'readonly',
        Event: 'readonly',
        CustomEvent: 'readonly',
        MouseEvent: 'readonly',
        KeyboardEvent: 'readonly',
        FocusEvent: 'readonly',
        Node: 'readonly',
        MessageEvent: 'readonly',
        DOMException: 'readonly',
        EventSource: 'readonly',
        IntersectionObserver: 'readonly',
        Intl: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        AbortController: 'readonly',
        queueMicrotask: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        history: 'readonly',
        // The Node globals the shared block above grants do not exist in a browser.
        process: 'off',
        Buffer: 'off',
        setImmediate: 'off',
      },
    },
  },
  {
    // Tests read JSON answers loosely; src keeps the rule.
    files: ['test/**/*.ts', 'bench/**/*.{ts,js}'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...layers.map((layer) => ({
    files: layer.files,
    rules: { 'no-restricted-imports': ['error', { patterns: layer.patterns }] },
  })),
);
