import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOX_SCRIPT_URL, inboxScriptRoutes } from '../../src/http/routes/inbox-script.js';

const source = readFileSync(INBOX_SCRIPT_URL);

async function appWith(routes: typeof inboxScriptRoutes): Promise<FastifyInstance> {
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 't', version: '0' } } });
  await app.register(routes());
  await app.ready();
  return app;
}

let app: FastifyInstance;
beforeAll(async () => {
  app = await appWith(inboxScriptRoutes);
});
afterAll(async () => {
  await app.close();
});

const get = (headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
  app.inject({ method, url: '/inbox.js', headers });

describe('the inbox web component', () => {
  it('stays well under 25 KB gzipped', () => {
    expect(gzipSync(source, { level: 9 }).length).toBeLessThan(25 * 1024);
  });

  it('defines the element only once, so a page may load the script twice', () => {
    expect(source.toString()).toMatch(/if \(!customElements\.get\('herald-inbox'\)\) customElements\.define\(/);
  });
});

describe('GET /inbox.js', () => {
  it('serves the script gzipped to clients that accept gzip, with CORS and cache headers', async () => {
    const res = await get({ 'accept-encoding': 'gzip, deflate, br' });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'content-encoding': 'gzip',
      'access-control-allow-origin': '*',
      'cache-control': 'public, max-age=300',
      vary: 'accept-encoding',
      etag: expect.stringMatching(/^W\/"[\w-]+"$/),
    });
    expect(gunzipSync(res.rawPayload).equals(source)).toBe(true);
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
  });

  it('serves it plain when gzip is not accepted', async () => {
    for (const acceptEncoding of [undefined, 'identity', 'br', 'gzip;q=0, identity', 'gzip;q=0.0, *;q=1']) {
      const res = await get(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding });
      expect(res.statusCode, acceptEncoding).toBe(200);
      expect(res.headers['content-encoding'], acceptEncoding).toBeUndefined();
      expect(res.headers.vary).toBe('accept-encoding');
      expect(res.rawPayload.equals(source), acceptEncoding).toBe(true);
    }
  });

  it('takes gzip from a wildcard or with a weight', async () => {
    for (const acceptEncoding of ['*', 'br;q=1, *;q=0.1', 'GZIP;q=0.5', 'x-gzip']) {
      const res = await get({ 'accept-encoding': acceptEncoding });
      expect(res.headers['content-encoding'], acceptEncoding).toBe('gzip');
    }
  });

  it('answers 304 without a body when If-None-Match carries its ETag, plain or gzipped alike', async () => {
    const etag = (await get()).headers.etag as string;
    expect((await get({ 'accept-encoding': 'gzip' })).headers.etag).toBe(etag);
    for (const ifNoneMatch of [etag, etag.replace(/^W\//, ''), `"other", ${etag}`, '*']) {
      const res = await get({ 'if-none-match': ifNoneMatch, 'accept-encoding': 'gzip' });
      expect(res.statusCode, ifNoneMatch).toBe(304);
      expect(res.rawPayload.length).toBe(0);
      expect(res.headers).toMatchObject({
        etag,
        'access-control-allow-origin': '*',
        'cache-control': 'public, max-age=300',
      });
    }
    expect((await get({ 'if-none-match': '"other"' })).statusCode).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await get({ 'accept-encoding': 'gzip' }, 'HEAD');
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8', 'content-encoding': 'gzip' });
    expect(res.rawPayload.length).toBe(0);
  });

  it('is described in the OpenAPI document, as JavaScript', () => {
    const document = app.swagger() as { paths: Record<string, any> };
    const operation = document.paths['/inbox.js']?.get;
    expect(operation?.operationId).toBe('getInboxScript');
    expect(Object.keys(operation?.responses['200'].content)).toEqual(['text/javascript']);
  });

  it('finds the script from the compiled dist/ as well', async () => {
    // dist/ is compiled by test/global-setup.ts; its module resolves web/ from its own location.
    const compiled = '../../dist/http/routes/inbox-script.js';
    const dist = (await import(compiled)) as typeof import('../../src/http/routes/inbox-script.js');
    const distApp = await appWith(dist.inboxScriptRoutes);
    try {
      const res = await distApp.inject({ method: 'GET', url: '/inbox.js' });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(source)).toBe(true);
    } finally {
      await distApp.close();
    }
  });
});
