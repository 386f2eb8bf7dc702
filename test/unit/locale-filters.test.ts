import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { registerLocaleFilters } from '../../src/core/locale-filters.js';
import { parseInstant } from '../../src/core/locale-format.js';
import { RENDER_LOCALE, renderLocale, type RenderLocale } from '../../src/core/translations.js';

// The format_* filters through a Liquid configured as src/core/templates.ts's sandbox.

const SANDBOX = {
  ownPropertyOnly: true,
  templates: {},
  strictFilters: true,
  parseLimit: 1_000_000,
  renderLimit: 250,
  memoryLimit: 10_000_000,
} as const;

const liquid = new Liquid({ ...SANDBOX, outputEscape: 'escape' });
registerLocaleFilters(liquid);

function localeFor(locale: string, timeZone = 'UTC'): RenderLocale {
  return renderLocale({ locale, timeZone, defaultLocale: 'en', defaultTimeZone: 'UTC', translations: {} });
}

/** Intl writes no-break and narrow no-break spaces (`4:30 PM`, `1.234,50 €`): compared as spaces. */
function render(source: string, locale: RenderLocale, data: Record<string, unknown> = {}): string {
  return liquid.parseAndRenderSync(source, { data, [RENDER_LOCALE]: locale }).replace(/[\u00a0\u202f]/g, ' ');
}

/** 03:30 UTC: already Wednesday in Berlin, still Tuesday evening in New York. */
const AT = '2027-03-10T03:30:00Z';

describe('format_date, format_time, format_datetime', () => {
  it('write the day in the render time zone, across a date boundary', () => {
    const berlin = localeFor('en', 'Europe/Berlin');
    const newYork = localeFor('en', 'America/New_York');
    expect(render('{{ data.at | format_date }}', berlin, { at: AT })).toBe('Mar 10, 2027');
    expect(render('{{ data.at | format_date }}', newYork, { at: AT })).toBe('Mar 9, 2027');
    expect(render('{{ data.at | format_time }}', berlin, { at: AT })).toBe('4:30 AM');
    expect(render('{{ data.at | format_time }}', newYork, { at: AT })).toBe('10:30 PM');
    expect(render('{{ data.at | format_datetime: "full", "short" }}', newYork, { at: AT })).toBe(
      'Tuesday, March 9, 2027 at 10:30 PM',
    );
  });

  it('write for the render locale, in the style asked', () => {
    const german = localeFor('de-AT', 'Europe/Berlin');
    expect(render('{{ data.at | format_date: "long" }}', german, { at: AT })).toBe('10. März 2027');
    expect(render('{{ data.at | format_date: "short" }}', localeFor('fr-CA', 'Europe/Berlin'), { at: AT })).toBe(
      '2027-03-10',
    );
    expect(render('{{ data.at | format_time: "short" }}', german, { at: AT })).toBe('04:30');
    expect(german.warnings).toEqual([]);
  });

  it('take epoch milliseconds, offsets and offset-less date-times (as UTC)', () => {
    const berlin = localeFor('en', 'Europe/Berlin');
    const epoch = Date.parse(AT);
    expect(render('{{ data.at | format_datetime }}', berlin, { at: epoch })).toBe('Mar 10, 2027, 4:30 AM');
    expect(render('{{ data.at | format_datetime }}', berlin, { at: '2027-03-10T05:30:00+02:00' })).toBe(
      'Mar 10, 2027, 4:30 AM',
    );
    expect(render('{{ data.at | format_datetime }}', berlin, { at: '2027-03-10 03:30' })).toBe('Mar 10, 2027, 4:30 AM');
  });

  it('write a date without a time as that calendar day in any zone', () => {
    const newYork = localeFor('en', 'America/New_York');
    expect(render('{{ data.day | format_date }}', newYork, { day: '2027-03-10' })).toBe('Mar 10, 2027');
  });

  it('render invalid input unchanged, with a warning, and never throw', () => {
    const locale = localeFor('en');
    expect(render('{{ data.at | format_date }}', locale, { at: 'next tuesday' })).toBe('next tuesday');
    expect(render('[{{ data.missing | format_date }}]', locale)).toBe('[]');
    expect(render('{{ data.at | format_date }}', locale, { at: '2027-02-30' })).toBe('2027-02-30');
    expect(render('{{ data.at | format_date: "tiny" }}', locale, { at: AT })).toBe('Mar 10, 2027');
    expect(render('{{ data.at | format_time: style: "long" }}', locale, { at: AT })).toBe('3:30 AM');
    expect(locale.warnings).toEqual([
      'format_date: "next tuesday" is not a date (an ISO 8601 text, epoch milliseconds or a Date)',
      'format_date: nothing is not a date (an ISO 8601 text, epoch milliseconds or a Date)',
      'format_date: "2027-02-30" is not a date (an ISO 8601 text, epoch milliseconds or a Date)',
      'format_date: "tiny" is not a style (short, medium, long, full): used medium',
      'format_time takes no named arguments: ignored "style"',
    ]);
  });

  it('use UTC when the RenderLocale has a zone Intl does not know', () => {
    const locale: RenderLocale = { chain: ['en'], timeZone: 'Mars/Olympus', translations: {}, warnings: [] };
    expect(render('{{ data.at | format_time }}', locale, { at: AT })).toBe('3:30 AM');
  });
});

describe('parseInstant', () => {
  it('reads ISO 8601, epoch milliseconds and Dates, and nothing else', () => {
    expect(parseInstant('2027-03-10T03:30:00.250Z')).toEqual({ epochMs: Date.parse(AT) + 250, dayOnly: false });
    expect(parseInstant('2027-03-10t03:30-0130')).toEqual({ epochMs: Date.parse('2027-03-10T05:00Z'), dayOnly: false });
    expect(parseInstant('0024-02-29')?.dayOnly).toBe(true);
    expect(parseInstant(new Date(AT))).toEqual({ epochMs: Date.parse(AT), dayOnly: false });
    for (const bad of [
      '2027-13-01',
      '2027-03-10T24:00Z',
      '2027-03-10T10:00+25:00',
      'March 10, 2027',
      '1e12',
      NaN,
      Infinity,
      9e15,
      new Date(NaN),
      null,
      {},
      ['2027-03-10'],
    ]) {
      expect(parseInstant(bad)).toBeUndefined();
    }
  });
});

describe('format_number, format_currency', () => {
  it('write numbers for the locale, with an optional number of decimals', () => {
    expect(render('{{ data.n | format_number }}', localeFor('en-US'), { n: 1234567.891 })).toBe('1,234,567.891');
    expect(render('{{ data.n | format_number }}', localeFor('fr'), { n: 1234567.891 })).toBe('1 234 567,891');
    expect(render('{{ data.n | format_number: 1 }}', localeFor('de'), { n: '1234.56' })).toBe('1.234,6');
  });

  it('write an amount in the currency, as de-DE and en-US write it', () => {
    expect(render('{{ data.n | format_currency: "EUR" }}', localeFor('de-DE'), { n: 1234.5 })).toBe('1.234,50 €');
    expect(render('{{ data.n | format_currency: "EUR" }}', localeFor('en-US'), { n: 1234.5 })).toBe('€1,234.50');
    expect(render('{{ data.n | format_currency: "jpy" }}', localeFor('en-US'), { n: 1234.5 })).toBe('¥1,235');
  });

  it('render invalid input unchanged, with a warning', () => {
    const locale = localeFor('en');
    expect(render('{{ data.n | format_number }}', locale, { n: 'lots' })).toBe('lots');
    expect(render('{{ data.n | format_number: 99 }}', locale, { n: 1.23456 })).toBe('1.235');
    expect(render('{{ data.n | format_currency: "EURO" }}', locale, { n: 5 })).toBe('5');
    expect(render('{{ data.n | format_currency: "XYZ" }}', locale, { n: 5 })).toBe('5');
    expect(render('{{ data.n | format_currency }}', locale, { n: 5 })).toBe('5');
    expect(render('{{ data.n | format_currency: "USD" }}', locale, { n: [1] })).toBe('1');
    expect(locale.warnings).toEqual([
      'format_number: "lots" is not a number',
      'format_number: 99 is not a number of decimals (0–20)',
      'format_currency: "EURO" is not an ISO 4217 currency code (EUR, USD, JPY, …)',
      'format_currency: "XYZ" is not an ISO 4217 currency code (EUR, USD, JPY, …)',
      'format_currency: nothing is not an ISO 4217 currency code (EUR, USD, JPY, …)',
      'format_currency: [1] is not a number',
    ]);
  });

  it('use the first locale of the chain that Intl knows', () => {
    // qaa is a private-use language: translations may exist for it, formats fall back to fr.
    const locale = renderLocale({ locale: 'qaa', defaultLocale: 'fr', defaultTimeZone: 'UTC', translations: {} });
    expect(locale.chain).toEqual(['qaa', 'fr']);
    expect(render('{{ 1234.5 | format_number }}', locale)).toBe('1 234,5');
  });
});
