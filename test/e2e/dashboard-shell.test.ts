import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../src/http/dashboard-files.js';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

// The dashboard's files, served by Herald itself from dist/dashboard (built before the tests by
// test/global-setup.ts, as `npm run build` does), with the headers that keep it to itself.

const BUILT = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
});
afterAll(async () => {
  await h?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(h.url + path, { headers, redirect: 'manual' });

function expectDashboardHeaders(res: Response) {
  expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('same-origin');
}

/** The script and stylesheet index.html loads. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((match) => match[1]!);
}

describe('the served dashboard', () => {
  it('GET / leads to /dashboard/', async () => {
    for (const path of ['/', '/dashboard']) {
      const res = await get(path);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/dashboard/');
    }
  });

  it('serves index.html, never cached, with a strict CSP and no inline script or style', async () => {
    for (const path of ['/dashboard/', '/dashboard/workflows', '/dashboard/users/usr_x']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expectDashboardHeaders(res);
      const html = await res.text();
      expect(html).toBe(readFileSync(`${BUILT}index.html`, 'utf8'));
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
      expect(html).not.toMatch(/<style|\sstyle=/);
      expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere: no CDN
    }
  });

  it('serves the hashed script and stylesheet for a year, gzipped when asked', async () => {
    const assets = assetsOf(await (await get('/dashboard/')).text());
    expect(assets.map((path) => path.replace(/-[A-Z0-9]{8}\./, '-HASH.'))).toEqual([
      '/dashboard/assets/app-HASH.css',
      '/dashboard/assets/app-HASH.js',
    ]);
    for (const path of assets) {
      const res = await get(path, { 'accept-encoding': 'gzip' });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expectDashboardHeaders(res);
      const body = Buffer.from(await res.arrayBuffer());
      // fetch undoes gzip itself; the body is what was built.
      expect(body.equals(readFileSync(BUILT + path.replace('/dashboard/', '')))).toBe(true);
    }
    const script = readFileSync(BUILT + assets[1]!.replace('/dashboard/', ''), 'utf8');
    // Nothing loaded from elsewhere (the XML namespaces Preact names are not loads); that no inline
    // style is set, the browser test sees: the CSP would refuse it with a console error.
    expect(script).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/);
  });

  it('keeps the first page under 100 KB gzipped', async () => {
    const html = await (await get('/dashboard/')).text();
    let total = 0;
    for (const path of ['/dashboard/', ...assetsOf(html)]) total += (await gzipped(h.url + path)).length;
    expect(total).toBeLessThan(100 * 1024);
  });

  it('answers unknown files and dashboard API routes with problem+json (404), with the same headers', async () => {
    for (const path of ['/dashboard/assets/nope-AAAAAAAA.js', '/dashboard/api/nope', '/dashboard/favicon.ico']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expectDashboardHeaders(res);
      expectProblem(
        { status: res.status, headers: res.headers, body: await res.json(), text: '' },
        404,
        'ROUTE_NOT_FOUND',
      );
    }
  });

  it('gives the dashboard API the same headers, and its answers are never cached', async () => {
    const res = await get('/dashboard/api/state');
    expect(res.status).toBe(200);
    expectDashboardHeaders(res);
    expect(res.headers.get('cache-control')).toBe('no-store');
    // The API proper keeps its own headers.
    expect((await get('/healthz')).headers.get('content-security-policy')).toBeNull();
  });

  it('says how to build it when dist/dashboard is missing (404)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'herald-no-dashboard-'));
    const unbuilt = await startTestHerald({}, { dashboardDir: empty });
    try {
      const res = await fetch(unbuilt.url + '/dashboard/');
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body).toMatchObject({ code: 'DASHBOARD_NOT_BUILT', detail: expect.stringContaining('npm run build') });
    } finally {
      await unbuilt.close();
      rmSync(empty, { recursive: true });
    }
  });
});

/** A body as it travels when the client takes gzip (checked to be gzip). */
function gzipped(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.headers['content-encoding'] === 'gzip') gunzipSync(body);
        resolve(body);
      });
    }).on('error', reject);
  });
}
