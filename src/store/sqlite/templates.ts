import type { Statement } from 'better-sqlite3';
import type { TemplateStore } from '../../core/store.js';
import { NO_TEMPLATE_ASSETS, type LayoutVariables, type TranslationMessages } from '../../core/template-assets.js';
import { page } from '../rows.js';
import {
  toLayout,
  toPartial,
  toTemplateAssets,
  toTranslation,
  type LayoutRow,
  type PartialRow,
  type TranslationRow,
} from '../template-rows.js';
import type { SqliteWriter } from './sqlite-writer.js';

/**
 * Layouts, partials and translations on SQLite. Every write moves the environment's revision on
 * (template_revisions) in its transaction; the revision row also names the default layout.
 */
export function sqliteTemplateMethods(
  prepared: (sql: string) => Statement,
  writer: SqliteWriter,
): Omit<TemplateStore, 'onTemplateAssetsChanged'> {
  /** Moves the revision on; answers the default layout as it was. */
  const bump = (env: string) =>
    (
      prepared(`
        INSERT INTO template_revisions (environment_id, revision, default_layout) VALUES (?, 1, NULL)
        ON CONFLICT (environment_id) DO UPDATE SET revision = revision + 1
        RETURNING default_layout`).get(env) as { default_layout: string | null }
    ).default_layout;
  const setDefault = (env: string, key: string | null) =>
    prepared('UPDATE template_revisions SET default_layout = ? WHERE environment_id = ?').run(key, env);
  const defaultLayout = (env: string) =>
    (prepared('SELECT default_layout FROM template_revisions WHERE environment_id = ?').pluck().get(env) as
      string | null | undefined) ?? null;
  const createdAt = (table: 'layouts' | 'partials', env: string, key: string) =>
    prepared(`SELECT created_at FROM ${table} WHERE environment_id = ? AND key = ?`).pluck().get(env, key) as
      number | undefined;
  const deleted = (table: 'layouts' | 'partials' | 'translations', column: 'key' | 'locale') =>
    prepared(`DELETE FROM ${table} WHERE environment_id = ? AND ${column} = ?`);

  return {
    putLayout(env, key, input, now) {
      return writer.run(() => {
        const created = createdAt('layouts', env, key);
        let current = bump(env);
        prepared(`
          INSERT INTO layouts (environment_id, key, name, html, text, variables, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (environment_id, key) DO UPDATE SET
            name = excluded.name, html = excluded.html, text = excluded.text, variables = excluded.variables,
            updated_at = excluded.updated_at`).run(
          env,
          key,
          input.name,
          input.html,
          input.text,
          JSON.stringify(input.variables),
          now,
          now,
        );
        if (input.default === true && current !== key) setDefault(env, (current = key));
        else if (input.default === false && current === key) setDefault(env, (current = null));
        const row: LayoutRow = {
          key,
          name: input.name,
          html: input.html,
          text: input.text,
          variables: JSON.stringify(input.variables),
          created_at: created ?? now,
          updated_at: now,
        };
        return { layout: toLayout(row, current), created: created === undefined };
      });
    },

    async getLayout(env, key) {
      const row = prepared(`
        SELECT key, name, html, text, variables, created_at, updated_at FROM layouts
        WHERE environment_id = ? AND key = ?`).get(env, key) as LayoutRow | undefined;
      return row ? toLayout(row, defaultLayout(env)) : undefined;
    },

    async listLayouts(env, limit, cursor) {
      const rows = prepared(`
        SELECT key, name, html, text, variables, created_at, updated_at FROM layouts
        WHERE environment_id = ? AND key > ? ORDER BY key LIMIT ?`).all(env, cursor ?? '', limit + 1) as LayoutRow[];
      const current = defaultLayout(env);
      return page(
        rows,
        limit,
        (row) => toLayout(row, current),
        (row) => row.key,
      );
    },

    deleteLayout(env, key) {
      return writer.run(() => {
        if (deleted('layouts', 'key').run(env, key).changes === 0) return false;
        if (bump(env) === key) setDefault(env, null);
        return true;
      });
    },

    putPartial(env, key, input, now) {
      return writer.run(() => {
        const created = createdAt('partials', env, key);
        bump(env);
        prepared(`
          INSERT INTO partials (environment_id, key, name, template, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (environment_id, key) DO UPDATE SET
            name = excluded.name, template = excluded.template, updated_at = excluded.updated_at`).run(
          env,
          key,
          input.name,
          input.template,
          now,
          now,
        );
        const row: PartialRow = { key, ...input, created_at: created ?? now, updated_at: now };
        return { partial: toPartial(row), created: created === undefined };
      });
    },

    async getPartial(env, key) {
      const row = prepared(`
        SELECT key, name, template, created_at, updated_at FROM partials WHERE environment_id = ? AND key = ?`).get(
        env,
        key,
      ) as PartialRow | undefined;
      return row ? toPartial(row) : undefined;
    },

    async listPartials(env, limit, cursor) {
      const rows = prepared(`
        SELECT key, name, template, created_at, updated_at FROM partials
        WHERE environment_id = ? AND key > ? ORDER BY key LIMIT ?`).all(env, cursor ?? '', limit + 1) as PartialRow[];
      return page(rows, limit, toPartial, (row) => row.key);
    },

    deletePartial(env, key) {
      return writer.run(() => {
        if (deleted('partials', 'key').run(env, key).changes === 0) return false;
        bump(env);
        return true;
      });
    },

    putTranslation(env, locale, messages, now) {
      return writer.run(() => {
        const created = prepared('SELECT created_at FROM translations WHERE environment_id = ? AND locale = ?')
          .pluck()
          .get(env, locale) as number | undefined;
        bump(env);
        prepared(`
          INSERT INTO translations (environment_id, locale, messages, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (environment_id, locale) DO UPDATE SET
            messages = excluded.messages, updated_at = excluded.updated_at`).run(
          env,
          locale,
          JSON.stringify(messages),
          now,
          now,
        );
        return {
          translation: { locale, messages, createdAt: created ?? now, updatedAt: now },
          created: created === undefined,
        };
      });
    },

    async getTranslation(env, locale) {
      const row = prepared(`
        SELECT locale, messages, created_at, updated_at FROM translations WHERE environment_id = ? AND locale = ?`).get(
        env,
        locale,
      ) as TranslationRow | undefined;
      return row ? toTranslation(row) : undefined;
    },

    async listTranslations(env, limit, cursor) {
      const rows = prepared(`
        SELECT locale, messages, created_at, updated_at FROM translations
        WHERE environment_id = ? AND locale > ? ORDER BY locale LIMIT ?`).all(
        env,
        cursor ?? '',
        limit + 1,
      ) as TranslationRow[];
      return page(rows, limit, toTranslation, (row) => row.locale);
    },

    deleteTranslation(env, locale) {
      return writer.run(() => {
        if (deleted('translations', 'locale').run(env, locale).changes === 0) return false;
        bump(env);
        return true;
      });
    },

    // Synchronous reads on the writer's connection: no write comes between them.
    async getTemplateAssets(env) {
      const revision = prepared('SELECT revision, default_layout FROM template_revisions WHERE environment_id = ?').get(
        env,
      ) as { revision: number; default_layout: string | null } | undefined;
      if (!revision) return NO_TEMPLATE_ASSETS;
      const layouts = prepared('SELECT key, html, text, variables FROM layouts WHERE environment_id = ?').all(env) as {
        key: string;
        html: string;
        text: string | null;
        variables: string;
      }[];
      const partials = prepared('SELECT key, template FROM partials WHERE environment_id = ?').all(env) as {
        key: string;
        template: string;
      }[];
      const translations = prepared('SELECT locale, messages FROM translations WHERE environment_id = ?').all(env) as {
        locale: string;
        messages: string;
      }[];
      return toTemplateAssets({
        revision: revision.revision,
        defaultLayout: revision.default_layout,
        layouts: layouts.map((row) => ({ ...row, variables: JSON.parse(row.variables) as LayoutVariables })),
        partials,
        translations: translations.map((row) => ({
          locale: row.locale,
          messages: JSON.parse(row.messages) as TranslationMessages,
        })),
      });
    },
  };
}
