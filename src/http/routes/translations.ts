import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { canonicalLocale, translationErrors, type TranslationMessages } from '../../core/template-assets.js';
import type { AppDeps } from '../deps.js';
import {
  Translation,
  TranslationBody,
  TranslationListQuery,
  TranslationPage,
  TranslationParams,
} from '../template-schemas.js';

/** The locale of the path in its canonical form; a 400 naming the fix when it is not a locale. */
function localeOf(locale: string): string {
  const canonical = canonicalLocale(locale);
  if (canonical !== undefined) return canonical;
  const message = 'must be a BCP 47 locale such as en, fr-CA or pt-BR';
  throw new HeraldError('INVALID_REQUEST', `Invalid params: /locale ${message} (got ${JSON.stringify(locale)})`, [
    { path: '/locale', message },
  ]);
}

export const translationRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['templates'];
    const notFound = (locale: string) =>
      new HeraldError('TRANSLATION_NOT_FOUND', `No translation for the locale ${JSON.stringify(locale)}`);

    app.put(
      '/translations/:locale',
      {
        schema: {
          tags,
          operationId: 'putTranslation',
          summary: "Create or replace a locale's messages",
          description:
            'The locale is stored in its canonical form (fr-ca is fr-CA). Templates use the messages from their ' +
            'next render (docs/templates.md).',
          params: TranslationParams,
          body: TranslationBody,
          response: { 200: Translation, 201: Translation },
        },
      },
      async (request, reply) => {
        const locale = localeOf(request.params.locale);
        const { messages } = request.body;
        const errors = translationErrors(messages);
        if (errors.length > 0) {
          throw new HeraldError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
        }
        const { translation, created } = await deps.store.putTranslation(
          request.environmentId,
          locale,
          messages as TranslationMessages,
          deps.clock.now(),
        );
        return reply.code(created ? 201 : 200).send(translation);
      },
    );

    app.get(
      '/translations/:locale',
      {
        schema: {
          tags,
          operationId: 'getTranslation',
          summary: "Get a locale's messages",
          params: TranslationParams,
          response: { 200: Translation },
        },
      },
      async (request) => {
        const locale = localeOf(request.params.locale);
        const translation = await deps.store.getTranslation(request.environmentId, locale);
        if (!translation) throw notFound(locale);
        return translation;
      },
    );

    app.get(
      '/translations',
      {
        schema: {
          tags,
          operationId: 'listTranslations',
          summary: 'List translations, ordered by locale',
          querystring: TranslationListQuery,
          response: { 200: TranslationPage },
        },
      },
      async (request) =>
        deps.store.listTranslations(request.environmentId, request.query.limit ?? 50, request.query.cursor),
    );

    app.delete(
      '/translations/:locale',
      {
        schema: {
          tags,
          operationId: 'deleteTranslation',
          summary: "Delete a locale's messages",
          params: TranslationParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const locale = localeOf(request.params.locale);
        if (!(await deps.store.deleteTranslation(request.environmentId, locale))) throw notFound(locale);
        return reply.code(204).send(null);
      },
    );
  };
