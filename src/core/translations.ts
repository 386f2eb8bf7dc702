import { canonicalTimeZone, isTimeZone } from './local-time.js';
import { numberFormat, pluralRules, quote, toNumber } from './locale-format.js';

/**
 * Translations and the locale of one render: which locales a subscriber's language falls back
 * through, and message lookup with plural forms and `{{ name }}` placeholders. The Liquid filters
 * over them are in core/locale-filters.ts. Nothing here throws on bad data: a problem becomes the
 * best text available plus a warning (docs/translations.md).
 */

/** A locale's messages: nested keys; a leaf is a string, or a plural object whose keys are CLDR categories (zero, one, two, few, many, other; `other` required). */
export type TranslationMessages = { [key: string]: string | TranslationMessages };

/** What one render knows about its language and time zone; kept on the render scope under RENDER_LOCALE. */
export interface RenderLocale {
  /** The locales tried in order, e.g. ['fr-CA', 'fr', 'en'] */
  chain: string[];
  timeZone: string;
  translations: Record<string, TranslationMessages>; // by canonical locale
  /** Problems met while rendering (missing keys, bad arguments), for the preview and the log. */
  warnings: string[];
}

/** A symbol key: templates (ownPropertyOnly, string paths) cannot reach it. */
export const RENDER_LOCALE = Symbol('herald.renderLocale');

/** A template in a loop could repeat one problem without end: warnings are distinct and few. */
export const MAX_WARNINGS = 50;

const PLURAL_CATEGORIES = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

/** Characters that repeated placeholders may add to one message, beyond each variable's text once. */
export const MAX_REPEATED_TEXT = 10_000;

/** `{{ name }}`, `{{ order.id }}`, `{{ items.0 }}`: a path into the variables, nothing more. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/g;

/** Records a problem of the render for its preview and log (distinct, at most MAX_WARNINGS). */
export function warn(locale: RenderLocale, warning: string): void {
  if (locale.warnings.length < MAX_WARNINGS && !locale.warnings.includes(warning)) locale.warnings.push(warning);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An own property only: `constructor` or `__proto__` never reach Object.prototype. */
function own(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

// --- The locale chain ------------------------------------------------------------------------

/** A tag in canonical form (`EN_us` → `en-US`), or undefined when it is not a BCP 47 tag. */
function canonicalLocale(tag: unknown): string | undefined {
  if (typeof tag !== 'string' || tag === '' || tag.length > 100) return undefined;
  try {
    return Intl.getCanonicalLocales(tag.replace(/_/g, '-'))[0];
  } catch {
    return undefined;
  }
}

/**
 * A tag and the shorter tags it falls back to (RFC 4647 lookup): `zh-Hant-TW` → `zh-Hant-TW`,
 * `zh-Hant`, `zh`. Extensions (`-u-…`, `-x-…`) stay on the full tag only.
 */
function fallbacks(tag: string): string[] {
  const subtags = tag.split('-');
  const singleton = subtags.findIndex((subtag, i) => i > 0 && subtag.length === 1);
  const base = singleton === -1 ? subtags : subtags.slice(0, singleton);
  const tags = singleton === -1 ? [] : [tag];
  for (let n = base.length; n >= 1; n--) tags.push(base.slice(0, n).join('-'));
  return tags;
}

const chains = new Map<string, string[]>();

/**
 * The locales a render tries, in order: the requested one and its shorter forms, then the
 * default locale and its shorter forms, without repeats. An invalid tag is skipped; with no
 * valid tag at all the chain is `['en']`.
 */
export function localeChain(requested: string | null | undefined, defaultLocale: string): string[] {
  const key = `${requested ?? ''}\u0000${defaultLocale}`;
  let chain = chains.get(key);
  if (!chain) {
    const tags = [canonicalLocale(requested), canonicalLocale(defaultLocale)].flatMap((tag) =>
      tag ? fallbacks(tag) : [],
    );
    chain = tags.length > 0 ? [...new Set(tags)] : ['en'];
    if (chains.size >= 1000) chains.clear(); // requested locales come from subscribers
    chains.set(key, chain);
  }
  return [...chain];
}

/**
 * The locale of one render, from the subscriber's locale and time zone (either may be missing or
 * wrong: the defaults are used, with a warning) and the environment's translations.
 */
export function renderLocale(input: {
  locale?: string | null;
  timeZone?: string | null;
  defaultLocale: string;
  defaultTimeZone: string;
  translations: Record<string, TranslationMessages>;
}): RenderLocale {
  const warnings: string[] = [];
  const chain = localeChain(input.locale, input.defaultLocale);
  if (input.locale != null && input.locale !== '' && !canonicalLocale(input.locale)) {
    warnings.push(`unknown locale ${quote(input.locale)}: using ${chain.join(', ')}`);
  }
  if (!canonicalLocale(input.defaultLocale)) {
    warnings.push(`unknown default locale ${quote(input.defaultLocale)}: using ${chain.join(', ')}`);
  }
  const defaultZone = isTimeZone(input.defaultTimeZone) ? canonicalTimeZone(input.defaultTimeZone) : 'UTC';
  if (!isTimeZone(input.defaultTimeZone)) {
    warnings.push(`unknown default time zone ${quote(input.defaultTimeZone)}: using UTC`);
  }
  let timeZone = defaultZone;
  if (isTimeZone(input.timeZone)) timeZone = canonicalTimeZone(input.timeZone);
  else if (input.timeZone != null && input.timeZone !== '') {
    warnings.push(`unknown time zone ${quote(input.timeZone)}: using ${defaultZone}`);
  }
  return { chain, timeZone, translations: input.translations, warnings };
}

// --- Messages --------------------------------------------------------------------------------

type PluralForms = Partial<Record<string, string>> & { other: string };

/** An object whose keys are all CLDR plural categories, `other` among them, each a string. */
function isPluralForms(node: Record<string, unknown>): node is PluralForms {
  const keys = Object.keys(node);
  return (
    typeof own(node, 'other') === 'string' &&
    keys.every((key) => PLURAL_CATEGORIES.has(key) && typeof node[key] === 'string')
  );
}

/** The message a dotted key names in one locale's messages: a string or plural forms. */
function lookup(messages: Record<string, unknown>, key: string): string | PluralForms | undefined {
  let node: unknown = messages;
  for (const segment of key.split('.')) {
    if (!isRecord(node) || segment === '') return undefined;
    node = own(node, segment);
  }
  if (typeof node === 'string') return node;
  return isRecord(node) && isPluralForms(node) ? node : undefined;
}

function readPath(vars: Record<string, unknown>, path: string): unknown {
  let node: unknown = vars;
  for (const segment of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = own(node, segment);
  }
  return node;
}

/** What a variable writes into a message: primitives as text; objects and lists are not text. */
function text(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
      return undefined;
  }
}

/**
 * Fills a message's placeholders in one pass: a variable's text is never read for placeholders.
 * Each variable's text is written in full the first time; repeats of variables add at most
 * MAX_REPEATED_TEXT characters in all, so a message that names a large variable many times
 * cannot multiply it.
 */
function interpolate(
  message: string,
  vars: Record<string, unknown>,
  count: number | undefined,
  tag: string,
  key: string,
  locale: RenderLocale,
): string {
  const written = new Set<string>();
  let repeated = 0;
  return message.replace(PLACEHOLDER, (_, path: string) => {
    const value =
      path === 'count' && count !== undefined ? numberFormat(tag).format(count) : text(readPath(vars, path));
    if (value === undefined) {
      warn(locale, `translation ${quote(key)} (${tag}): no text for {{ ${path} }}`);
      return '';
    }
    if (!written.has(path)) written.add(path);
    else if ((repeated += value.length) > MAX_REPEATED_TEXT) {
      warn(locale, `translation ${quote(key)} (${tag}): repeats its variables past ${MAX_REPEATED_TEXT} characters`);
      return '';
    }
    return value;
  });
}

/**
 * A message for a key in the first locale of the chain that has it. Plural forms are chosen by
 * `count` under that locale's plural rules (written with its digits in `{{ count }}`);
 * `{{ path }}` placeholders are filled from `vars`. A key no locale has renders as itself.
 */
export function translate(locale: RenderLocale, key: string, vars: Record<string, unknown>): string {
  for (const tag of locale.chain) {
    const messages = own(locale.translations, tag);
    if (!isRecord(messages)) continue;
    const found = lookup(messages, key);
    if (found === undefined) continue;
    const count = toNumber(own(vars, 'count'));
    let message: string;
    if (typeof found === 'string') message = found;
    else if (count === undefined) {
      warn(locale, `translation ${quote(key)} (${tag}) has plural forms but no number in count: used "other"`);
      message = found.other;
    } else message = (own(found, pluralRules(tag).select(count)) as string | undefined) ?? found.other;
    return interpolate(message, vars, count, tag, key, locale);
  }
  warn(locale, `missing translation ${quote(key)} (${locale.chain.join(', ')})`);
  return key;
}
