import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { OPENAPI_CLIENT } from '../support/openapi-client.js';

/**
 * Every route Fastify registers. Fastify has no public list of its routes, so the real Fastify is
 * wrapped to add an onRoute hook to each instance Herald builds; nothing else changes.
 */
const registered = vi.hoisted(() => [] as { method: string; url: string }[]);
vi.mock('fastify', async (importOriginal) => {
  const fastify = await importOriginal<typeof import('fastify')>();
  const withRouteLog = ((options: object) => {
    const app = fastify.default(options);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    });
    return app;
  }) as unknown as typeof fastify.default;
  return { ...fastify, default: withRouteLog };
});

/**
 * Routes that are not operations of the API. The CORS preflight is answered to browsers for any
 * inbox path (a wildcard, which OpenAPI cannot name); HEAD is the GET of the same path.
 */
// The CORS preflight, and the dashboard's pages and files (GET / leads there): not API operations.
const NOT_OPERATIONS = ['OPTIONS /v1/inbox/*', 'GET /', 'GET /dashboard', 'GET /dashboard/*'];

let h: TestHerald;
let doc: any;
let routes: { method: string; url: string }[];
beforeAll(async () => {
  h = await startTestHerald({ 'bench-routes': 'true' });
  routes = [...registered];
  const res = await call(h.url + '/openapi.json', 'GET');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await h.close();
});

const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route Herald registered, each with its own operationId', () => {
    const operationRoutes = routes.filter(
      ({ method, url }) => method !== 'HEAD' && !NOT_OPERATIONS.includes(`${method} ${url}`),
    );
    expect(operationRoutes.length).toBeGreaterThan(30);
    for (const { method, url } of operationRoutes) {
      const path = url.replace(/:(\w+)/g, '{$1}');
      const operation = doc.paths[path]?.[method.toLowerCase()];
      expect(operation?.operationId, `${method} ${url} needs an operationId in the document`).toMatch(/^[a-z]\w+$/);
    }
    for (const { url } of routes.filter((route) => route.method === 'HEAD')) {
      expect(routes, `HEAD ${url} without a GET`).toContainEqual({ method: 'GET', url });
    }
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    // The routes worth naming, so that losing the route log cannot make this test pass.
    expect(ids).toEqual(
      expect.arrayContaining([
        'getHealth',
        'getReadiness',
        'getMetrics',
        'getOpenApiDocument',
        'getInboxScript',
        'streamInbox',
        'listDevMail',
        'benchNoopTrigger',
        'triggerWorkflow',
        'previewWorkflow',
        'previewDraftWorkflow',
        'testWorkflow',
      ]),
    );
  });

  it('describes every error as problem+json and every success with its content', () => {
    const problem = { $ref: '#/components/schemas/Problem' };
    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      for (const status of ['4XX', '5XX']) {
        expect(operation.responses[status]?.content, `${where} ${status}`).toEqual({
          'application/problem+json': { schema: problem },
        });
      }
      const successes = Object.keys(operation.responses).filter((status) => /^[23]\d\d$/.test(status));
      expect(successes.length, where).toBeGreaterThan(0);
      for (const status of successes.filter((status) => status !== '204' && status !== '304')) {
        const content = operation.responses[status].content ?? {};
        expect(Object.keys(content).length, `${where} ${status} has no content`).toBeGreaterThan(0);
        for (const media of Object.values<any>(content)) expect(media.schema, `${where} ${status}`).toBeDefined();
      }
    }
  });

  it('names shared schemas once, as components, and refers to them', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names).toEqual(
      expect.arrayContaining([
        'Subscriber',
        'SubscriberInput',
        'Workflow',
        'WorkflowInput',
        'Step',
        'EmailStep',
        'SmsStep',
        'PushStep',
        'ChatStep',
        'WebhookStep',
        'InAppStep',
        'TriggerInput',
        'TriggerResult',
        'Message',
        'MessageDetail',
        'Attempt',
        'Problem',
        'Integration',
        'IntegrationInput',
        'InboxItem',
        'InboxCounts',
        'InboxSettings',
        'SubscriberPreferences',
        'SubscriberPreferencesInput',
        'ChannelSwitches',
        'WorkflowPreferences',
      ]),
    );
    expect(names.filter((name) => /^def-\d+$/.test(name))).toEqual([]);
    const text = JSON.stringify(doc.paths);
    // A component used by several routes is a reference, never a copy.
    expect(text).not.toContain('"subscriberId":{"type":"string"},"email"');
    expect(text.match(/#\/components\/schemas\/Workflow"/g)?.length).toBeGreaterThanOrEqual(2);
    expect(doc.components.schemas.Step.discriminator.mapping.email).toBe('#/components/schemas/EmailStep');
  });

  it('gives the SSE stream, the metrics and the script their own media types', () => {
    const content = (path: string) => Object.keys(doc.paths[path].get.responses['200'].content);
    expect(content('/v1/inbox/stream')).toEqual(['text/event-stream']);
    expect(content('/metrics')).toEqual(['text/plain']);
    expect(content('/inbox.js')).toEqual(['text/javascript']);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  it('lists the bench route only when it is enabled', async () => {
    expect(doc.paths['/v1/bench/noop-trigger/{key}']).toBeDefined();
    const plain = await startTestHerald();
    try {
      const other = (await call(plain.url + '/openapi.json', 'GET')).body;
      expect(other.paths['/v1/bench/noop-trigger/{key}']).toBeUndefined();
      expect(other.paths['/v1/workflows/{key}/trigger']).toBeDefined();
    } finally {
      await plain.close();
    }
  });
});

describe('a client generated from the document', () => {
  it('type-checks against the types openapi-typescript generates', async () => {
    const types = astToString(await openapiTS(structuredClone(doc)));
    const dir = mkdtempSync(join(tmpdir(), 'herald-openapi-client-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
      // A declaration file: skipLibCheck leaves the generated types to the generator, and checks the client.
      writeFileSync(join(dir, 'herald-api.d.ts'), types);
      writeFileSync(join(dir, 'client.ts'), OPENAPI_CLIENT);
      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2022.d.ts'],
        types: [],
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
        const where = diagnostic.file
          ? `${diagnostic.file.fileName.slice(dir.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}: `
          : '';
        return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      });
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
