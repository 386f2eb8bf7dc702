import { isDeepStrictEqual } from 'node:util';
import { structuredPatch } from 'diff';
import { Document } from 'yaml';
import { KIND_SPECS, type Kind, type Resource } from './resource-kinds.js';

/**
 * A resource's body as `apply` compares it and `export` writes it: only the fields of its PUT body
 * (never createdAt, updatedAt, version, versionId or what else a GET adds), in the kind's order,
 * and without the values the server fills in when a body leaves them out (a name equal to the
 * key, `critical: false`, nulls), so a file that leaves them out equals a server that filled them in.
 */
export function normalizeResource(kind: Kind, id: string, source: Record<string, unknown>): Resource {
  const spec = KIND_SPECS[kind];
  const body: Record<string, unknown> = {};
  for (const field of Object.keys(spec.fields)) {
    const value = source[field];
    if (value === undefined || value === null) continue;
    const fill = spec.defaults[field];
    if (fill && isDeepStrictEqual(value, fill(id))) continue;
    body[field] = value;
  }
  return { kind, id, body };
}

/** Deep equality where the order of an object's keys does not count (arrays' order does). */
export const sameBody = (a: Resource, b: Resource) => canonicalJson(a.body) === canonicalJson(b.body);

function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/**
 * `value` with its objects' keys in the order `like` has them (keys `like` lacks after), index by
 * index in arrays: the server's side of a diff written in the file's order, so that the diff
 * shows what changed and not how differently the keys are ordered.
 */
function alignKeys(value: unknown, like: unknown): unknown {
  if (Array.isArray(value))
    return value.map((item, index) => alignKeys(item, Array.isArray(like) ? like[index] : undefined));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const model =
    like !== null && typeof like === 'object' && !Array.isArray(like) ? (like as Record<string, unknown>) : {};
  const keys = [
    ...Object.keys(model).filter((key) => key in object),
    ...Object.keys(object).filter((key) => !(key in model)),
  ];
  return Object.fromEntries(keys.map((key) => [key, alignKeys(object[key], model[key])]));
}

/**
 * A resource as a YAML file: `kind` and its key (or locale) first, then its fields in the kind's
 * order; strings of several lines as `|` block scalars, no line folding. With `like`, nested keys
 * follow that resource's order (for a diff against it).
 */
export function renderResource(resource: Resource, options: { like?: Resource } = {}): string {
  const spec = KIND_SPECS[resource.kind];
  const body = options.like ? (alignKeys(resource.body, options.like.body) as Record<string, unknown>) : resource.body;
  const ordered: Record<string, unknown> = { kind: resource.kind, [spec.idField]: resource.id };
  for (const field of Object.keys(spec.fields)) if (field in body) ordered[field] = body[field];
  return new Document(ordered).toString({ lineWidth: 0, blockQuote: 'literal' });
}

/** Lines of context around each change in a diff. */
const CONTEXT = 2;

/**
 * A unified diff (`@@ -a,b +c,d @@`, lines prefixed ` `, `-`, `+`) of two texts, with
 * {@link CONTEXT} lines around each change; empty when they are equal (jsdiff's structuredPatch).
 */
export function lineDiff(before: string, after: string): string[] {
  // Both end in one newline: a missing last newline is not a change worth a line of its own.
  const ended = (text: string) => `${text.replace(/\n$/, '')}\n`;
  const { hunks } = structuredPatch('', '', ended(before), ended(after), '', '', { context: CONTEXT });
  return hunks.flatMap((hunk) => [
    `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`,
    ...hunk.lines.filter((line) => !line.startsWith('\\')),
  ]);
}
