import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The dashboard's built files (npm run build → dist/dashboard: index.html, assets/<name>-<hash>.js
 * and .css), held in memory with their gzip, served by Herald itself: no CDN, works offline.
 */

/** Where `npm run build` writes the dashboard: the same place from src/http (tests) and dist/http. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

/**
 * Every dashboard answer: no script, style, frame or form from elsewhere, no inline script or
 * style, never framed, no referrer to other sites.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export interface DashboardFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  cacheControl: string;
}

/** A name with a content hash (`app-3F2KX7QL.js`) never changes content: browsers may keep it a year. */
const HASHED = /-[A-Z0-9]{8}\.\w+$/;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** The built files by their path under /dashboard/ (`index.html`, `assets/app-….js`); empty when not built. */
export function loadDashboardFiles(dir: string = DASHBOARD_DIR): Map<string, DashboardFile> {
  const files = new Map<string, DashboardFile>();
  if (!existsSync(join(dir, 'index.html'))) return files;
  for (const path of walk(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    const body = readFileSync(path);
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 512;
    files.set(name, {
      body,
      gzip: compressible ? gzipSync(body, { level: 9 }) : undefined,
      type,
      cacheControl:
        name === 'index.html' ? 'no-store' : HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  return files;
}

/** Sends a file, gzipped when the browser takes gzip. */
export function sendDashboardFile(request: FastifyRequest, reply: FastifyReply, file: DashboardFile) {
  reply.header('Content-Type', file.type).header('Cache-Control', file.cacheControl).header('Vary', 'Accept-Encoding');
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (file.gzip && acceptsGzip) return reply.header('Content-Encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

/** The onSend hook that gives every dashboard answer (pages, files, its API, its errors) its security headers. */
export function dashboardHeaders(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (error: null, payload: unknown) => void,
): void {
  const url = request.url;
  // The email frame (routes/dashboard-frame.ts) sets its own policy and headers on its 200.
  const ownPolicy = reply.hasHeader('content-security-policy');
  if ((url === '/' || url.startsWith('/dashboard')) && !ownPolicy) {
    reply.header('Content-Security-Policy', DASHBOARD_CSP);
    reply.header('X-Frame-Options', 'DENY');
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'same-origin');
    if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
  }
  done(null, payload);
}
