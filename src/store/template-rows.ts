import type {
  Layout,
  LayoutVariables,
  TemplateAssets,
  TemplatePartial,
  Translation,
  TranslationMessages,
} from '../core/template-assets.js';

// Layouts, partials, translations and an environment's template assets as both stores read them.

export interface LayoutRow {
  key: string;
  name: string;
  html: string;
  text: string | null;
  variables: string; // JSON object
  created_at: number;
  updated_at: number;
}

export const toLayout = (row: LayoutRow, defaultLayout: string | null): Layout => ({
  key: row.key,
  name: row.name,
  html: row.html,
  text: row.text,
  variables: JSON.parse(row.variables) as LayoutVariables,
  default: row.key === defaultLayout,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface PartialRow {
  key: string;
  name: string;
  template: string;
  created_at: number;
  updated_at: number;
}

export const toPartial = (row: PartialRow): TemplatePartial => ({
  key: row.key,
  name: row.name,
  template: row.template,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface TranslationRow {
  locale: string;
  messages: string; // JSON object
  created_at: number;
  updated_at: number;
}

export const toTranslation = (row: TranslationRow): Translation => ({
  locale: row.locale,
  messages: JSON.parse(row.messages) as TranslationMessages,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** What getTemplateAssets reads: the environment's revision row and its assets' columns. */
export interface TemplateAssetRows {
  revision: number | string;
  defaultLayout: string | null;
  layouts: { key: string; html: string; text: string | null; variables: LayoutVariables }[];
  partials: { key: string; template: string }[];
  translations: { locale: string; messages: TranslationMessages }[];
}

export function toTemplateAssets(rows: TemplateAssetRows): TemplateAssets {
  const assets: TemplateAssets = {
    revision: String(rows.revision),
    layouts: {},
    defaultLayout: rows.defaultLayout,
    partials: {},
    translations: {},
  };
  for (const { key, html, text, variables } of rows.layouts) assets.layouts[key] = { html, text, variables };
  for (const { key, template } of rows.partials) assets.partials[key] = template;
  for (const { locale, messages } of rows.translations) assets.translations[locale] = messages;
  return assets;
}
