import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  parseDocument,
  type Document,
  type Node,
  type Pair,
} from 'yaml';
import { UsageError } from './cli-errors.js';
import {
  canonicalLocale,
  describeResource,
  isKind,
  KEY_EXPECTED,
  KEY_PATTERN,
  KIND_SPECS,
  LOCALE_EXPECTED,
  LOCALE_PATTERN,
  type FieldType,
  type Resource,
} from './resource-kinds.js';

/** A resource read from a file, with where it is written, for messages that name file and line. */
export interface FileResource extends Resource {
  file: string;
  /** The line of the resource's `kind` (its first line). */
  line: number;
  /**
   * The line of the value at a JSON pointer into the body (`/steps/0/html`), or of the nearest
   * enclosing one written; with `templateLine`, a template's own line inside a `|` block scalar.
   */
  lineOf(pointer: string, templateLine?: number): number;
}

/** Something wrong with a file, at a line of it. */
export interface FileProblem {
  file: string;
  line: number;
  message: string;
}

export const formatProblem = (problem: FileProblem) => `${problem.file}:${problem.line}: ${problem.message}`;

const KIND_LIST = 'workflow, layout, partial or translation';
const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** A path as people read it: relative to the working directory when under it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** The resource files the arguments name: files as given, folders searched recursively, in sorted order. */
export function collectFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => !entry.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(path);
    }
  };
  for (const given of paths) {
    const path = resolve(given);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new UsageError(`${given}: no such file or folder`);
    }
    if (stat.isDirectory()) walk(path);
    else if (EXTENSIONS.has(extname(path).toLowerCase())) files.push(path);
    else throw new UsageError(`${given}: not a .yaml, .yml or .json file`);
  }
  const unique = [...new Set(files)];
  if (unique.length === 0) throw new UsageError(`no .yaml, .yml or .json files in ${paths.join(', ')}`);
  return unique;
}

/** Reads and checks every resource of the files; problems name file and line, and nothing is sent. */
export function readResourceFiles(paths: readonly string[]): { resources: FileResource[]; problems: FileProblem[] } {
  const resources: FileResource[] = [];
  const problems: FileProblem[] = [];
  const files = collectFiles(paths);
  for (const path of files) readFile(path, resources, problems);
  const seen = new Map<string, FileResource>();
  for (const resource of resources) {
    const id = `${resource.kind} ${resource.id}`;
    const first = seen.get(id);
    if (first) {
      problems.push({
        file: resource.file,
        line: resource.line,
        message: `${describeResource(resource)} is also defined at ${first.file}:${first.line}`,
      });
    } else seen.set(id, resource);
  }
  const order = new Map(files.map((path, index) => [displayPath(path), index]));
  problems.sort((a, b) => order.get(a.file)! - order.get(b.file)! || a.line - b.line);
  return { resources, problems };
}

function readFile(path: string, resources: FileResource[], problems: FileProblem[]): void {
  const file = displayPath(path);
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const lineCounter = new LineCounter();
  let documents: Document.Parsed[];
  if (extname(path).toLowerCase() === '.json') {
    // YAML reads JSON too, and more besides: JSON.parse decides what is valid JSON, YAML where it is.
    const document = parseDocument(text, { lineCounter });
    try {
      JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message.replace(/\s*\n\s*/g, ' ');
      const line = jsonErrorLine(text, message) ?? document.errors[0]?.linePos?.[0].line ?? 1;
      problems.push({ file, line, message });
      return;
    }
    documents = [document];
  } else {
    documents = parseAllDocuments(text, { lineCounter }) as Document.Parsed[];
    if (!Array.isArray(documents)) documents = []; // an empty stream
  }
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  for (const document of documents) {
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const line = error.linePos?.[0].line ?? lineAt(error.pos[0]);
        problems.push({ file, line, message: error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '') });
      }
      continue;
    }
    const contents = document.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) continue; // an empty document
    const nodes = isSeq(contents) ? contents.items : [contents];
    for (const node of nodes) {
      const resource = readResource(node as Node, document, { file, lineAt }, problems);
      if (resource) resources.push(resource);
    }
  }
}

/** Where JSON.parse stopped, when it says: "… at position 42", or on later Nodes "(line 3 column 5)". */
function jsonErrorLine(text: string, message: string): number | undefined {
  const line = /\(line (\d+) column \d+\)/.exec(message);
  if (line) return Number(line[1]);
  const position = /at position (\d+)/.exec(message);
  return position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
}

interface Where {
  file: string;
  lineAt(offset: number): number;
}

const startOf = (node: Node | null | undefined) => node?.range?.[0];

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}${typeof value === 'string' ? '' : ` (${JSON.stringify(value)})`}`;
}

const TYPE_WORDS: Record<Exclude<FieldType, 'any'>, string> = {
  string: 'a string (quote it if it looks like a number or true/false)',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'any':
      return true;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

function readResource(node: Node, document: Document.Parsed, where: Where, problems: FileProblem[]) {
  const line = where.lineAt(startOf(node) ?? 0);
  const problem = (at: Node | null | undefined, message: string) =>
    problems.push({ file: where.file, line: at ? where.lineAt(startOf(at) ?? 0) : line, message });
  if (!isMap(node)) {
    problem(node, `a resource is a mapping with kind and key (got ${describeType(node.toJS(document))})`);
    return undefined;
  }
  const pairs = new Map<string, Pair<Node, Node | null>>();
  for (const pair of node.items as Pair<Node, Node | null>[]) {
    pairs.set(String(isScalar(pair.key) ? pair.key.value : pair.key), pair);
  }
  const kindNode = pairs.get('kind')?.value;
  const kind = isScalar(kindNode) ? kindNode.value : kindNode?.toJS(document);
  if (!pairs.has('kind')) {
    problem(node, `no kind: give kind: ${KIND_LIST}`);
    return undefined;
  }
  if (!isKind(kind)) {
    problem(kindNode, `unknown kind ${JSON.stringify(kind)}: expected ${KIND_LIST}`);
    return undefined;
  }
  const spec = KIND_SPECS[kind];
  const before = problems.length;
  const idPair = pairs.get(spec.idField);
  const id: unknown = idPair?.value?.toJS(document);
  const [pattern, expected] =
    spec.idField === 'locale' ? [LOCALE_PATTERN, LOCALE_EXPECTED] : [KEY_PATTERN, KEY_EXPECTED];
  if (!idPair) problem(node, `a ${kind} needs ${spec.idField}`);
  else if (typeof id !== 'string') problem(idPair.value, `${spec.idField} must be a string, not ${describeType(id)}`);
  else if (!pattern.test(id)) problem(idPair.value, `${spec.idField} ${JSON.stringify(id)}: expected ${expected}`);
  else if (spec.idField === 'locale' && canonicalLocale(id) !== id) {
    const canonical = canonicalLocale(id);
    problem(
      idPair.value,
      canonical === undefined
        ? `locale ${JSON.stringify(id)} is not a BCP 47 locale: expected ${expected}`
        : `locale ${JSON.stringify(id)}: write it as ${canonical}, the form the server keeps`,
    );
  }

  const body: Record<string, unknown> = {};
  for (const [name, pair] of pairs) {
    if (name === 'kind' || name === spec.idField) continue;
    const type = spec.fields[name];
    if (type === undefined) {
      const fields = [spec.idField, ...Object.keys(spec.fields)].join(', ');
      problem(pair.key, `unknown field ${JSON.stringify(name)} in a ${kind} (its fields: ${fields})`);
      continue;
    }
    const value: unknown = pair.value?.toJS(document) ?? null;
    if (!hasType(value, type)) {
      problem(pair.key, `${name} must be ${TYPE_WORDS[type as keyof typeof TYPE_WORDS]}, not ${describeType(value)}`);
      continue;
    }
    body[name] = value;
  }
  for (const name of spec.required) {
    if (!pairs.has(name)) problem(node, `a ${kind} needs ${name}`);
  }
  if (Array.isArray(body.steps)) {
    const items = (pairs.get('steps')?.value as { items?: Node[] } | undefined)?.items ?? [];
    body.steps.forEach((step, index) => {
      if (!hasType(step, 'object'))
        problem(items[index], `steps/${index} must be a mapping, not ${describeType(step)}`);
    });
  }
  if (problems.length > before) return undefined;
  return {
    kind,
    id: id as string,
    body,
    file: where.file,
    line,
    lineOf: (pointer: string, templateLine?: number) => lineOf(node, pointer, where, line, templateLine),
  } satisfies FileResource;
}

/** The line of the node a JSON pointer names, or of the deepest node on its way that is written. */
function lineOf(root: Node, pointer: string, where: Where, fallback: number, templateLine?: number): number {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: Node = root;
  let at: Node = root; // a pair's key is where people look for the field
  for (const segment of segments) {
    let next: Node | null | undefined;
    let label: Node | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment) as
        Pair<Node, Node | null> | undefined;
      next = pair?.value;
      label = pair?.key;
    } else if (isSeq(node) && /^\d+$/.test(segment)) {
      next = node.items[Number(segment)] as Node | undefined;
      label = next ?? undefined;
    }
    if (!next || !label) break;
    node = next;
    at = isScalar(next) ? next : label;
  }
  const start = startOf(at);
  if (start === undefined) return fallback;
  const line = where.lineAt(start);
  // A `|` block's text starts on the line after its header, line for line.
  if (templateLine !== undefined && isScalar(node) && node === at && node.type === 'BLOCK_LITERAL') {
    return line + templateLine;
  }
  return line;
}
