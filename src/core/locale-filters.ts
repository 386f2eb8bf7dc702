import type { Context, FilterImplOptions, Liquid } from 'liquidjs';
import { isTimeZone } from './local-time.js';
import {
  DATE_STYLES,
  formatCurrency,
  formatInstant,
  formatLocale,
  formatNumber,
  quote,
  type DateStyle,
  type Formatted,
} from './locale-format.js';
import { RENDER_LOCALE, translate, warn, type RenderLocale } from './translations.js';

/**
 * The Liquid filters of translations and locale formats: `t`, `format_date`, `format_time`,
 * `format_datetime`, `format_number`, `format_currency` (docs/translations.md). Each reads the
 * render's RenderLocale from the scope and never throws on bad input: it renders the best text it
 * has (the key, the input unchanged) and adds a warning.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

type FilterHandler = Extract<FilterImplOptions, (...args: never[]) => unknown>;
/** What a filter is called on: the render's context and the filter's own token (its written arguments). */
type FilterThis = ThisParameterType<FilterHandler>;

/** The RenderLocale of a render without one (callers before translations): English, UTC, no messages. */
function defaultRenderLocale(): RenderLocale {
  return { chain: ['en'], timeZone: 'UTC', translations: {}, warnings: [] };
}

function isRenderLocale(value: unknown): value is RenderLocale {
  return (
    isRecord(value) &&
    Array.isArray(value.chain) &&
    typeof value.timeZone === 'string' &&
    isRecord(value.translations) &&
    Array.isArray(value.warnings)
  );
}

/**
 * The RenderLocale on the render's scope. Filters inside `where_exp` and the like run in a
 * context spawned over one item, without the scope: there the globals are tried, then defaults.
 */
function localeOf(context: Context): RenderLocale {
  for (const scope of [context.environments, context.globals]) {
    const found: unknown = isRecord(scope) ? (scope as Record<symbol, unknown>)[RENDER_LOCALE] : undefined;
    if (isRenderLocale(found)) return found;
  }
  return defaultRenderLocale();
}

/** Counts a filter's output against the render's memory limit, as Liquid's own filters do. */
function emit(impl: FilterThis, output: string): string {
  impl.context.memoryLimit.use(output.length);
  return output;
}

/** Positional arguments of a filter call; a `name: value` one is reported and left out. */
function positional(impl: FilterThis, filter: string, args: unknown[], locale: RenderLocale): unknown[] {
  return args.filter((arg, i) => {
    if (!Array.isArray(impl.token.args[i])) return true;
    warn(locale, `${filter} takes no named arguments: ignored ${quote(impl.token.args[i]![0])}`);
    return false;
  });
}

function style(value: unknown, fallback: DateStyle, filter: string, locale: RenderLocale): DateStyle {
  if (value === undefined) return fallback;
  if ((DATE_STYLES as readonly unknown[]).includes(value)) return value as DateStyle;
  warn(locale, `${filter}: ${quote(value)} is not a style (${DATE_STYLES.join(', ')}): used ${fallback}`);
  return fallback;
}

/** The text formatted (counted against the memory limit), or the input unchanged with a warning. */
function formatted(impl: FilterThis, result: Formatted, input: unknown, filter: string, locale: RenderLocale): unknown {
  if (result.ok) return emit(impl, result.text);
  warn(locale, `${filter}: ${result.problem}`);
  return input;
}

function instantFilter(name: string, defaults: { date?: DateStyle; time?: DateStyle }): FilterHandler {
  return function (this: FilterThis, value: unknown, ...args: unknown[]) {
    const locale = localeOf(this.context);
    const [first, second] = positional(this, name, args, locale);
    const dateStyle = defaults.date && style(first, defaults.date, name, locale);
    const timeStyle = defaults.time && style(defaults.date ? second : first, defaults.time, name, locale);
    const result = formatInstant(value, {
      locale: formatLocale(locale.chain),
      timeZone: isTimeZone(locale.timeZone) ? locale.timeZone : 'UTC',
      ...(dateStyle ? { dateStyle } : {}),
      ...(timeStyle ? { timeStyle } : {}),
    });
    return formatted(this, result, value, name, locale);
  };
}

function t(this: FilterThis, key: unknown, ...args: unknown[]): string {
  const locale = localeOf(this.context);
  if (typeof key !== 'string' && typeof key !== 'number') {
    warn(locale, `t needs a message key (a text), not ${quote(key)}`);
    return '';
  }
  const vars: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  args.forEach((arg, i) => {
    const written = this.token.args[i];
    if (Array.isArray(written)) vars[(arg as [string, unknown])[0]] = (arg as [string, unknown])[1];
    else warn(locale, `t takes named arguments (t: name: value): ignored ${quote(arg)}`);
  });
  return emit(this, translate(locale, String(key), vars));
}

function formatNumberFilter(this: FilterThis, value: unknown, ...args: unknown[]): unknown {
  const locale = localeOf(this.context);
  const [digits] = positional(this, 'format_number', args, locale);
  let maxFractionDigits: number | undefined;
  if (digits !== undefined) {
    if (Number.isInteger(digits) && (digits as number) >= 0 && (digits as number) <= 20) {
      maxFractionDigits = digits as number;
    } else warn(locale, `format_number: ${quote(digits)} is not a number of decimals (0–20)`);
  }
  return formatted(
    this,
    formatNumber(value, formatLocale(locale.chain), maxFractionDigits),
    value,
    'format_number',
    locale,
  );
}

function formatCurrencyFilter(this: FilterThis, value: unknown, ...args: unknown[]): unknown {
  const locale = localeOf(this.context);
  const [code] = positional(this, 'format_currency', args, locale);
  return formatted(this, formatCurrency(value, formatLocale(locale.chain), code), value, 'format_currency', locale);
}

/**
 * Adds `t`, `format_date`, `format_time`, `format_datetime`, `format_number` and
 * `format_currency` to a Liquid instance. They read the render's RenderLocale from the scope
 * object under RENDER_LOCALE (English and UTC without one) and never throw on bad input.
 */
export function registerLocaleFilters(liquid: Liquid): void {
  liquid.registerFilter('t', t);
  liquid.registerFilter('format_date', instantFilter('format_date', { date: 'medium' }));
  liquid.registerFilter('format_time', instantFilter('format_time', { time: 'short' }));
  liquid.registerFilter('format_datetime', instantFilter('format_datetime', { date: 'medium', time: 'short' }));
  liquid.registerFilter('format_number', formatNumberFilter);
  liquid.registerFilter('format_currency', formatCurrencyFilter);
}
