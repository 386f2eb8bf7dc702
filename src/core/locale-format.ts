/**
 * Dates, times, numbers and amounts written for a locale, over `Intl` (the ICU data Node ships
 * with). Pure functions: each says what it could not format instead of throwing, and the caller
 * (core/translations.ts) turns that into a render warning.
 */

/** A formatted text, or why the value could not be formatted (a sentence for the warning). */
export type Formatted = { ok: true; text: string } | { ok: false; problem: string };

/** The styles `Intl.DateTimeFormat` takes for `dateStyle` and `timeStyle`. */
export const DATE_STYLES = ['short', 'medium', 'long', 'full'] as const;
export type DateStyle = (typeof DATE_STYLES)[number];

/** Building an Intl formatter costs far more than formatting with one: keep them, but boundedly. */
const MAX_CACHED = 500;
const formatters = new Map<string, Intl.PluralRules | Intl.NumberFormat | Intl.DateTimeFormat>();

function cached<T extends Intl.PluralRules | Intl.NumberFormat | Intl.DateTimeFormat>(key: string, build: () => T): T {
  let found = formatters.get(key) as T | undefined;
  if (!found) {
    found = build();
    // Locales and zones come from subscribers: the key space is open, so the cache is cleared when full.
    if (formatters.size >= MAX_CACHED) formatters.clear();
    formatters.set(key, found);
  }
  return found;
}

export function pluralRules(locale: string): Intl.PluralRules {
  return cached(`plural|${locale}`, () => new Intl.PluralRules(locale));
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  return cached(`number|${locale}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options));
}

function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(`date|${locale}|${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
}

const supported = new Map<string, boolean>();

/**
 * The first locale of a chain that Intl has data for (`qaa`, a private-use language, has none);
 * `en` when none has. Translations may exist for a locale Intl does not know, formats cannot.
 */
export function formatLocale(chain: readonly string[]): string {
  for (const tag of chain) {
    let known = supported.get(tag);
    if (known === undefined) {
      try {
        known = Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0;
      } catch {
        known = false; // not a well-formed tag
      }
      if (supported.size >= MAX_CACHED) supported.clear();
      supported.set(tag, known);
    }
    if (known) return tag;
  }
  return 'en';
}

/** A value quoted for a warning, cut short: warnings are shown in previews and logs. */
export function quote(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value instanceof Date) text = `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  else if (value === undefined) text = 'nothing';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** ECMAScript's date range: ±100,000,000 days around 1970. */
const MAX_EPOCH_MS = 8.64e15;

/** `2024-03-07`, `2024-03-07T10:00`, `2024-03-07T10:00:00.123Z`, `2024-03-07 10:00:00+02:00` */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** An instant to format, and whether it was written as a calendar day only. */
export interface Instant {
  epochMs: number;
  /** `2024-03-07`: a day, not an instant; it is formatted as that day in any time zone. */
  dayOnly: boolean;
}

/**
 * Reads an ISO 8601 date or date-time, epoch milliseconds or a Date. A date-time without an
 * offset is read as UTC, as JSON writes Dates (never as the server's local time). Anything else,
 * including an impossible date (`2024-02-30`), is undefined.
 */
export function parseInstant(value: unknown): Instant | undefined {
  if (value instanceof Date) {
    const epochMs = value.getTime();
    return Number.isNaN(epochMs) ? undefined : { epochMs, dayOnly: false };
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_MS ? { epochMs: value, dayOnly: false } : undefined;
  }
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const match = ISO_8601.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', offset = 'Z'] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  utc.setUTCFullYear(y); // Date.UTC maps years 0–99 to 1900–1999
  if (utc.getUTCDate() !== d || utc.getUTCMonth() !== mo - 1) return undefined; // 2024-02-30
  let offsetMs = 0;
  if (offset.toUpperCase() !== 'Z') {
    const [, sign, oh, om = '0'] = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset)!;
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    offsetMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  }
  return { epochMs: utc.getTime() - offsetMs, dayOnly: match[4] === undefined };
}

/** What to write of an instant: a date, a time, or both, each in a style. */
export interface InstantFormat {
  locale: string;
  timeZone: string;
  dateStyle?: DateStyle;
  timeStyle?: DateStyle;
}

export function formatInstant(value: unknown, format: InstantFormat): Formatted {
  const instant = parseInstant(value);
  if (!instant) {
    return {
      ok: false,
      problem: `${quote(value)} is not a date (an ISO 8601 text, epoch milliseconds or a Date)`,
    };
  }
  const options: Intl.DateTimeFormatOptions = {
    timeZone: instant.dayOnly ? 'UTC' : format.timeZone,
    ...(format.dateStyle ? { dateStyle: format.dateStyle } : {}),
    ...(format.timeStyle ? { timeStyle: format.timeStyle } : {}),
  };
  return { ok: true, text: dateTimeFormat(format.locale, options).format(instant.epochMs) };
}

/** A plain decimal written in data: `12`, `-3.5`, `1e3` (not `0x10`, `""` or `Infinity`). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A finite number, or a text that writes one; undefined otherwise. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.length <= 40 && DECIMAL.test(value.trim())) {
    const number = Number(value.trim());
    return Number.isFinite(number) ? number : undefined;
  }
  return undefined;
}

function notANumber(value: unknown): Formatted {
  return { ok: false, problem: `${quote(value)} is not a number` };
}

/** A number for a locale; `maxFractionDigits` 0–20 (Intl's default is 3). */
export function formatNumber(value: unknown, locale: string, maxFractionDigits?: number): Formatted {
  const number = toNumber(value);
  if (number === undefined) return notANumber(value);
  const options = maxFractionDigits === undefined ? {} : { maximumFractionDigits: maxFractionDigits };
  return { ok: true, text: numberFormat(locale, options).format(number) };
}

let currencies: Set<string> | undefined;

/** An ISO 4217 code Intl knows, upper-cased (`eur` → `EUR`); undefined for anything else. */
export function currencyCode(code: unknown): string | undefined {
  if (typeof code !== 'string' || !/^[A-Za-z]{3}$/.test(code)) return undefined;
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  const upper = code.toUpperCase();
  return currencies.has(upper) ? upper : undefined;
}

/** An amount in a currency, with the currency's own number of decimals (JPY none, EUR two). */
export function formatCurrency(value: unknown, locale: string, code: unknown): Formatted {
  const currency = currencyCode(code);
  if (!currency) return { ok: false, problem: `${quote(code)} is not an ISO 4217 currency code (EUR, USD, JPY, …)` };
  const number = toNumber(value);
  if (number === undefined) return notANumber(value);
  return { ok: true, text: numberFormat(locale, { style: 'currency', currency }).format(number) };
}
