import type { Template } from 'liquidjs';
import type { FieldError } from './errors.js';
import { parseTemplate, type LiquidEngine } from './liquid-sandbox.js';
import { CONTENT_SLOT, type LayoutVariables, type TemplateAssets } from './template-assets.js';

/** A stored layout, parsed: what renderEmail wraps an email in. */
export interface CompiledLayout {
  key: string;
  html: Template[];
  text: Template[] | null;
  variables: LayoutVariables;
}

/**
 * The slot outputs the email's content as it is: already rendered (and escaped) HTML or text, not
 * a template and not escaped again.
 */
const withRawSlot = (source: string) => source.replace(CONTENT_SLOT, '{{$1 content | raw $2}}');

/**
 * Parses the environment's layout `key` with the engine of its assets (so the partials it renders
 * are theirs). Throws with a reason when there is no such layout (deleted after the workflow
 * naming it was saved) or it does not parse.
 */
export function compileLayout(engine: LiquidEngine, assets: TemplateAssets, key: string): CompiledLayout {
  if (!Object.hasOwn(assets.layouts, key)) {
    throw new Error(`there is no layout "${key}" (deleted after this workflow was saved?)`);
  }
  const layout = assets.layouts[key]!;
  const errors: FieldError[] = [];
  const html = parseTemplate(engine.html, withRawSlot(layout.html), 'html', errors);
  const text = layout.text === null ? null : parseTemplate(engine.plain, withRawSlot(layout.text), 'text', errors);
  if (errors.length > 0 || !html) {
    throw new Error(`the layout "${key}" does not parse: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  }
  return { key, html, text, variables: layout.variables };
}
