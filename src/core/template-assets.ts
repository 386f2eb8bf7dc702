import { HeraldError, type FieldError } from './errors.js';
import { BASE_ENGINE, collectPartials, parseTemplate } from './liquid-sandbox.js';
import type { TranslationMessages } from './translations.js';
import { isSendingStep, type EmailStep, type WorkflowStep } from './types.js';

/*
 * Layouts, partials and translations: the template parts an environment shares between its
 * workflows (docs/templates.md). What a render needs of them, and the checks made when they, or
 * the workflows using them, are saved or deleted. Pure: callers read and write the store.
 */

/** A layout's own values, `layout.<name>` in its templates. */
export type LayoutVariables = Record<string, string | number | boolean>;

export interface Layout {
  key: string;
  name: string;
  /** Liquid HTML around every email that renders in it; `{{ content }}` marks where the email goes. */
  html: string;
  /** The text part around the email's text, with the same slot; null: the email's own text part. */
  text: string | null;
  variables: LayoutVariables;
  /** The environment's default layout: emails whose step names none render in it. */
  default: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A layout as saved; `default` left out keeps what it was (a new layout is not the default). */
export interface LayoutInput {
  name: string;
  html: string;
  text: string | null;
  variables: LayoutVariables;
  default?: boolean;
}

/** A Liquid template other templates render with `{% render 'key' %}`. */
export interface TemplatePartial {
  key: string;
  name: string;
  template: string;
  createdAt: number;
  updatedAt: number;
}

export type { TranslationMessages };

export interface Translation {
  /** Canonical BCP 47 (`fr-CA`). */
  locale: string;
  messages: TranslationMessages;
  createdAt: number;
  updatedAt: number;
}

/**
 * Everything a render may need of its environment's shared template parts, read in one go. Every
 * write of a layout, partial or translation gives the environment a new `revision`, so render
 * threads keep what they compiled per (environment, revision).
 */
export interface TemplateAssets {
  revision: string;
  layouts: Record<string, { html: string; text: string | null; variables: LayoutVariables }>;
  defaultLayout: string | null;
  partials: Record<string, string>;
  translations: Record<string, TranslationMessages>;
}

/** An environment that never had a layout, partial or translation. */
export const NO_TEMPLATE_ASSETS: TemplateAssets = Object.freeze({
  revision: '0',
  layouts: Object.freeze({}),
  defaultLayout: null,
  partials: Object.freeze({}),
  translations: Object.freeze({}),
});

/** A layout's slot, `{{ content }}` (with or without whitespace control): where the email goes. */
export const CONTENT_SLOT = /\{\{(-?)\s*content\s*(-?)\}\}/g;

/** The layout an email step renders in: the one it names, none for `false`, else the default (if any). */
export function layoutKeyOf(step: EmailStep, defaultLayout: string | null): string | null {
  if (step.layout === false) return null;
  return step.layout ?? defaultLayout;
}

const isEmpty = (record: object) => {
  for (const _ in record) return false;
  return true;
};

/** Steps (by object) whose templates may render a partial or translate: they mention the tag or filter. */
const mentions = new WeakMap<WorkflowStep, { render: boolean; translate: boolean }>();

/**
 * Whether rendering `step` needs the environment's assets: an email in a layout, templates that
 * render partials, or that translate (the `t` filter). When not, the step renders exactly as it would in an environment without any.
 */
export function usesTemplateAssets(step: WorkflowStep, assets: TemplateAssets): boolean {
  if (step.type === 'email' && layoutKeyOf(step, assets.defaultLayout) !== null) return true;
  const hasPartials = !isEmpty(assets.partials);
  const hasTranslations = !isEmpty(assets.translations);
  if (!isSendingStep(step) || (!hasPartials && !hasTranslations)) return false;
  let mentioned = mentions.get(step);
  if (mentioned === undefined) {
    const sources = stepTemplates(step, '').map(({ source }) => source);
    mentioned = {
      render: sources.some((source) => /\brender\b/.test(source)),
      translate: sources.some((source) => /\|\s*t\b/.test(source)),
    };
    mentions.set(step, mentioned);
  }
  return (hasPartials && mentioned.render) || (hasTranslations && mentioned.translate);
}

/** The templates of a sending step, with their paths (`/steps/0/html`, `/steps/2/body/items/0`). */
function stepTemplates(step: WorkflowStep, at: string): { path: string; source: string }[] {
  if (!isSendingStep(step)) return [];
  const { type: _type, ref: _ref, if: _if, window: _window, ...fields } = step;
  if ('layout' in fields) delete fields.layout;
  const found: { path: string; source: string }[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') found.push({ path, source: value });
    else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}/${i}`));
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, `${path}/${key}`);
    }
  };
  walk(fields, at);
  return found;
}

/**
 * Partials a stored template renders, by its source (parsing costs more than a lookup); only
 * templates up to MEMO_CHARS are kept, so the memo holds a few MB at most.
 */
const renderedBySource = new Map<string, string[]>();
const MEMO_CHARS = 16 * 1024;

/** The partials a template renders, directly; [] for one that does not parse. */
function rendersOf(source: string): string[] {
  let keys = renderedBySource.get(source);
  if (!keys) {
    const { partials } = collectPartials(() => parseTemplate(BASE_ENGINE.plain, source, '', []));
    keys = [...new Set(partials.map((p) => p.key))];
    if (source.length <= MEMO_CHARS) {
      if (renderedBySource.size >= 500) renderedBySource.clear();
      renderedBySource.set(source, keys);
    }
  }
  return keys;
}

/** Parses templates, refusing any that does not parse; answers the partials each renders, by path. */
function parsedRenders(templates: { path: string; source: string; html?: boolean }[]): { path: string; key: string }[] {
  const errors: FieldError[] = [];
  const { partials } = collectPartials(() => {
    for (const { path, source, html } of templates) {
      parseTemplate(html ? BASE_ENGINE.html : BASE_ENGINE.plain, source, path, errors);
    }
  });
  if (errors.length > 0) {
    throw new HeraldError('TEMPLATE_INVALID', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  }
  return partials;
}

/** A 422 naming each partial that is rendered and does not exist, where. */
function refuseUnknownPartials(renders: { path: string; key: string }[], partials: Record<string, string>): void {
  const unknown = renders.filter(({ key }) => !Object.hasOwn(partials, key));
  if (unknown.length === 0) return;
  const keys = [...new Set(unknown.map(({ key }) => JSON.stringify(key)))];
  throw new HeraldError(
    'UNKNOWN_PARTIALS',
    `No partial ${keys.join(', ')} in this environment: create ${keys.length > 1 ? 'them' : 'it'} first ` +
      '(PUT /v1/partials/{key}), or render one that exists',
    unknown.map(({ path, key }) => ({
      path,
      message: `renders the partial "${key}", which does not exist: create it with PUT /v1/partials/${key}`,
    })),
  );
}

/** Layout fields must each hold the slot once. */
function slotErrors(field: 'html' | 'text', source: string): FieldError[] {
  const slots = source.match(CONTENT_SLOT)?.length ?? 0;
  if (slots === 1) return [];
  const found = slots === 0 ? 'it has none' : `it has ${slots}`;
  return [
    {
      path: `/${field}`,
      message: `must hold the {{ content }} slot exactly once, where the email's ${field === 'html' ? 'HTML' : 'text'} goes; ${found}`,
    },
  ];
}

/** Checks a layout before it is saved: one slot per part, templates that parse, partials that exist. */
export function checkLayout(input: { html: string; text: string | null }, assets: TemplateAssets): void {
  const slots = [...slotErrors('html', input.html), ...(input.text === null ? [] : slotErrors('text', input.text))];
  if (slots.length > 0) {
    throw new HeraldError('VALIDATION_FAILED', slots.map((e) => `${e.path}: ${e.message}`).join('; '), slots);
  }
  const renders = parsedRenders([
    { path: '/html', source: input.html, html: true },
    ...(input.text === null ? [] : [{ path: '/text', source: input.text }]),
  ]);
  refuseUnknownPartials(renders, assets.partials);
}

/**
 * Checks a partial before it is saved as `key`: it parses, every partial it renders exists (itself
 * included, as it will), and none renders it back (directly or through others).
 */
export function checkPartial(key: string, template: string, assets: TemplateAssets): void {
  const renders = parsedRenders([{ path: '/template', source: template }]);
  refuseUnknownPartials(
    renders.filter((r) => r.key !== key),
    assets.partials,
  );
  const rendersOfKey = (name: string) =>
    name === key ? renders.map((r) => r.key) : rendersOf(assets.partials[name] ?? '');
  // Depth-first from the saved partial; only a cycle through it is new.
  const visited = new Set<string>();
  const path = [key];
  const cycle = (name: string): string[] | undefined => {
    for (const next of new Set(rendersOfKey(name))) {
      if (next === key) return [...path, key];
      if (visited.has(next) || !Object.hasOwn(assets.partials, next)) continue;
      visited.add(next);
      path.push(next);
      const found = cycle(next);
      if (found) return found;
      path.pop();
    }
    return undefined;
  };
  const found = cycle(key);
  if (!found) return;
  const chain = found.join(' → ');
  throw new HeraldError(
    'PARTIAL_CYCLE',
    `The partial "${key}" would render itself without end: ${chain}. A partial may not render itself, directly or through others`,
    [{ path: '/template', message: `renders "${found[1]}", and so on back to "${key}": ${chain}` }],
  );
}

/** Where a workflow's steps name layouts. */
function layoutsNamed(steps: readonly WorkflowStep[]): { path: string; key: string }[] {
  return steps.flatMap((step, i) =>
    step.type === 'email' && typeof step.layout === 'string' ? [{ path: `/steps/${i}/layout`, key: step.layout }] : [],
  );
}

/** Where a stored workflow's steps render partials (a template that does not parse renders none). */
function partialsRendered(steps: readonly WorkflowStep[]): { path: string; key: string }[] {
  return steps.flatMap((step, i) =>
    stepTemplates(step, `/steps/${i}`).flatMap(({ path, source }) => rendersOf(source).map((key) => ({ path, key }))),
  );
}

/** Checks a workflow's steps (already compiled) against the environment's partials and layouts. */
export function checkStepAssets(steps: readonly WorkflowStep[], assets: TemplateAssets): void {
  refuseUnknownPartials(parsedRenders(steps.flatMap((step, i) => stepTemplates(step, `/steps/${i}`))), assets.partials);
  const unknown = layoutsNamed(steps).filter(({ key }) => !Object.hasOwn(assets.layouts, key));
  if (unknown.length === 0) return;
  throw new HeraldError(
    'UNKNOWN_LAYOUT',
    `No layout ${[...new Set(unknown.map(({ key }) => JSON.stringify(key)))].join(', ')} in this environment: ` +
      'create it first (PUT /v1/layouts/{key}), name another, or leave layout out for the default',
    unknown.map(({ path, key }) => ({
      path,
      message: `no layout "${key}": create it with PUT /v1/layouts/${key}, or leave layout out for the default (false: none)`,
    })),
  );
}

/** A workflow as the in-use checks read it: its current steps. */
export interface WorkflowSteps {
  key: string;
  steps: readonly WorkflowStep[];
}

function refuseInUse(what: string, users: string[]): void {
  if (users.length === 0) return;
  throw new HeraldError(
    'TEMPLATE_IN_USE',
    `The ${what} is used by ${users.join(', ')}: change ${users.length > 1 ? 'them' : 'it'} first, then delete it`,
  );
}

/** Refuses to delete a partial that another partial, a layout or a workflow's current version renders. */
export function refusePartialInUse(key: string, assets: TemplateAssets, workflows: readonly WorkflowSteps[]): void {
  const users = [
    ...Object.entries(assets.partials)
      .filter(([name, source]) => name !== key && rendersOf(source).includes(key))
      .map(([name]) => `partial "${name}"`),
    ...Object.entries(assets.layouts)
      .filter(([, layout]) => [layout.html, layout.text ?? ''].some((source) => rendersOf(source).includes(key)))
      .map(([name]) => `layout "${name}"`),
    ...workflows.flatMap((workflow) =>
      partialsRendered(workflow.steps)
        .filter((r) => r.key === key)
        .map((r) => `workflow "${workflow.key}" (${r.path})`),
    ),
  ];
  refuseInUse(`partial "${key}"`, users);
}

/** Refuses to delete a layout that a workflow's current version names. */
export function refuseLayoutInUse(key: string, workflows: readonly WorkflowSteps[]): void {
  const users = workflows.flatMap((workflow) =>
    layoutsNamed(workflow.steps)
      .filter((l) => l.key === key)
      .map((l) => `workflow "${workflow.key}" (${l.path})`),
  );
  refuseInUse(`layout "${key}"`, users);
}

/** The canonical form of a BCP 47 locale (`fr-ca` → `fr-CA`), or undefined when it is not one. */
export function canonicalLocale(locale: string): string | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(locale);
    return canonical;
  } catch {
    return undefined;
  }
}

/** Bytes of a translation's messages as JSON, at most. */
export const MAX_TRANSLATION_BYTES = 256 * 1024;
/** Levels of nested message objects, at most (the messages object itself is the first). */
export const MAX_MESSAGE_DEPTH = 8;

/** What is wrong with a translation's messages, by path (`/messages/welcome/title`); [] when fine. */
export function translationErrors(messages: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const walk = (value: unknown, path: string, depth: number) => {
    if (typeof value === 'string') return;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      errors.push({
        path,
        message: 'must be a text or an object of texts (nested keys; plural forms such as {"one": …, "other": …})',
      });
      return;
    }
    if (depth > MAX_MESSAGE_DEPTH) {
      errors.push({ path, message: `nests deeper than ${MAX_MESSAGE_DEPTH} levels of objects: flatten some keys` });
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key === '') errors.push({ path: `${path}/`, message: 'a message key may not be empty' });
      else walk(item, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1);
    }
  };
  walk(messages, '/messages', 1);
  const bytes = new TextEncoder().encode(JSON.stringify(messages)).length;
  if (bytes > MAX_TRANSLATION_BYTES) {
    errors.push({
      path: '/messages',
      message: `is ${bytes} bytes as JSON, over the ${MAX_TRANSLATION_BYTES / 1024} KB a locale may hold: split the messages`,
    });
  }
  return errors;
}
