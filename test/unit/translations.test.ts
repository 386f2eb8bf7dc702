import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { registerLocaleFilters } from '../../src/core/locale-filters.js';
import {
  localeChain,
  MAX_REPEATED_TEXT,
  MAX_WARNINGS,
  RENDER_LOCALE,
  renderLocale,
  translate,
  type RenderLocale,
  type TranslationMessages,
} from '../../src/core/translations.js';

// Translations through the `t` filter of a Liquid configured as src/core/templates.ts's sandbox,
// and through translate() where the filter adds nothing.

const SANDBOX = {
  ownPropertyOnly: true,
  templates: {},
  strictFilters: true,
  parseLimit: 1_000_000,
  renderLimit: 250,
  memoryLimit: 10_000_000,
} as const;

const plainLiquid = new Liquid(SANDBOX);
const htmlLiquid = new Liquid({ ...SANDBOX, outputEscape: 'escape' });
registerLocaleFilters(plainLiquid);
registerLocaleFilters(htmlLiquid);

const TRANSLATIONS: Record<string, TranslationMessages> = {
  en: {
    order: {
      shipped: 'Order {{ order.id }} has shipped',
      items: { one: '{{ count }} item', other: '{{ count }} items' },
    },
    greeting: 'Hello {{ name }}',
    only: { en: 'English only' },
  },
  fr: {
    order: {
      shipped: 'Commande {{ order.id }} expédiée',
      items: { one: '{{ count }} article', other: '{{ count }} articles' },
    },
    greeting: 'Bonjour {{ name }}',
  },
  'fr-CA': { greeting: 'Allô {{ name }}' },
  ru: {
    items: {
      one: '{{ count }} товар',
      few: '{{ count }} товара',
      many: '{{ count }} товаров',
      other: '{{ count }} товара',
    },
  },
  ar: {
    items: {
      zero: 'لا عناصر',
      one: 'عنصر واحد',
      two: 'عنصران',
      few: '{{ count }} عناصر',
      many: '{{ count }} عنصرًا',
      other: '{{ count }} عنصر',
    },
  },
  pl: {
    items: {
      one: '{{ count }} plik',
      few: '{{ count }} pliki',
      many: '{{ count }} plików',
      other: '{{ count }} pliku',
    },
  },
  ja: { items: { other: '{{ count }} 件' } },
};

function localeFor(locale: string | null, translations = TRANSLATIONS): RenderLocale {
  return renderLocale({ locale, defaultLocale: 'en', defaultTimeZone: 'UTC', translations });
}

function render(source: string, locale: RenderLocale, data: Record<string, unknown> = {}, liquid = plainLiquid) {
  return liquid.parseAndRenderSync(source, { data, [RENDER_LOCALE]: locale });
}

describe('the locale chain', () => {
  it('falls back from a region to its language, then to the default locale and its language', () => {
    expect(localeChain('fr-CA', 'en')).toEqual(['fr-CA', 'fr', 'en']);
    expect(localeChain('zh-Hant-TW', 'en')).toEqual(['zh-Hant-TW', 'zh-Hant', 'zh', 'en']);
    expect(localeChain('fr', 'en-GB')).toEqual(['fr', 'en-GB', 'en']);
    expect(localeChain('en-US', 'en')).toEqual(['en-US', 'en']);
    expect(localeChain('de-DE-u-co-phonebk', 'en')).toEqual(['de-DE-u-co-phonebk', 'de-DE', 'de', 'en']);
  });

  it('canonicalizes tags, writing underscores as hyphens', () => {
    expect(localeChain('EN-us', 'en')).toEqual(['en-US', 'en']);
    expect(localeChain('fr_ca', 'en')).toEqual(['fr-CA', 'fr', 'en']);
  });

  it('skips a missing or invalid tag', () => {
    expect(localeChain(null, 'en')).toEqual(['en']);
    expect(localeChain(undefined, 'de-AT')).toEqual(['de-AT', 'de']);
    expect(localeChain('not a locale!', 'en')).toEqual(['en']);
    expect(localeChain('', 'en')).toEqual(['en']);
    expect(localeChain('x', 'nope nope')).toEqual(['en']);
  });

  it('reports an invalid locale or time zone and uses the defaults', () => {
    const locale = renderLocale({
      locale: 'klingon!!',
      timeZone: 'Mars/Olympus',
      defaultLocale: 'de',
      defaultTimeZone: 'Europe/Berlin',
      translations: {},
    });
    expect(locale.chain).toEqual(['de']);
    expect(locale.timeZone).toBe('Europe/Berlin');
    expect(locale.warnings).toEqual([
      'unknown locale "klingon!!": using de',
      'unknown time zone "Mars/Olympus": using Europe/Berlin',
    ]);
  });

  it('takes a valid time zone in its canonical spelling, and has no warning for missing ones', () => {
    expect(localeFor('fr').warnings).toEqual([]);
    const locale = renderLocale({
      locale: 'fr',
      timeZone: 'america/new_york',
      defaultLocale: 'en',
      defaultTimeZone: 'UTC',
      translations: {},
    });
    expect(locale.timeZone).toBe('America/New_York');
    expect(locale.warnings).toEqual([]);
  });
});

describe('t', () => {
  it('looks up nested keys and fills placeholders from named arguments', () => {
    const locale = localeFor('en');
    expect(render('{{ "order.shipped" | t: order: data.order }}', locale, { order: { id: 'A-17' } })).toBe(
      'Order A-17 has shipped',
    );
    expect(render('{{ "greeting" | t: name: data.name }}', locale, { name: 'Ada' })).toBe('Hello Ada');
    expect(locale.warnings).toEqual([]);
  });

  it('falls back fr-CA → fr → the default locale', () => {
    const locale = localeFor('fr-CA');
    expect(render('{{ "greeting" | t: name: "Zoé" }}', locale)).toBe('Allô Zoé');
    expect(render('{{ "order.shipped" | t: order: data.order }}', locale, { order: { id: 7 } })).toBe(
      'Commande 7 expédiée',
    );
    expect(render('{{ "only.en" | t }}', locale)).toBe('English only');
    expect(locale.warnings).toEqual([]);
  });

  it('renders a key no locale has as the key itself, with a warning naming the chain', () => {
    const locale = localeFor('fr-CA');
    expect(render('{{ "order.cancelled" | t }}', locale)).toBe('order.cancelled');
    expect(locale.warnings).toEqual(['missing translation "order.cancelled" (fr-CA, fr, en)']);
  });

  it('does not take a group of messages for a message', () => {
    const locale = localeFor('en');
    expect(render('{{ "order" | t }}', locale)).toBe('order');
    expect(render('{{ "order.shipped.id" | t }}', locale)).toBe('order.shipped.id');
    expect(render('{{ "order..shipped" | t }}', locale)).toBe('order..shipped');
    expect(locale.warnings).toHaveLength(3);
  });

  it('renders a missing variable empty, with a warning', () => {
    const locale = localeFor('en');
    expect(render('{{ "order.shipped" | t }}', locale)).toBe('Order  has shipped');
    expect(render('{{ "greeting" | t: name: data.list }}', locale, { list: [1, 2] })).toBe('Hello ');
    expect(locale.warnings).toEqual([
      'translation "order.shipped" (en): no text for {{ order.id }}',
      'translation "greeting" (en): no text for {{ name }}',
    ]);
  });

  it('reports positional arguments and a missing key instead of throwing', () => {
    const locale = localeFor('en');
    expect(render('{{ "greeting" | t: "Ada", name: "Bo" }}', locale)).toBe('Hello Bo');
    expect(render('{{ data.nothing | t }}', locale)).toBe('');
    expect(locale.warnings).toEqual([
      't takes named arguments (t: name: value): ignored "Ada"',
      't needs a message key (a text), not nothing',
    ]);
  });

  it('tells a positional list from named arguments', () => {
    const locale = localeFor('en');
    expect(render('{{ "greeting" | t: data.pair }}', locale, { pair: ['name', 'Eve'] })).toBe('Hello ');
    expect(locale.warnings[0]).toBe('t takes named arguments (t: name: value): ignored ["name","Eve"]');
  });

  it('does not interpret Liquid or placeholders found in variables', () => {
    const locale = localeFor('en');
    const name = '{{ name }}{% for i in (1..9) %}x{% endfor %}';
    expect(render('{{ "greeting" | t: name: data.name }}', locale, { name })).toBe(`Hello ${name}`);
  });

  it('does not let a message multiply a large variable by repeating it', () => {
    const locale = localeFor('en', { en: { echo: '{{ a }}'.repeat(1000), twice: '{{ a }} and {{ a }}' } });
    const a = 'x'.repeat(1000);
    expect(translate(locale, 'twice', { a: 'Ada' })).toBe('Ada and Ada');
    expect(translate(locale, 'echo', { a })).toBe(a.repeat(1 + MAX_REPEATED_TEXT / 1000));
    expect(locale.warnings).toEqual([`translation "echo" (en): repeats its variables past 10000 characters`]);
  });

  it('escapes the message and its variables in HTML templates, unless raw', () => {
    const locale = localeFor('en', { en: { greeting: '<b>Hi</b> {{ name }}' } });
    expect(render('{{ "greeting" | t: name: data.name }}', locale, { name: '<i>x</i>' }, htmlLiquid)).toBe(
      '&lt;b&gt;Hi&lt;/b&gt; &lt;i&gt;x&lt;/i&gt;',
    );
    expect(render('{{ "greeting" | t: name: "Ada" | raw }}', locale, {}, htmlLiquid)).toBe('<b>Hi</b> Ada');
  });

  it('falls back to English and no messages on a scope without a RenderLocale', () => {
    expect(plainLiquid.parseAndRenderSync('{{ "order.shipped" | t }}', {})).toBe('order.shipped');
    expect(plainLiquid.parseAndRenderSync('{{ 1234.5 | format_number }}', {})).toBe('1,234.5');
  });

  it('keeps warnings distinct and bounded', () => {
    const locale = localeFor('en');
    render('{% for i in (1..200) %}{{ "a" | t }}{{ i | append: ".missing" | t }}{% endfor %}', locale);
    expect(locale.warnings).toHaveLength(MAX_WARNINGS);
    expect(locale.warnings.filter((w) => w === 'missing translation "a" (en)')).toHaveLength(1);
  });

  it('counts its output against the render memory limit', () => {
    const tight = new Liquid({ ...SANDBOX, memoryLimit: 1000 });
    registerLocaleFilters(tight);
    const locale = localeFor('en', { en: { long: 'x'.repeat(600) } });
    expect(() => tight.parseAndRenderSync('{{ "long" | t }}{{ "long" | t }}', { [RENDER_LOCALE]: locale })).toThrow(
      /memory alloc limit exceeded/,
    );
  });
});

describe('plural forms', () => {
  const forms = (tag: string, counts: number[]) => {
    const locale = localeFor(tag);
    const key = tag === 'en' || tag === 'fr' ? 'order.items' : 'items';
    const texts = counts.map((n) => render(`{{ "${key}" | t: count: data.n }}`, locale, { n: n }));
    expect(locale.warnings).toEqual([]);
    return texts;
  };

  it('English: one and other, with the count written for the locale', () => {
    expect(forms('en', [0, 1, 2, 1000, 1.5])).toEqual(['0 items', '1 item', '2 items', '1,000 items', '1.5 items']);
  });

  it('French: 0 and 1 are one', () => {
    expect(forms('fr', [0, 1, 1.5, 2])).toEqual(['0 article', '1 article', '1,5 article', '2 articles']);
  });

  it('Russian: one, few, many', () => {
    expect(forms('ru', [1, 2, 5, 11, 21, 22, 25])).toEqual([
      '1 товар',
      '2 товара',
      '5 товаров',
      '11 товаров',
      '21 товар',
      '22 товара',
      '25 товаров',
    ]);
  });

  it('Arabic: zero, one, two, few, many, other', () => {
    // Arabic digits or Latin ones, as the ICU data Node ships decides.
    const arabic = (n: number) => new Intl.NumberFormat('ar').format(n);
    expect(forms('ar', [0, 1, 2, 3, 11, 100])).toEqual([
      'لا عناصر',
      'عنصر واحد',
      'عنصران',
      `${arabic(3)} عناصر`,
      `${arabic(11)} عنصرًا`,
      `${arabic(100)} عنصر`,
    ]);
  });

  it('Polish: one, few, many', () => {
    expect(forms('pl', [1, 2, 5, 22, 1.5])).toEqual(['1 plik', '2 pliki', '5 plików', '22 pliki', '1,5 pliku']);
  });

  it('Japanese: other only', () => {
    expect(forms('ja', [0, 1, 2])).toEqual(['0 件', '1 件', '2 件']);
  });

  it('uses the plural rules of the locale the key was found in', () => {
    // Asked in Russian, found in English: 2 is "other" (English), not "few".
    const locale = localeFor('ru');
    expect(translate(locale, 'order.items', { count: 2 })).toBe('2 items');
  });

  it('reads a count written as a decimal text', () => {
    expect(translate(localeFor('en'), 'order.items', { count: '1' })).toBe('1 item');
  });

  it('uses other, with a warning, when count is missing or not a number', () => {
    const locale = localeFor('en');
    expect(translate(locale, 'order.items', {})).toBe(' items');
    expect(translate(locale, 'order.items', { count: 'many' })).toBe('many items');
    expect(locale.warnings).toContain(
      'translation "order.items" (en) has plural forms but no number in count: used "other"',
    );
  });

  it('uses other when the category has no form', () => {
    const locale = localeFor('ru', { ru: { n: { one: 'один', other: 'другое' } } });
    expect(translate(locale, 'n', { count: 5 })).toBe('другое');
  });

  it('takes an object with other keys, or without other, for a group, not plural forms', () => {
    const locale = localeFor('en', { en: { a: { one: 'x', some: 'y', other: 'z' }, b: { one: 'x' } } });
    expect(translate(locale, 'a', { count: 1 })).toBe('a');
    expect(translate(locale, 'a.some', { count: 1 })).toBe('y');
    expect(translate(locale, 'b', { count: 1 })).toBe('b');
  });
});

describe('untrusted keys and variables', () => {
  it('never reads inherited members', () => {
    const locale = localeFor('en', { en: { greeting: 'Hi {{ name.constructor }}{{ toString }}{{ __proto__ }}' } });
    for (const key of ['constructor', '__proto__', 'toString', 'greeting.constructor', 'hasOwnProperty']) {
      expect(translate(locale, key, {})).toBe(key);
    }
    expect(translate(locale, 'greeting', { name: 'Ada' })).toBe('Hi ');
    const chainLocale = localeFor('constructor');
    expect(translate(chainLocale, 'toString', {})).toBe('toString');
  });

  it('reads own keys named like inherited ones, as JSON gives them', () => {
    const translations = JSON.parse('{"en": {"__proto__": {"constructor": "own"}}}') as Record<
      string,
      TranslationMessages
    >;
    expect(translate(localeFor('en', translations), '__proto__.constructor', {})).toBe('own');
  });

  it('takes __proto__ as an ordinary argument name', () => {
    const locale = localeFor('en', { en: { m: '{{ __proto__ }}' } });
    expect(render('{{ "m" | t: __proto__: "p" }}', locale)).toBe('p');
    expect(Object.prototype).not.toHaveProperty('p');
  });
});
