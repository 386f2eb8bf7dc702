import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import type { UnsubscribeClaims } from '../../core/unsubscribe.js';
import type { AppDeps } from '../deps.js';
import { Printable } from '../schemas.js';
import { confirmPage, donePage, invalidPage, PAGE_HEADERS } from '../unsubscribe-page.js';

/** The one-click body (`List-Unsubscribe=One-Click`) is tiny; nothing larger is read. */
const BODY_LIMIT = 4096;

const TokenParams = Type.Object({ token: Printable(2100, 'The token of the List-Unsubscribe link') });

const HTML = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });

/**
 * One-click unsubscribe (RFC 8058): the URL every non-critical email carries in List-Unsubscribe.
 * No credentials and no cookies: the signed token is the authority. A POST (what mailbox providers
 * send, with `List-Unsubscribe=One-Click`) turns the workflow's email off for the subscriber; a GET
 * (a person following the link, or a scanner checking it) only shows a page with a button that
 * posts. Its own plugin, so the form body parsers apply to these routes only.
 */
export const unsubscribeRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    // RFC 8058 §3.1: the POST body is form-encoded (application/x-www-form-urlencoded or
    // multipart/form-data). It carries nothing the token does not: read it, within the limit, and
    // let it go. An empty body is taken too.
    for (const type of [/^application\/x-www-form-urlencoded(\s*;.*)?$/i, /^multipart\/form-data(\s*;.*)?$/i]) {
      app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, _body, done) =>
        done(null, undefined),
      );
    }

    const tags = ['unsubscribe'];
    const config = { auth: 'none' } as const;

    /** The claims of the token, or a refusal: an HTML page for a browser, problem+json otherwise. */
    const verified = (token: string, accept: string | undefined, reply: FastifyReply) => {
      const claims = deps.unsubscribeTokens.verify(token);
      if (claims) return claims;
      if ((accept ?? '').includes('text/html')) {
        void reply.code(404).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(invalidPage());
        return undefined;
      }
      throw new HeraldError(
        'UNSUBSCRIBE_LINK_INVALID',
        'This unsubscribe link was not made by this Herald, or was changed or cut short; nothing was changed',
      );
    };
    const nameOf = async (claims: UnsubscribeClaims) =>
      (await deps.store.getWorkflow(claims.environmentId, claims.workflowKey))?.name ?? claims.workflowKey;
    const html = (reply: FastifyReply, body: string) =>
      reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);

    app.get(
      '/unsubscribe/:token',
      {
        config,
        schema: {
          tags,
          security: [],
          operationId: 'showUnsubscribe',
          summary: 'The page behind an unsubscribe link: a button that confirms; changes nothing',
          params: TokenParams,
          response: { 200: HTML('A page with the confirm button (a form that POSTs to the same URL)') },
        },
      },
      async (request, reply) => {
        const claims = verified(request.params.token, request.headers.accept, reply);
        if (!claims) return reply;
        return html(reply, confirmPage(await nameOf(claims)));
      },
    );

    app.post(
      '/unsubscribe/:token',
      {
        config,
        bodyLimit: BODY_LIMIT,
        schema: {
          tags,
          security: [],
          operationId: 'unsubscribe',
          summary: "One-click unsubscribe (RFC 8058): turns the link's workflow's email off for its subscriber",
          description:
            'Body: List-Unsubscribe=One-Click (application/x-www-form-urlencoded or multipart/form-data), or none. ' +
            "Sets workflows.<key>.channels.email to false in the subscriber's preferences; repeating it changes nothing more.",
          params: TokenParams,
          response: { 200: HTML('Done: a page saying so') },
        },
      },
      async (request, reply) => {
        const claims = verified(request.params.token, request.headers.accept, reply);
        if (!claims) return reply;
        // A subscriber deleted since is sent nothing anyway: the answer is the same.
        await deps.store.turnOffWorkflowChannel(
          claims.environmentId,
          claims.subscriberId,
          claims.workflowKey,
          'email',
          deps.clock.now(),
        );
        deps.logger.info(
          { environmentId: claims.environmentId, workflow: claims.workflowKey },
          'a subscriber unsubscribed from email by link',
        );
        return html(reply, donePage(await nameOf(claims)));
      },
    );
  };
