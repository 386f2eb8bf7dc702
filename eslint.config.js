import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders and what they must not import: the dependency direction main → {http, worker, cli} → core ← {store, channels}. */
const layers = [
  {
    files: ['src/core/**/*.ts'],
    patterns: [
      '**/http/**',
      '**/store/**',
      '**/channels/**',
      '**/worker/**',
      '**/cli/**',
      '**/main.js',
      'fastify',
      'better-sqlite3',
      'nodemailer',
      'pg',
      // Threads and processes are infrastructure: core states what it needs (e.g. an async
      // render) and main.ts wires the worker code that provides it.
      'node:worker_threads',
      'node:child_process',
    ],
    message: 'core imports no framework, driver, provider, thread or outer layer',
  },
  {
    files: ['src/store/**/*.ts'],
    patterns: ['**/http/**', '**/channels/**', '**/worker/**', '**/cli/**', '**/main.js', 'fastify', 'nodemailer'],
    message: 'stores depend only on core',
  },
  {
    files: ['src/channels/**/*.ts'],
    patterns: ['**/http/**', '**/store/**', '**/worker/**', '**/cli/**', '**/main.js', 'fastify', 'better-sqlite3'],
    message: 'channels depend only on core',
  },
  {
    files: ['src/http/**/*.ts', 'src/worker/**/*.ts'],
    patterns: ['**/store/**', '**/cli/**', '**/main.js', 'better-sqlite3'],
    message: 'http and worker receive their store from main.ts',
  },
];

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
    // Front-end code runs in the browser, with no build step: browser globals, no Node ones.
    files: ['web/**/*.js'],
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
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: layer.patterns, message: layer.message }] }] },
  })),
);
