import { Liquid, type Template } from 'liquidjs';
import { HeraldError, type FieldError } from './errors.js';
import { htmlToText } from './html-to-text.js';
import type { EmailStep, WorkflowStep } from './types.js';

/**
 * Liquid is sandboxed: templates read only own properties of the context, cannot include files
 * (the template map is empty), and each parse and render is bounded in size, time and memory.
 */
const SANDBOX = {
  ownPropertyOnly: true,
  templates: {},
  strictFilters: true,
  parseLimit: 1_000_000, // characters per template
  // Rendering runs on the event loop: a runaway template may hold it this long, so keep it short
  // (a normal render takes well under a millisecond).
  renderLimit: 100, // milliseconds per render
  memoryLimit: 10_000_000, // characters of strings and array items created per render
} as const;

const plainLiquid = new Liquid(SANDBOX);
const htmlLiquid = new Liquid({ ...SANDBOX, outputEscape: 'escape' });

// Templates live in the database, never in files: tags that load other templates are refused when
// a workflow is saved, with the line, rather than failing each message later.
for (const liquid of [plainLiquid, htmlLiquid]) {
  for (const tag of ['include', 'render', 'layout']) {
    liquid.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is not available: templates cannot load other templates or files`);
      },
      *render() {},
    });
  }
}

export interface CompiledEmailStep {
  type: 'email';
  subject: Template[];
  html: Template[] | null;
  text: Template[] | null;
}

export type CompiledStep = CompiledEmailStep;

export interface RenderContext {
  subscriber: Record<string, unknown>;
  data: Record<string, unknown>;
  workflow: { key: string; name: string };
}

export interface RenderedEmail {
  subject: string;
  html: string | null;
  text: string;
}

function parseField(liquid: Liquid, source: string, path: string, errors: FieldError[]): Template[] | null {
  try {
    return liquid.parse(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const line = /line:(\d+)/.exec(message)?.[1] ?? '1';
    errors.push({ path, message: `line ${line}: ${message.split(', line:')[0]}` });
    return null;
  }
}

function compileEmailStep(step: EmailStep, index: number, errors: FieldError[]): CompiledEmailStep {
  const at = `/steps/${index}`;
  const subject = parseField(plainLiquid, step.subject, `${at}/subject`, errors) ?? [];
  const html = step.html === undefined ? null : parseField(htmlLiquid, step.html, `${at}/html`, errors);
  const text = step.text === undefined ? null : parseField(plainLiquid, step.text, `${at}/text`, errors);
  return { type: 'email', subject, html, text };
}

/** Parses every template of a workflow; a syntax error is a 422 naming the step, field and line. */
export function compileSteps(steps: readonly WorkflowStep[]): CompiledStep[] {
  const errors: FieldError[] = [];
  const compiled = steps.map((step, index) => compileEmailStep(step, index, errors));
  if (errors.length > 0) {
    throw new HeraldError('TEMPLATE_INVALID', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  }
  return compiled;
}

/** Renders an email step; throws when rendering exceeds the sandbox limits or a filter fails. */
export function renderEmail(step: CompiledEmailStep, context: RenderContext): RenderedEmail {
  const scope = context as unknown as Record<string, unknown>;
  // Header values must stay on one line, whatever the data holds.
  const subject = plainLiquid
    .renderSync(step.subject, scope)
    .replace(/[\r\n]+/g, ' ')
    .trim();
  const html = step.html ? htmlLiquid.renderSync(step.html, scope) : null;
  const text = step.text ? plainLiquid.renderSync(step.text, scope) : htmlToText(html ?? '');
  return { subject, html, text };
}
