import fc from 'fast-check';
import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { registerLocaleFilters } from '../../src/core/locale-filters.js';
import {
  MAX_REPEATED_TEXT,
  RENDER_LOCALE,
  renderLocale,
  translate,
  type RenderLocale,
  type TranslationMessages,
} from '../../src/core/translations.js';

/**
 * Plural forms against Intl.PluralRules itself, and translate and the filters against any key,
 * variables and messages: they return text and never throw.
 */
const RUNS = 300;

const LOCALES = [
  'en',
  'fr',
  'fr-CA',
  'de',
  'ru',
  'uk',
  'pl',
  'cs',
  'ar',
  'he',
  'ja',
  'zh-Hant',
  'cy',
  'lv',
  'ga',
  'pt-PT',
];
const CATEGORIES = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;

/** A message per category that names the category, so the text says which form was chosen. */
const EVERY_FORM = Object.fromEntries(CATEGORIES.map((category) => [category, category]));

const counts = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.integer({ min: 0, max: 200 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.integer({ min: 0, max: 2000 }).map((n) => n / 10),
);

function localeFor(locale: string | null, translations: Record<string, TranslationMessages>): RenderLocale {
  return renderLocale({ locale, defaultLocale: 'en', defaultTimeZone: 'UTC', translations });
}

describe('plural forms', () => {
  it('are the category Intl.PluralRules selects for the count, in the locale the key was found in', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOCALES), counts, (tag, count) => {
        const locale = localeFor(tag, { [tag]: { n: EVERY_FORM } });
        expect(translate(locale, 'n', { count })).toBe(new Intl.PluralRules(tag).select(count));
        expect(locale.warnings).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('fall back to other when the locale has no form for the category', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LOCALES),
        counts,
        fc.subarray([...CATEGORIES.slice(0, -1)]),
        (tag, count, present) => {
          const forms = Object.fromEntries([...present, 'other'].map((category) => [category, category]));
          const category = new Intl.PluralRules(tag).select(count);
          const expected = present.includes(category as (typeof present)[number]) ? category : 'other';
          expect(translate(localeFor(tag, { [tag]: { n: forms } }), 'n', { count })).toBe(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** Keys and placeholders that look like paths, including names of inherited members. */
const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'count', 'constructor', '__proto__', 'toString', 'prototype', 'length', '0', ''),
  fc.string({ maxLength: 6 }),
);
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
const message = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 8 }),
      path.map((p) => `{{ ${p} }}`),
      fc.constant('{{'),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));
const messages: fc.Arbitrary<TranslationMessages> = fc.letrec<{ tree: TranslationMessages }>((tie) => ({
  tree: fc.dictionary(
    segment,
    fc.oneof(
      { depthSize: 'small' },
      message,
      fc.record({ one: message, other: message }, { requiredKeys: ['other'] }),
      tie('tree'),
    ),
    { maxKeys: 4 },
  ),
})).tree;
const vars = fc.dictionary(segment, fc.anything(), { maxKeys: 5 });

/**
 * At least the length of what the variables can write into a message, each once: primitives'
 * text (a count formatted by Intl may be longer than String() writes it, hence the margin; an
 * object or list has a `length` or nothing).
 */
function textLength(value: unknown): number {
  if (value === null || typeof value !== 'object') return String(value).length + 32;
  if (value instanceof Date) return 24;
  return Object.values(value).reduce((sum: number, item) => sum + textLength(item), 32);
}

describe('translate', () => {
  it('returns text for any key, variables and messages, and never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...LOCALES, 'constructor', 'x-bad', ''), fc.string({ maxLength: 12 })),
        fc.dictionary(fc.constantFrom(...LOCALES, '__proto__', 'constructor'), messages, { maxKeys: 3 }),
        path,
        vars,
        (tag, translations, key, values) => {
          const locale = localeFor(tag, translations);
          const out = translate(locale, key, values);
          expect(typeof out).toBe('string');
          // One pass over the message: at most the message, each variable's text, and the repeats allowed.
          const longest = Math.max(key.length, JSON.stringify(translations).length);
          expect(out.length).toBeLessThanOrEqual(longest + textLength(values) + MAX_REPEATED_TEXT);
          expect(locale.warnings.length).toBeLessThanOrEqual(50);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('leaves Object.prototype alone', () => {
    fc.assert(
      fc.property(messages, path, vars, (translations, key, values) => {
        translate(localeFor('en', { en: translations }), key, values);
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('the filters', () => {
  const liquid = new Liquid({ ownPropertyOnly: true, templates: {}, strictFilters: true, outputEscape: 'escape' });
  registerLocaleFilters(liquid);
  const template = liquid.parse(
    [
      '{{ data.key | t: count: data.value, name: data.value }}',
      '{{ data.value | format_date: data.style }}',
      '{{ data.value | format_time }}',
      '{{ data.value | format_datetime: data.style, data.style }}',
      '{{ data.value | format_number: data.digits }}',
      '{{ data.value | format_currency: data.code }}',
      '{{ data.key | t: data.value }}',
    ].join('|'),
  );

  it('render any input to text with warnings, never throwing', () => {
    fc.assert(
      fc.property(
        fc.record({
          key: fc.oneof(path, fc.anything()),
          value: fc.oneof(
            fc.anything(),
            fc.double(),
            fc.date(),
            fc.date().map((d) => d.toISOString().slice(0, 16)),
          ),
          style: fc.oneof(fc.constantFrom('short', 'medium', 'long', 'full'), fc.anything()),
          digits: fc.anything(),
          code: fc.oneof(fc.constantFrom('EUR', 'usd', 'XXX', 'ZZZ'), fc.anything()),
        }),
        fc.constantFrom(...LOCALES, 'qaa'),
        (data, tag) => {
          const locale = localeFor(tag, {});
          const out = liquid.renderSync(template, { data, [RENDER_LOCALE]: locale }) as unknown;
          expect(typeof out).toBe('string');
        },
      ),
      { numRuns: RUNS },
    );
  });
});
