import { hasStyleBlock } from './inline-css.js';
import { isSendingStep, type WorkflowStep } from './types.js';

// Which steps may render on the caller's thread (src/worker/render-in-place.ts): those that
// cannot run away, whatever the data.

/** An output that only names a value (`{{ data.order.id }}`): no filter, no expression. */
const VALUE_OUTPUT = /^\{\{-?\s*[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*\s*-?\}\}$/;
const OUTPUTS = /\{\{[\s\S]*?\}\}/g;

function boundedTemplate(source: string): boolean {
  if (source.includes('{%')) return false;
  for (const [output] of source.matchAll(OUTPUTS)) if (!VALUE_OUTPUT.test(output)) return false;
  return !source.replace(OUTPUTS, '').includes('{{');
}

function everyTemplate(value: unknown, test: (source: string) => boolean): boolean {
  if (typeof value === 'string') return test(value);
  if (Array.isArray(value)) return value.every((item) => everyTemplate(item, test));
  if (value !== null && typeof value === 'object') return Object.values(value).every((v) => everyTemplate(v, test));
  return true;
}

/**
 * Whether a sending step's render costs no more than copying its text and the values it names:
 * every template is literal text and outputs of a value (no tags, so no loops, no partials; no
 * filters). Such a step cannot run away, whatever the data, and may be rendered on the caller's
 * thread. An email whose HTML has a `<style>` block is not: its CSS is inlined (in a thread). An
 * email in a layout is not either, whatever its own templates: deliverJob gives its render the
 * environment's assets, which render-in-place leaves to a thread.
 */
export function rendersInBoundedTime(step: WorkflowStep): boolean {
  if (!isSendingStep(step)) return false;
  if (step.type === 'email' && step.html !== undefined && hasStyleBlock(step.html)) return false;
  const { type: _type, ref: _ref, if: _if, ...templates } = step;
  if ('layout' in templates) delete templates.layout;
  return everyTemplate(templates, boundedTemplate);
}
