import { analyzeSync, type Template } from 'liquidjs';
import type { CompiledJson, CompiledStep } from './templates.js';

/**
 * Which variables a step's outputs name that the data at hand does not set: a preview's warnings
 * ("data.order.id is not set (subject, line 2)"). Never on the send path.
 *
 * Found by Liquid's static analysis of the parsed templates, not by rendering again: it costs a
 * walk of the template (no loop runs), so it is cheap and bounded whatever the template does, and
 * it names every such output at once, where a strict render stops at the first. Its rules:
 * - a variable counts when it is inside an output (`{{ data.x }}`); one whose output has a
 *   `default` filter is taken as handled, and so is one whose path (or a path leading to it) a tag
 *   tests (`{% if data.coupon %}…{{ data.coupon }}`) and finds unset;
 * - names a tag makes (`assign`, `capture`, a `for` loop's item) are not the data's and are not read;
 * - paths are read as Liquid reads them: own properties only, `size`, `first` and `last`, negative
 *   indexes; a path with a variable inside (`data[subscriber.key]`) is not checked.
 */
export function unsetVariables(step: CompiledStep, scope: Record<string, unknown>): string[] {
  const found = new Set<string>();
  for (const field of fieldsOf(step)) {
    if (field.path !== undefined) {
      const segments = field.path.split('.');
      if (read(scope, segments) === undefined) found.add(`${field.path} is not set (${field.name})`);
      continue;
    }
    for (const warning of unsetIn(field.templates, scope, field.name)) found.add(warning);
  }
  return [...found];
}

interface Field {
  name: string;
  templates: Template[];
  /** A JSON value that is exactly `{{ path }}` (it keeps its type): no templates, the path itself. */
  path?: string;
}

function fieldsOf(step: CompiledStep): Field[] {
  const fields: Field[] = [];
  const add = (name: string, templates: Template[] | null) => {
    if (templates && templates.length > 0) fields.push({ name, templates });
  };
  const json = (name: string, value: CompiledJson | null) => {
    if (!value) return;
    switch (value.kind) {
      case 'template':
        return add(name, value.templates);
      case 'value':
        // `[0]` indexes are kept in the path as Liquid reads them; split on dots and brackets.
        return fields.push({ name, templates: [], path: value.path.replace(/\[(\d+)\]/g, '.$1') });
      case 'array':
        return value.items.forEach((item, i) => json(`${name}/${i}`, item));
      case 'object':
        return value.entries.forEach(([key, item]) => json(`${name}/${key}`, item));
      case 'literal':
        return;
    }
  };
  switch (step.type) {
    case 'email':
      add('subject', step.subject);
      add('html', step.html);
      add('text', step.text);
      break;
    case 'sms':
      add('text', step.text);
      break;
    case 'push':
      add('title', step.title);
      add('body', step.body);
      for (const [key, templates] of step.data ?? []) add(`data/${key}`, templates);
      break;
    case 'chat':
      add('text', step.text);
      json('blocks', step.blocks);
      break;
    case 'webhook':
      add('url', step.url);
      json('body', step.body);
      break;
    case 'in_app':
      add('title', step.title);
      add('body', step.body);
      add('actionUrl', step.actionUrl);
      add('avatarUrl', step.avatarUrl);
      json('data', step.data);
      break;
    default:
      break;
  }
  return fields;
}

const OUTPUT = /\{\{[\s\S]*?\}\}/g;
const DEFAULT_FILTER = /\|\s*default\b/;

function unsetIn(templates: Template[], scope: Record<string, unknown>, field: string): string[] {
  const source = (templates[0] as { token?: { input?: string } }).token?.input;
  if (source === undefined) return [];
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const outputs = [...source.matchAll(OUTPUT)].map((m) => ({
    from: m.index,
    to: m.index + m[0].length,
    handled: DEFAULT_FILTER.test(m[0]),
  }));
  const outputAt = (row: number, col: number) => {
    const offset = (lineStarts[row - 1] ?? 0) + col - 1;
    return outputs.find((output) => offset >= output.from && offset < output.to);
  };
  const { globals } = analyzeSync(templates, { partials: false });
  const variables = Object.values(globals).flat();
  const tested: string[][] = [];
  const named: { segments: string[]; text: string; row: number }[] = [];
  for (const variable of variables) {
    const segments = plainSegments(variable.toArray());
    if (!segments) continue;
    const output = outputAt(variable.location.row, variable.location.col);
    if (!output) tested.push(segments);
    else if (!output.handled) named.push({ segments, text: String(variable), row: variable.location.row });
  }
  const warnings: string[] = [];
  for (const { segments, text, row } of named) {
    if (read(scope, segments) !== undefined) continue;
    const guarded = tested.some(
      (test) => test.length <= segments.length && test.every((s, i) => s === segments[i]) && !truthy(scope, test),
    );
    if (!guarded) warnings.push(`${text} is not set (${field}, line ${row})`);
  }
  return warnings;
}

/** A variable's path as strings, or undefined when a segment is itself a variable. */
function plainSegments(segments: unknown[]): string[] | undefined {
  const plain: string[] = [];
  for (const segment of segments) {
    if (typeof segment === 'string' || typeof segment === 'number') plain.push(String(segment));
    else return undefined;
  }
  return plain;
}

function truthy(scope: Record<string, unknown>, segments: string[]): boolean {
  const value = read(scope, segments);
  return value !== undefined && value !== null && value !== false;
}

/** Reads a path as Liquid does with `ownPropertyOnly` (liquidjs Context.readProperty). */
function read(value: unknown, segments: readonly string[]): unknown {
  let at = value;
  for (const key of segments) {
    if (at === null || at === undefined) return undefined;
    if (Array.isArray(at) && /^-?\d+$/.test(key)) {
      const index = Number(key) < 0 ? at.length + Number(key) : Number(key);
      at = Object.hasOwn(at, index) ? (at[index] as unknown) : undefined;
      continue;
    }
    const own = typeof at === 'object' && Object.hasOwn(at, key) ? (at as Record<string, unknown>)[key] : undefined;
    if (own !== undefined) at = own;
    else if (key === 'size' && (typeof at === 'string' || Array.isArray(at))) at = at.length;
    else if (key === 'size' && typeof at === 'object') at = Object.keys(at).length;
    else if (key === 'first' && Array.isArray(at)) at = at[0] as unknown;
    else if (key === 'last' && Array.isArray(at)) at = at[at.length - 1] as unknown;
    else return undefined;
  }
  return at;
}
