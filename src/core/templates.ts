import type { Template } from 'liquidjs';
import type { CompiledLayout } from './email-layout.js';
import { HeraldError, type FieldError } from './errors.js';
import { htmlToText } from './html-to-text.js';
import { safeLink } from './inbox.js';
import { inlineCss } from './inline-css.js';
import {
  BASE_ENGINE,
  controlLiquid,
  DEFAULT_RENDER_LIMIT_MS,
  parseTemplate,
  type LiquidEngine,
} from './liquid-sandbox.js';
import { RENDER_LOCALE, type RenderLocale } from './translations.js';
import type { EmailStep, WorkflowStep } from './types.js';
import { isSendingStep } from './types.js';

export { DEFAULT_RENDER_LIMIT_MS };
export { rendersInBoundedTime } from './bounded-templates.js';

// Templates are parsed with a LiquidEngine (liquid-sandbox.ts): the base one, or one per
// environment's partials. Rendering goes through the base instances: a template keeps the instance
// that parsed it for what it loads (its partials), and the two differ in nothing else.
const plainLiquid = BASE_ENGINE.plain;
const htmlLiquid = BASE_ENGINE.html;

export interface CompiledEmailStep {
  type: 'email';
  subject: Template[];
  html: Template[] | null;
  text: Template[] | null;
}

/** A JSON value whose strings are templates (webhook bodies, chat blocks). */
export type CompiledJson =
  | { kind: 'template'; templates: Template[] }
  | { kind: 'value'; path: string } // a string that is exactly {{ path }}: the value keeps its type
  | { kind: 'array'; items: CompiledJson[] }
  | { kind: 'object'; entries: [string, CompiledJson][] }
  | { kind: 'literal'; value: unknown };

export type CompiledStep =
  | CompiledEmailStep
  | { type: 'sms'; text: Template[] }
  | { type: 'push'; title: Template[]; body: Template[]; data: [string, Template[]][] | null }
  | { type: 'chat'; text: Template[]; blocks: CompiledJson | null }
  | { type: 'webhook'; url: Template[] | null; body: CompiledJson | null }
  | {
      type: 'in_app';
      title: Template[] | null;
      body: Template[];
      actionUrl: Template[] | null;
      avatarUrl: Template[] | null;
      data: CompiledJson | null;
    }
  /** A delay, digest or throttle: nothing to render (the run engine reads its own parts). */
  | { type: 'delay' | 'digest' | 'throttle' };

/** What a step renders to, per type. */
export type RenderedStep =
  | ({ type: 'email' } & RenderedEmail)
  | { type: 'sms'; text: string }
  | { type: 'push'; title: string; body: string; data: Record<string, string> | null }
  | { type: 'chat'; text: string; blocks: unknown[] | null }
  | { type: 'webhook'; url: string | null; body: unknown }
  | ({ type: 'in_app' } & RenderedInApp);

/** An inbox item's content; links are http(s) or relative, or null. */
export interface RenderedInApp {
  title: string | null;
  body: string;
  actionUrl: string | null;
  avatarUrl: string | null;
  data: Record<string, unknown> | null;
}

export interface RenderContext {
  subscriber: Record<string, unknown>;
  data: Record<string, unknown>;
  workflow: { key: string; name: string };
  /** After a digest step: how many events it folded and their data (see core/run-engine.ts). */
  digest?: DigestContext;
  /**
   * Email only: the one-click unsubscribe link the email carries (List-Unsubscribe), for templates
   * and layouts to link too; null for a critical workflow, or without --public-url.
   */
  unsubscribeUrl?: string | null;
}

/** What the steps after a digest see. */
export interface DigestContext {
  /** Every event of the digest, exactly. */
  count: number;
  /** The data of the first DIGEST_EVENTS_KEPT events, oldest first. */
  events: Record<string, unknown>[];
}

export interface RenderedEmail {
  subject: string;
  html: string | null;
  text: string;
}

/** How rendering one step for one recipient ended. */
export type RenderOutcome =
  | {
      status: 'rendered';
      rendered: RenderedStep;
      /** What the render could not do but did not fail for (a missing translation, a bad date): for the log. */
      warnings?: string[];
    }
  /** Ran past the render time or memory limit: a runaway template (or data that makes it one). */
  | { status: 'overran'; reason: string }
  /** The template failed (a filter error, templates that no longer compile). */
  | { status: 'failed'; reason: string }
  /** Not rendered: the step was refused before it started (see RunawayGuard). */
  | { status: 'refused'; reason: string };

/** Where Liquid stopped, from its error message (`…, line:3, col:7`), for a reason a person reads. */
function position(message: string): string {
  const at = /line:(\d+), col:(\d+)/.exec(message);
  return at ? ` at line ${at[1]}, col ${at[2]}` : '';
}

/**
 * Classifies an error thrown by rendering: Liquid's time and memory limits mean a runaway
 * (`overran`); anything else is the template's own failure.
 */
export function renderFailure(
  error: unknown,
  renderLimitMs: number,
): Extract<RenderOutcome, { status: 'overran' | 'failed' }> {
  const message = error instanceof Error ? error.message : String(error);
  if (/render limit exceeded/i.test(message)) {
    return {
      status: 'overran',
      reason: `render time limit exceeded: stopped after ${renderLimitMs} ms${position(message)}`,
    };
  }
  if (/memory alloc limit exceeded/i.test(message)) {
    return { status: 'overran', reason: `render memory limit exceeded${position(message)}` };
  }
  return { status: 'failed', reason: message };
}

/** Render options for one step: its time budget is shared by all its fields. */
export interface RenderLimits {
  /** Milliseconds the whole step may take (Liquid's cooperative limit); default DEFAULT_RENDER_LIMIT_MS. */
  renderLimitMs?: number;
  /**
   * The recipient's language, time zone and the environment's translations, for the `t` and
   * `format_*` filters (core/locale-filters.ts); what they could not do is added to its warnings.
   * Absent: `en`, UTC, no translations.
   */
  locale?: RenderLocale;
}

/** The scope templates render in: the context, and the render's locale where the filters find it. */
function scopeOf(context: RenderContext, limits: RenderLimits): Record<string, unknown> {
  const scope = context as unknown as Record<string, unknown>;
  return limits.locale ? { ...scope, [RENDER_LOCALE]: limits.locale } : scope;
}

/**
 * Liquid render options giving each call what is left of the step's budget, and the scope as the
 * globals: what a partial sees besides the values passed to it.
 */
type Budget = (scope: Record<string, unknown>) => { renderLimit: number; globals: Record<string, unknown> };

function budget(limits: RenderLimits): Budget {
  const until = performance.now() + (limits.renderLimitMs ?? DEFAULT_RENDER_LIMIT_MS);
  return (globals) => ({ renderLimit: Math.max(1, until - performance.now()), globals });
}

function compileEmailStep(
  engine: LiquidEngine,
  step: EmailStep,
  index: number,
  errors: FieldError[],
): CompiledEmailStep {
  const at = `/steps/${index}`;
  const subject = parseTemplate(engine.plain, step.subject, `${at}/subject`, errors) ?? [];
  const html = step.html === undefined ? null : parseTemplate(engine.html, step.html, `${at}/html`, errors);
  const text = step.text === undefined ? null : parseTemplate(engine.plain, step.text, `${at}/text`, errors);
  return { type: 'email', subject, html, text };
}

const WHOLE_VALUE = /^\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*|\[\d+\])*)\s*\}\}$/;

function compileJson(engine: LiquidEngine, value: unknown, path: string, errors: FieldError[]): CompiledJson {
  if (typeof value === 'string') {
    const whole = WHOLE_VALUE.exec(value);
    if (whole) return { kind: 'value', path: whole[1]! };
    return { kind: 'template', templates: parseTemplate(engine.plain, value, path, errors) ?? [] };
  }
  if (Array.isArray(value))
    return { kind: 'array', items: value.map((item, i) => compileJson(engine, item, `${path}/${i}`, errors)) };
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'object',
      entries: Object.entries(value).map(([key, item]) => [key, compileJson(engine, item, `${path}/${key}`, errors)]),
    };
  }
  return { kind: 'literal', value };
}

function compileStep(engine: LiquidEngine, step: WorkflowStep, index: number, errors: FieldError[]): CompiledStep {
  const at = `/steps/${index}`;
  const plain = (source: string, field: string) => parseTemplate(engine.plain, source, `${at}/${field}`, errors) ?? [];
  compileRunPart(step, index, errors);
  if (!isSendingStep(step)) return { type: step.type };
  switch (step.type) {
    case 'email':
      return compileEmailStep(engine, step, index, errors);
    case 'sms':
      return { type: 'sms', text: plain(step.text, 'text') };
    case 'push':
      return {
        type: 'push',
        title: plain(step.title, 'title'),
        body: plain(step.body, 'body'),
        data: step.data ? Object.entries(step.data).map(([key, source]) => [key, plain(source, `data/${key}`)]) : null,
      };
    case 'chat':
      return {
        type: 'chat',
        text: plain(step.text, 'text'),
        blocks: step.blocks === undefined ? null : compileJson(engine, step.blocks, `${at}/blocks`, errors),
      };
    case 'webhook':
      return {
        type: 'webhook',
        url: step.url === undefined ? null : plain(step.url, 'url'),
        body: step.body === undefined ? null : compileJson(engine, step.body, `${at}/body`, errors),
      };
    case 'in_app':
      return {
        type: 'in_app',
        title: step.title === undefined ? null : plain(step.title, 'title'),
        body: plain(step.body, 'body'),
        actionUrl: step.actionUrl === undefined ? null : plain(step.actionUrl, 'actionUrl'),
        avatarUrl: step.avatarUrl === undefined ? null : plain(step.avatarUrl, 'avatarUrl'),
        data: step.data === undefined ? null : compileJson(engine, step.data, `${at}/data`, errors),
      };
  }
}

/** A 422 naming every field whose template does not parse, if any. */
function refuseInvalid(errors: FieldError[]): void {
  if (errors.length > 0) {
    throw new HeraldError('TEMPLATE_INVALID', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  }
}

/** The Liquid parts of a step that the run engine evaluates (see core/run-engine.ts). */
export interface CompiledRunPart {
  /** `{% if <condition> %}`; null when the step has none. */
  condition: Template[] | null;
  /** A delay's `until`, a digest's or throttle's `key`. */
  until: Template[] | null;
  key: Template[] | null;
}

/** Liquid that would end the `{% if %}` a condition is wrapped in. */
const TAG_MARKS = /\{%|%\}|\{\{|\}\}/;

function compileRunPart(step: WorkflowStep, index: number, errors: FieldError[]): CompiledRunPart {
  const at = `/steps/${index}`;
  let condition: Template[] | null = null;
  if (step.if !== undefined) {
    if (TAG_MARKS.test(step.if)) {
      errors.push({ path: `${at}/if`, message: 'a condition is an expression, as in {% if … %}: no {% %} or {{ }}' });
    } else {
      const parsed = parseTemplate(controlLiquid, `{% if ${step.if} %}1{% endif %}`, `${at}/if`, errors);
      condition = parsed;
    }
  }
  const field = (source: string | undefined, name: string) =>
    source === undefined ? null : parseTemplate(controlLiquid, source, `${at}/${name}`, errors);
  return {
    condition,
    until: step.type === 'delay' ? field(step.until, 'until') : null,
    key: step.type === 'digest' || step.type === 'throttle' ? field(step.key, 'key') : null,
  };
}

/** Compiles the run engine's parts of every step; a syntax error is a 422 naming the step and field. */
export function compileRunParts(steps: readonly WorkflowStep[]): CompiledRunPart[] {
  const errors: FieldError[] = [];
  const parts = steps.map((step, index) => compileRunPart(step, index, errors));
  refuseInvalid(errors);
  return parts;
}

/**
 * Evaluates a condition or renders a control template (a delay's `until`, a key) within the
 * sandbox's limits. Conditions are expressions and keys short templates: they run on the caller's
 * thread, under Liquid's time limit.
 */
export function renderRunPart(templates: Template[], scope: Record<string, unknown>): string {
  return controlLiquid.renderSync(templates, scope).trim();
}

/**
 * Parses every template of a workflow with `engine` (whose partials `{% render %}` reads: those of
 * the environment's assets, or none); a syntax error is a 422 naming the step, field and line.
 */
export function compileSteps(steps: readonly WorkflowStep[], engine: LiquidEngine = BASE_ENGINE): CompiledStep[] {
  const errors: FieldError[] = [];
  const compiled = steps.map((step, index) => compileStep(engine, step, index, errors));
  refuseInvalid(errors);
  return compiled;
}

/**
 * Renders an email step; throws when rendering exceeds the sandbox limits or a filter fails. In a
 * layout, the step's HTML and text are rendered first, then the layout's, with the same scope plus
 * `layout` (its variables) and `content` (the step's part, as it is). The text part: the layout's
 * text around the step's (its own, or derived from its HTML); with no layout text, the step's own
 * text, or the text derived from the final HTML. CSS in `<style>` blocks is inlined last.
 */
export function renderEmail(
  step: CompiledEmailStep,
  context: RenderContext,
  limits: RenderLimits = {},
  left = budget(limits),
  layout: CompiledLayout | null = null,
): RenderedEmail {
  const scope = scopeOf(context, limits);
  // Header values must stay on one line, whatever the data holds.
  const subject = plainLiquid
    .renderSync(step.subject, scope, left(scope))
    .replace(/[\r\n]+/g, ' ')
    .trim();
  const ownHtml = step.html ? htmlLiquid.renderSync(step.html, scope, left(scope)) : null;
  const ownText = step.text ? plainLiquid.renderSync(step.text, scope, left(scope)) : null;
  let html = ownHtml;
  let text: string;
  if (layout) {
    const around = { ...scope, layout: layout.variables };
    if (ownHtml !== null) {
      const wrapping = { ...around, content: ownHtml };
      html = htmlLiquid.renderSync(layout.html, wrapping, left(wrapping));
    }
    if (layout.text) {
      const wrapping = { ...around, content: ownText ?? htmlToText(ownHtml ?? '') };
      text = plainLiquid.renderSync(layout.text, wrapping, left(wrapping));
    } else text = ownText ?? htmlToText(html ?? '');
  } else text = ownText ?? htmlToText(html ?? '');
  return { subject, html: html === null ? null : inlineCss(html), text };
}

function renderJson(json: CompiledJson, scope: Record<string, unknown>, left: Budget): unknown {
  switch (json.kind) {
    case 'template':
      return plainLiquid.renderSync(json.templates, scope, left(scope));
    case 'value': {
      const value = plainLiquid.evalValueSync(json.path, scope) as unknown;
      return value === undefined ? null : value;
    }
    case 'array':
      return json.items.map((item) => renderJson(item, scope, left));
    case 'object':
      return Object.fromEntries(json.entries.map(([key, item]) => [key, renderJson(item, scope, left)]));
    case 'literal':
      return json.value;
  }
}

/**
 * Renders any step; throws when rendering exceeds the sandbox limits or a filter fails. Runs
 * synchronously: call it where a runaway template cannot hold up other work (a render thread).
 * `layout`: the layout an email step renders in (see renderEmail), or null.
 */
export function renderStep(
  step: CompiledStep,
  context: RenderContext,
  limits: RenderLimits = {},
  layout: CompiledLayout | null = null,
): RenderedStep {
  const scope = scopeOf(context, limits);
  const left = budget(limits);
  const plain = (templates: Template[]) => plainLiquid.renderSync(templates, scope, left(scope));
  switch (step.type) {
    case 'email':
      return { type: 'email', ...renderEmail(step, context, limits, left, layout) };
    case 'sms':
      return { type: 'sms', text: plain(step.text).trim() };
    case 'push':
      return {
        type: 'push',
        title: plain(step.title)
          .replace(/[\r\n]+/g, ' ')
          .trim(),
        body: plain(step.body).trim(),
        data: step.data ? Object.fromEntries(step.data.map(([key, templates]) => [key, plain(templates)])) : null,
      };
    case 'chat': {
      const blocks = step.blocks ? renderJson(step.blocks, scope, left) : null;
      return { type: 'chat', text: plain(step.text).trim(), blocks: Array.isArray(blocks) ? blocks : null };
    }
    case 'webhook':
      return {
        type: 'webhook',
        url: step.url ? plain(step.url).trim() : null,
        body: step.body ? renderJson(step.body, scope, left) : null,
      };
    case 'delay':
    case 'digest':
    case 'throttle':
      throw new Error(`a ${step.type} step renders nothing`);
    case 'in_app': {
      const data = step.data ? renderJson(step.data, scope, left) : null;
      return {
        type: 'in_app',
        title: step.title ? plain(step.title).trim() || null : null,
        body: plain(step.body).trim(),
        actionUrl: step.actionUrl ? safeLink(plain(step.actionUrl)) : null,
        avatarUrl: step.avatarUrl ? safeLink(plain(step.avatarUrl)) : null,
        data:
          data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null,
      };
    }
  }
}
