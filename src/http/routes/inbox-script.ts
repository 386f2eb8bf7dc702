import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

/** The `<herald-inbox>` element's source; the same relative path from src/http/routes/ and dist/http/routes/. */
export const INBOX_SCRIPT_URL = new URL('../../../web/inbox/herald-inbox.js', import.meta.url);

// Short enough that a new Herald version reaches pages within minutes; the ETag makes the
// revalidation after that a 304.
const CACHE_CONTROL = 'public, max-age=300';

/**
 * Serves the inbox web component at `GET /inbox.js` (HEAD too), for any origin: pages embed it with
 * a cross-origin `<script type="module">`, which needs CORS. The file is read and gzipped once.
 */
export function inboxScriptRoutes(): FastifyPluginAsyncTypebox {
  return async (app) => {
    const source = await readFile(INBOX_SCRIPT_URL);
    const gzipped = gzipSync(source, { level: 9 });
    // Weak: the plain and gzipped bodies are the same script, so one validator serves both.
    const etag = `W/"${createHash('sha256').update(source).digest('base64url').slice(0, 27)}"`;

    const schema = {
      operationId: 'getInboxScript',
      tags: ['inbox (browser)'],
      security: [],
      summary: 'The <herald-inbox> web component, for a cross-origin <script type="module">',
      response: {
        200: {
          description: 'The script (gzipped when the client accepts it)',
          content: { 'text/javascript': { schema: Type.String() } },
        },
        304: { description: 'Not modified: If-None-Match matched the ETag', type: 'null' },
      },
    };
    app.get('/inbox.js', { schema }, async (request, reply) => {
      reply
        .header('access-control-allow-origin', '*')
        .header('cache-control', CACHE_CONTROL)
        .header('etag', etag)
        .header('vary', 'accept-encoding');
      if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
      reply.type('text/javascript; charset=utf-8');
      if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(source);
      return reply.header('content-encoding', 'gzip').send(gzipped);
    });
  };
}

/** If-None-Match by weak comparison (RFC 9110 §13.1.2): `*` or any listed tag with the same opaque value. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** Whether Accept-Encoding allows gzip: listed (or `*`, when gzip is not listed) with a q above 0. */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    weights.set(coding, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  const gzip = weights.get('gzip') ?? weights.get('x-gzip') ?? weights.get('*');
  return gzip !== undefined && gzip > 0;
}
