import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PORT_CONTRACTS } from './contracts/index.js';

/**
 * The ports core/store.ts declares, by the file that implements each in every dialect folder (and
 * holds its contract suite in test/store/contracts/), with the noun of the function that file
 * exports (sqliteApiKeyMethods, postgresApiKeyMethods). Kysely-style: the folders cannot drift.
 */
const PORT_FILES = {
  'api-keys': 'ApiKey',
  access: 'Access',
  audit: 'Audit',
  secrets: 'Secret',
  subscribers: 'Subscriber',
  topics: 'Topic',
  workflows: 'Workflow',
  templates: 'Template',
  triggers: 'Trigger',
  runs: 'Run',
  'delivery-log': 'DeliveryLog',
  jobs: 'Job',
  'message-stats': 'MessageStats',
  integrations: 'Integration',
  inbox: 'Inbox',
} as const;

const DIALECTS = ['sqlite', 'postgres'] as const;

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('dialect folders', () => {
  for (const dialect of DIALECTS) {
    it(`${dialect}/ holds one file per port, each exporting its methods`, async () => {
      const files = readdirSync(here(`../../src/store/${dialect}/`));
      for (const [port, noun] of Object.entries(PORT_FILES)) {
        expect(files, `src/store/${dialect}/${port}.ts`).toContain(`${port}.ts`);
        const file = pathToFileURL(here(`../../src/store/${dialect}/${port}.ts`)).href;
        const module = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
        expect(typeof module[`${dialect}${noun}Methods`], `${dialect}/${port}.ts`).toBe('function');
      }
    });
  }

  it('have a contract suite per port, run on every store', () => {
    expect(Object.keys(PORT_CONTRACTS).sort()).toEqual(Object.keys(PORT_FILES).sort());
    for (const port of Object.keys(PORT_FILES)) expect(existsSync(here(`./contracts/${port}.ts`)), port).toBe(true);
  });
});
