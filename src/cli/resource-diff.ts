import { isDeepStrictEqual } from 'node:util';
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
/** Past this many cells the diff stops looking for common lines and shows the middle as replaced. */
const MAX_CELLS = 4_000_000;

type Edit = { op: ' ' | '-' | '+'; line: string };

/**
 * A unified diff (`@@ -a,b +c,d @@`, lines prefixed ` `, `-`, `+`) of two texts, with
 * {@link CONTEXT} lines around each change; empty when they are equal.
 */
export function lineDiff(before: string, after: string): string[] {
  const edits = diffLines(before.replace(/\n$/, '').split('\n'), after.replace(/\n$/, '').split('\n'));
  // Each edit's line numbers on both sides (1-based), for the hunk headers.
  const at: { old: number; new: number }[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (const edit of edits) {
    at.push({ old: oldLine, new: newLine });
    if (edit.op !== '+') oldLine++;
    if (edit.op !== '-') newLine++;
  }
  const changed = edits.flatMap((edit, index) => (edit.op === ' ' ? [] : [index]));
  const out: string[] = [];
  let next = 0;
  while (next < changed.length) {
    // A hunk runs from CONTEXT lines before a change to CONTEXT lines after the last change that
    // follows the one before it within 2 × CONTEXT unchanged lines.
    let last = changed[next]!;
    const first = Math.max(0, last - CONTEXT);
    while (next + 1 < changed.length && changed[next + 1]! - last <= 2 * CONTEXT + 1) last = changed[++next]!;
    next++;
    const hunk = edits.slice(first, Math.min(edits.length, last + 1 + CONTEXT));
    const oldCount = hunk.filter((edit) => edit.op !== '+').length;
    const newCount = hunk.filter((edit) => edit.op !== '-').length;
    out.push(`@@ -${at[first]!.old},${oldCount} +${at[first]!.new},${newCount} @@`);
    for (const edit of hunk) out.push(edit.op + edit.line);
  }
  return out;
}

/** The edits turning `a` into `b`: common lines kept, by a longest common subsequence. */
function diffLines(a: string[], b: string[]): Edit[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: Edit[] = a.slice(0, start).map((line) => ({ op: ' ', line }));
  const tail: Edit[] = a.slice(endA).map((line) => ({ op: ' ', line }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    return [
      ...head,
      ...midA.map((line): Edit => ({ op: '-', line })),
      ...midB.map((line): Edit => ({ op: '+', line })),
      ...tail,
    ];
  }
  // lengths[i * (m + 1) + j]: the longest common subsequence of midA[i..] and midB[j..].
  const lengths = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * (m + 1) + j] =
        midA[i] === midB[j]
          ? lengths[(i + 1) * (m + 1) + j + 1]! + 1
          : Math.max(lengths[(i + 1) * (m + 1) + j]!, lengths[i * (m + 1) + j + 1]!);
    }
  }
  const middle: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      middle.push({ op: ' ', line: midA[i]! });
      i++;
      j++;
    } else if (i < n && (j === m || lengths[(i + 1) * (m + 1) + j]! >= lengths[i * (m + 1) + j + 1]!)) {
      middle.push({ op: '-', line: midA[i]! });
      i++;
    } else {
      middle.push({ op: '+', line: midB[j]! });
      j++;
    }
  }
  return [...head, ...middle, ...tail];
}
