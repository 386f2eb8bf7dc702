import { Type } from 'typebox';
import { MAX_MESSAGE_DEPTH, MAX_TRANSLATION_BYTES } from '../core/template-assets.js';
import { component, KEY_EXPECTED, KEY_PATTERN, PatternString } from './components.js';
import { Cursor, pageOf, pageQuery } from './schemas.js';

// Layouts, partials and translations: /v1/layouts, /v1/partials, /v1/translations (docs/templates.md).

const Key = (description: string) => PatternString(KEY_PATTERN, KEY_EXPECTED, { description });
const Name = Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Default: the key' }));
const Timestamps = { createdAt: Type.Number(), updatedAt: Type.Number() };

/** What `layout.<name>` may be called in a layout's templates. */
const VARIABLE_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

const VariableValue = Type.Union([Type.String({ maxLength: 10_000 }), Type.Number(), Type.Boolean()], {
  'x-expected': 'a string, number or boolean',
});

const LayoutVariables = Type.Unsafe<Record<string, string | number | boolean>>({
  type: 'object',
  additionalProperties: VariableValue,
  propertyNames: {
    type: 'string',
    pattern: VARIABLE_PATTERN,
    'x-expected': 'a name of up to 64 letters, digits and "_", not starting with a digit',
  },
  maxProperties: 100,
  description: 'Values the layout reads as layout.<name> (a brand colour, a logo URL, a footer address)',
});

export const LayoutParams = Type.Object({ key: Key('Layout key, e.g. brand') });

export const LayoutBody = component(
  'LayoutInput',
  Type.Object(
    {
      name: Name,
      html: Type.String({
        minLength: 1,
        maxLength: 500_000,
        description: "Liquid HTML around the email; {{ content }} (once) is where the email's HTML goes",
      }),
      text: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 500_000,
          description: "Liquid text around the email's text part, with the same slot; absent: the email's own text",
        }),
      ),
      variables: Type.Optional(LayoutVariables),
      default: Type.Optional(
        Type.Boolean({
          description:
            'true: the default layout of the environment (emails whose step names none render in it; the ' +
            'previous default is one no longer); false: not the default; absent: unchanged (a new layout is not)',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);

export const Layout = component(
  'Layout',
  Type.Object({
    key: Type.String(),
    name: Type.String(),
    html: Type.String(),
    text: Type.Union([Type.String(), Type.Null()]),
    variables: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    default: Type.Boolean({ description: "Whether it is the environment's default layout" }),
    ...Timestamps,
  }),
);

export const LayoutListQuery = Type.Object(pageQuery(Cursor(KEY_PATTERN)), { additionalProperties: false });
export const LayoutPage = pageOf(Layout);

export const PartialParams = Type.Object({ key: Key("Partial key, e.g. footer: {% render 'footer' %}") });

export const PartialBody = component(
  'PartialInput',
  Type.Object(
    {
      name: Name,
      template: Type.String({
        minLength: 1,
        maxLength: 500_000,
        description: "Liquid; rendered with {% render 'key' %} or {% render 'key', name: value %}",
      }),
    },
    { additionalProperties: false },
  ),
);

export const Partial = component(
  'Partial',
  Type.Object({ key: Type.String(), name: Type.String(), template: Type.String(), ...Timestamps }),
);

export const PartialListQuery = Type.Object(pageQuery(Cursor(KEY_PATTERN)), { additionalProperties: false });
export const PartialPage = pageOf(Partial);

/** What a locale in a path or cursor may hold; Intl decides whether it is one. */
const LOCALE_PATTERN = '^[A-Za-z0-9-]{1,35}$';

export const TranslationParams = Type.Object({
  locale: PatternString(LOCALE_PATTERN, 'a BCP 47 locale such as en, fr-CA or pt-BR', {
    description: 'BCP 47 locale, stored in its canonical form (fr-ca is fr-CA)',
  }),
});

const Messages = Type.Record(Type.String(), Type.Unknown(), {
  description:
    `Messages by key: texts, and objects of them (nested keys, plural forms such as {"one": …, "other": …}), ` +
    `up to ${MAX_MESSAGE_DEPTH} levels and ${MAX_TRANSLATION_BYTES / 1024} KB as JSON`,
});

export const TranslationBody = component(
  'TranslationInput',
  Type.Object({ messages: Messages }, { additionalProperties: false }),
);

export const Translation = component(
  'Translation',
  Type.Object({ locale: Type.String(), messages: Messages, ...Timestamps }),
);

export const TranslationListQuery = Type.Object(pageQuery(Cursor(LOCALE_PATTERN)), { additionalProperties: false });
export const TranslationPage = pageOf(Translation);
