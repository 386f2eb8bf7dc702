/**
 * The four kinds of resource `herald apply` and `herald export` handle: where each lives in the API
 * and in an exported folder, the fields of its PUT body, and which values the server fills in when
 * a field is left out (so a file that leaves it out and a server that filled it in compare equal).
 */

export const KINDS = ['partial', 'layout', 'translation', 'workflow'] as const;
export type Kind = (typeof KINDS)[number];

/** What a field of a PUT body holds, as far as the CLI checks before sending (the server checks the rest). */
export type FieldType = 'string' | 'boolean' | 'object' | 'array' | 'any';

export interface KindSpec {
  kind: Kind;
  /** The field of a file naming the resource: `key`, or `locale` for translations. */
  idField: 'key' | 'locale';
  /** The API collection, `/v1/<collection>/{id}`, and the folder `herald export` writes into. */
  collection: string;
  /** The fields of the PUT body in the order `herald export` writes them; `required` ones first checked. */
  fields: Readonly<Record<string, FieldType>>;
  required: readonly string[];
  /**
   * Fields whose value the server fills in when the body leaves them out: a value equal to the
   * default (or null) is the same as no value.
   */
  defaults: Readonly<Record<string, (id: string) => unknown>>;
  /**
   * Fields the API reads as "keep what is there" when a body leaves them out: `apply` sends their
   * default instead, so that a file without one sets it rather than keeping the server's.
   */
  sentWhenAbsent: readonly string[];
}

const nameDefault = (id: string) => id;

/**
 * Kinds in the order they are applied: a save that renders a partial missing on the server is
 * refused, and workflows name layouts, so partials go first (among themselves in the order they
 * render each other) and workflows last. Deletions go the other way.
 */
export const KIND_SPECS: Readonly<Record<Kind, KindSpec>> = {
  partial: {
    kind: 'partial',
    idField: 'key',
    collection: 'partials',
    fields: { name: 'string', template: 'string' },
    required: ['template'],
    defaults: { name: nameDefault },
    sentWhenAbsent: [],
  },
  layout: {
    kind: 'layout',
    idField: 'key',
    collection: 'layouts',
    fields: { name: 'string', html: 'string', text: 'string', variables: 'any', default: 'boolean' },
    required: ['html'],
    defaults: { name: nameDefault, variables: () => ({}), default: () => false },
    // Absent `default` keeps a layout the default: a file saying nothing means "not the default".
    sentWhenAbsent: ['default'],
  },
  translation: {
    kind: 'translation',
    idField: 'locale',
    collection: 'translations',
    fields: { messages: 'object' },
    required: ['messages'],
    defaults: {},
    sentWhenAbsent: [],
  },
  workflow: {
    kind: 'workflow',
    idField: 'key',
    collection: 'workflows',
    fields: { name: 'string', category: 'string', critical: 'boolean', preferences: 'object', steps: 'array' },
    required: ['steps'],
    defaults: { name: nameDefault, critical: () => false },
    sentWhenAbsent: [],
  },
};

export const isKind = (value: unknown): value is Kind => typeof value === 'string' && value in KIND_SPECS;

/**
 * Workflow keys and the rest (http/components.ts KEY_PATTERN, which the CLI may not import): checked
 * before anything is sent, since a key is part of the URL.
 */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const KEY_EXPECTED = 'up to 100 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** The characters of a BCP 47 locale, as the API's path takes it. */
export const LOCALE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,34}$/;
export const LOCALE_EXPECTED = 'a BCP 47 locale such as en, fr-CA or pt-BR';

/**
 * The form the server stores a locale in (fr-ca is fr-CA), which a file must use to be matched
 * with it; undefined when it is no locale.
 */
export function canonicalLocale(locale: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(locale)[0];
  } catch {
    return undefined;
  }
}

/** A resource of a file or of the server: its kind, its key (or locale) and its PUT body. */
export interface Resource {
  kind: Kind;
  id: string;
  body: Record<string, unknown>;
}

/** The PUT body of a resource: its fields, and the defaults of those the API would otherwise keep. */
export function putBody(resource: Resource): Record<string, unknown> {
  const spec = KIND_SPECS[resource.kind];
  const body = { ...resource.body };
  for (const field of spec.sentWhenAbsent) body[field] ??= spec.defaults[field]!(resource.id);
  return body;
}

export const describeResource = (resource: Pick<Resource, 'kind' | 'id'>) => `${resource.kind} ${resource.id}`;

/** `{% render 'name' %}` and `{% include 'name' %}`: the partials a template renders. */
const PARTIAL_REFERENCE = /{%-?\s*(?:render|include)\s+(['"]?)([A-Za-z0-9][A-Za-z0-9._-]*)\1/g;

/** The partials that any string in `value` renders, e.g. a partial's template or a workflow's steps. */
export function partialReferences(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const match of value.matchAll(PARTIAL_REFERENCE)) found.add(match[2]!);
  } else if (Array.isArray(value)) {
    for (const item of value) partialReferences(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) partialReferences(item, found);
  }
  return found;
}
