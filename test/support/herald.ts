import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config/settings.js';
import { startHerald, type Herald, type StartOptions } from '../../src/main.js';
import { dropSchemas, ON_POSTGRES, testDatabaseUrl, testSchema } from './test-database.js';

export const TEST_API_KEY = 'hk_test_0123456789abcdef0123456789abcdef';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestHerald {
  herald: Herald;
  url: string;
  dir: string;
  /** The PostgreSQL schema this Herald uses, in the PostgreSQL run of the suite (else the SQLite file is in `dir`). */
  schema: string | undefined;
  /** Calls the API with the test key; `body` objects are sent as JSON, strings as they are. */
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** Calls a Herald URL; parses JSON and problem+json answers. */
export async function call<T = any>(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as string) : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/**
 * Starts a real Herald (the same composition root as `herald serve`) on a temporary SQLite file
 * (or, in the PostgreSQL run of the suite, a schema of its own) and a free port. Settings are the
 * same strings the CLI takes, e.g. `{ 'retry-schedule': '50ms' }`; `options` are startHerald's.
 */
export async function startTestHerald(
  settings: Record<string, string> = {},
  options: Omit<StartOptions, 'logger'> = {},
): Promise<TestHerald> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-test-'));
  const schema = ON_POSTGRES && settings.database === undefined ? testSchema() : undefined;
  const config = resolveConfig(
    {
      port: '0',
      'data-dir': dir,
      'api-key': TEST_API_KEY,
      ...(schema !== undefined && { database: testDatabaseUrl(schema) }),
      ...settings,
    },
    {},
  );
  const herald = await startHerald(config, {
    ...options,
    logger: pino({ level: process.env.HERALD_TEST_LOG ?? 'silent' }),
  });
  if (ON_POSTGRES && herald.store.dialect !== 'postgres')
    throw new Error('the PostgreSQL run started Herald on SQLite');
  return {
    herald,
    url: herald.url,
    dir,
    schema,
    api: (method, path, body, headers = {}) =>
      call(herald.url + path, method, body, { authorization: `Bearer ${TEST_API_KEY}`, ...headers }),
    async close() {
      await herald.close();
      rmSync(dir, { recursive: true, force: true });
      if (schema !== undefined) await dropSchemas(schema);
    },
  };
}
