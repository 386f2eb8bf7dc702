import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import { sameToken } from '../../core/sessions.js';
import type { AppDeps } from '../deps.js';
import type { SessionCookies } from '../session-auth.js';

/** The longest email HTML the frame shows (characters). */
export const FRAME_HTML_LIMIT = 2 * 1024 * 1024;
/** Form encoding can triple the size (`<` is `%3C`): the encoded body may be this long. */
const BODY_LIMIT = 3 * FRAME_HTML_LIMIT + 4096;

/**
 * The frame's own policy, in place of the dashboard's: a sandboxed document (no script, no form,
 * an opaque origin) that may use its inline styles and data: images and fonts, loads nothing from
 * anywhere (a tracking pixel does not fire), and only the dashboard may frame.
 */
export const FRAME_CSP =
  "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const HTML = {
  description: 'The posted HTML, under FRAME_CSP',
  content: { 'text/html': { schema: { type: 'string' } } },
};

/**
 * `POST /dashboard/api/frame`: the dashboard shows an email by posting its HTML here from a hidden
 * form whose target is a sandboxed iframe. A `srcdoc` frame would inherit the dashboard's CSP,
 * which refuses the inline styles emails are made of; this document has its own. A form cannot
 * set headers, so the session's CSRF token comes as the `csrf` field. Viewers may use it: it
 * reads nothing, it only echoes what the browser already holds.
 */
export const dashboardFrameRoutes =
  (deps: AppDeps & { sessions: SessionCookies }): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.addContentTypeParser(
      /^application\/x-www-form-urlencoded(\s*;.*)?$/i,
      { parseAs: 'string', bodyLimit: BODY_LIMIT },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    app.post(
      '/dashboard/api/frame',
      {
        config: { auth: 'none' },
        bodyLimit: BODY_LIMIT,
        schema: {
          tags: ['dashboard'],
          operationId: 'showEmailFrame',
          summary:
            "Echo email HTML as a sandboxed document for the dashboard's iframes (styles on, nothing loaded or run)",
          description:
            'Body (application/x-www-form-urlencoded): html (at most 2 MiB) and csrf (the csrfToken of GET ' +
            "/dashboard/api/session). Needs the session cookie and Herald's own Origin; 413 when html is larger.",
          response: { 200: HTML },
        },
      },
      async (request, reply) => {
        const signedIn = await deps.sessions.resume(request);
        if (!signedIn) throw new HeraldError('NOT_SIGNED_IN', 'No session, or it has ended: sign in again');
        deps.sessions.checkOrigin(request);
        const body = (request.body ?? {}) as Record<string, string | undefined>;
        const { csrf, html } = body;
        if (typeof csrf !== 'string' || csrf === '') {
          throw new HeraldError(
            'CSRF_REFUSED',
            'CSRF token check failed: send the csrf field with the csrfToken of GET /dashboard/api/session',
          );
        }
        if (!sameToken(csrf, signedIn.session.csrfToken)) {
          throw new HeraldError('CSRF_REFUSED', "CSRF token check failed: the csrf field is not this session's token");
        }
        const markup = html ?? '';
        if (markup.length > FRAME_HTML_LIMIT) {
          throw new HeraldError(
            'PAYLOAD_TOO_LARGE',
            'The html field is longer than 2 MiB: the frame shows nothing larger',
          );
        }
        return reply
          .headers({
            'Content-Security-Policy': FRAME_CSP,
            'X-Frame-Options': 'SAMEORIGIN',
            'X-Content-Type-Options': 'nosniff',
            'Cache-Control': 'no-store',
            'Referrer-Policy': 'no-referrer',
          })
          .type('text/html; charset=utf-8')
          .send(markup);
      },
    );
  };
