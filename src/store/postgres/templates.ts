import type pg from 'pg';
import type { TemplateStore } from '../../core/store.js';
import { NO_TEMPLATE_ASSETS, type TemplateAssets } from '../../core/template-assets.js';
import { page } from '../rows.js';
import {
  toLayout,
  toPartial,
  toTemplateAssets,
  toTranslation,
  type LayoutRow,
  type PartialRow,
  type TemplateAssetRows,
  type TranslationRow,
} from '../template-rows.js';

type Client = pg.Pool | pg.PoolClient;

/**
 * Layouts, partials and translations on PostgreSQL. Every write first moves the environment's
 * revision on (template_revisions): that row's lock orders concurrent writes of one environment,
 * and the revision row also names the default layout. Writes announce the environment on
 * `templatesChannel` in their transaction; the assembly (postgres-store.ts) listens.
 */
export function postgresTemplateMethods(
  pool: pg.Pool,
  transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
  templatesChannel: string,
): Omit<TemplateStore, 'onTemplateAssetsChanged'> {
  /** Moves the revision on and tells every process's cache; answers the default layout as it was. */
  const bump = async (client: Client, env: string) => {
    const { rows } = await client.query<{ default_layout: string | null }>(
      `INSERT INTO template_revisions (environment_id, revision, default_layout) VALUES ($1, 1, NULL)
       ON CONFLICT (environment_id) DO UPDATE SET revision = template_revisions.revision + 1
       RETURNING default_layout`,
      [env],
    );
    await client.query('SELECT pg_notify($1, $2)', [templatesChannel, env]);
    return rows[0]!.default_layout;
  };
  const setDefault = (client: Client, env: string, key: string | null) =>
    client.query('UPDATE template_revisions SET default_layout = $2 WHERE environment_id = $1', [env, key]);
  const defaultLayout = async (env: string) =>
    (
      await pool.query<{ default_layout: string | null }>(
        'SELECT default_layout FROM template_revisions WHERE environment_id = $1',
        [env],
      )
    ).rows[0]?.default_layout ?? null;
  /** Deletes a partial or translation and, when there was one, moves the revision on. */
  const remove = (table: 'partials' | 'translations', column: 'key' | 'locale', env: string, id: string) =>
    transaction(async (client) => {
      const result = await client.query(`DELETE FROM ${table} WHERE environment_id = $1 AND ${column} = $2`, [env, id]);
      if ((result.rowCount ?? 0) === 0) return false;
      await bump(client, env);
      return true;
    });

  return {
    async putLayout(env, key, input, now) {
      return transaction(async (client) => {
        let current = await bump(client, env);
        // xmax is 0 on a row this statement inserted, and set on one it updated.
        const { rows } = await client.query<LayoutRow & { created: boolean }>(
          `INSERT INTO layouts (environment_id, key, name, html, text, variables, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
           ON CONFLICT (environment_id, key) DO UPDATE SET
             name = excluded.name, html = excluded.html, text = excluded.text, variables = excluded.variables,
             updated_at = excluded.updated_at
           RETURNING key, name, html, text, variables, created_at, updated_at, (xmax = 0) AS created`,
          [env, key, input.name, input.html, input.text, JSON.stringify(input.variables), now],
        );
        if (input.default === true && current !== key) await setDefault(client, env, (current = key));
        else if (input.default === false && current === key) await setDefault(client, env, (current = null));
        return { layout: toLayout(rows[0]!, current), created: rows[0]!.created };
      });
    },

    async getLayout(env, key) {
      const { rows } = await pool.query<LayoutRow & { default_layout: string | null }>(
        `SELECT l.key, l.name, l.html, l.text, l.variables, l.created_at, l.updated_at, r.default_layout
         FROM layouts l LEFT JOIN template_revisions r ON r.environment_id = l.environment_id
         WHERE l.environment_id = $1 AND l.key = $2`,
        [env, key],
      );
      const row = rows[0];
      return row ? toLayout(row, row.default_layout) : undefined;
    },

    async listLayouts(env, limit, cursor) {
      const [{ rows }, current] = await Promise.all([
        pool.query<LayoutRow>(
          `SELECT key, name, html, text, variables, created_at, updated_at FROM layouts
           WHERE environment_id = $1 AND key > $2 ORDER BY key LIMIT $3`,
          [env, cursor ?? '', limit + 1],
        ),
        defaultLayout(env),
      ]);
      return page(
        rows,
        limit,
        (row) => toLayout(row, current),
        (row) => row.key,
      );
    },

    async deleteLayout(env, key) {
      return transaction(async (client) => {
        const result = await client.query('DELETE FROM layouts WHERE environment_id = $1 AND key = $2', [env, key]);
        if ((result.rowCount ?? 0) === 0) return false;
        if ((await bump(client, env)) === key) await setDefault(client, env, null);
        return true;
      });
    },

    async putPartial(env, key, input, now) {
      return transaction(async (client) => {
        await bump(client, env);
        const { rows } = await client.query<PartialRow & { created: boolean }>(
          `INSERT INTO partials (environment_id, key, name, template, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (environment_id, key) DO UPDATE SET
             name = excluded.name, template = excluded.template, updated_at = excluded.updated_at
           RETURNING key, name, template, created_at, updated_at, (xmax = 0) AS created`,
          [env, key, input.name, input.template, now],
        );
        return { partial: toPartial(rows[0]!), created: rows[0]!.created };
      });
    },

    async getPartial(env, key) {
      const { rows } = await pool.query<PartialRow>(
        'SELECT key, name, template, created_at, updated_at FROM partials WHERE environment_id = $1 AND key = $2',
        [env, key],
      );
      return rows[0] ? toPartial(rows[0]) : undefined;
    },

    async listPartials(env, limit, cursor) {
      const { rows } = await pool.query<PartialRow>(
        `SELECT key, name, template, created_at, updated_at FROM partials
         WHERE environment_id = $1 AND key > $2 ORDER BY key LIMIT $3`,
        [env, cursor ?? '', limit + 1],
      );
      return page(rows, limit, toPartial, (row) => row.key);
    },

    async deletePartial(env, key) {
      return remove('partials', 'key', env, key);
    },

    async putTranslation(env, locale, messages, now) {
      return transaction(async (client) => {
        await bump(client, env);
        const { rows } = await client.query<TranslationRow & { created: boolean }>(
          `INSERT INTO translations (environment_id, locale, messages, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (environment_id, locale) DO UPDATE SET
             messages = excluded.messages, updated_at = excluded.updated_at
           RETURNING locale, messages, created_at, updated_at, (xmax = 0) AS created`,
          [env, locale, JSON.stringify(messages), now],
        );
        return { translation: toTranslation(rows[0]!), created: rows[0]!.created };
      });
    },

    async getTranslation(env, locale) {
      const { rows } = await pool.query<TranslationRow>(
        'SELECT locale, messages, created_at, updated_at FROM translations WHERE environment_id = $1 AND locale = $2',
        [env, locale],
      );
      return rows[0] ? toTranslation(rows[0]) : undefined;
    },

    async listTranslations(env, limit, cursor) {
      const { rows } = await pool.query<TranslationRow>(
        `SELECT locale, messages, created_at, updated_at FROM translations
         WHERE environment_id = $1 AND locale > $2 ORDER BY locale LIMIT $3`,
        [env, cursor ?? '', limit + 1],
      );
      return page(rows, limit, toTranslation, (row) => row.locale);
    },

    async deleteTranslation(env, locale) {
      return remove('translations', 'locale', env, locale);
    },

    // One statement: one snapshot, so the revision and the assets read agree.
    async getTemplateAssets(env): Promise<TemplateAssets> {
      const { rows } = await pool.query<{
        revision: number;
        default_layout: string | null;
        layouts: TemplateAssetRows['layouts'];
        partials: TemplateAssetRows['partials'];
        translations: TemplateAssetRows['translations'];
      }>(
        `SELECT r.revision, r.default_layout,
           (SELECT COALESCE(json_agg(json_build_object(
                     'key', l.key, 'html', l.html, 'text', l.text, 'variables', l.variables::json)), '[]')
            FROM layouts l WHERE l.environment_id = r.environment_id) AS layouts,
           (SELECT COALESCE(json_agg(json_build_object('key', p.key, 'template', p.template)), '[]')
            FROM partials p WHERE p.environment_id = r.environment_id) AS partials,
           (SELECT COALESCE(json_agg(json_build_object('locale', t.locale, 'messages', t.messages::json)), '[]')
            FROM translations t WHERE t.environment_id = r.environment_id) AS translations
         FROM template_revisions r WHERE r.environment_id = $1`,
        [env],
      );
      const row = rows[0];
      if (!row) return NO_TEMPLATE_ASSETS;
      return toTemplateAssets({
        revision: row.revision,
        defaultLayout: row.default_layout,
        layouts: row.layouts,
        partials: row.partials,
        translations: row.translations,
      });
    },
  };
}
