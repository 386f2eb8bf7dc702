import {
  Liquid,
  tags,
  type FS,
  type Parser,
  type PartialScope,
  type Tag,
  type TagToken,
  type Template,
  type TopLevelToken,
} from 'liquidjs';
import type { FieldError } from './errors.js';
import { registerLocaleFilters } from './locale-filters.js';

/** How long one step's render may take by default: thousands of times a normal render (≈ 40 µs). */
export const DEFAULT_RENDER_LIMIT_MS = 250;

/**
 * Liquid is sandboxed: templates read only own properties of the context, load no files (a
 * partial comes from the environment's stored partials, never the file system), and each parse
 * and render is bounded in size, time and memory. The time and memory limits are cooperative
 * (checked between template nodes and in some filters): a single filter over a large range can run
 * past them, so the worker renders in a thread it can end (src/worker/render-pool.ts). A partial
 * renders in its caller's context: the same time and memory budget.
 */
const SANDBOX = {
  ownPropertyOnly: true,
  strictFilters: true,
  parseLimit: 1_000_000, // characters per template
  renderLimit: DEFAULT_RENDER_LIMIT_MS, // milliseconds per render call, unless the caller sets its own
  memoryLimit: 10_000_000, // characters of strings and array items created per render
} as const;

/** The Liquid instances templates are parsed with: plain text, and HTML whose output is escaped. */
export interface LiquidEngine {
  plain: Liquid;
  html: Liquid;
}

const refused = (tag: string) => ({
  parse() {
    throw new Error(`{% ${tag} %} is not available: templates cannot load other templates or files`);
  },
  *render() {},
});

/**
 * While set, the partial names the render tags parsed, and where: see `collectPartials`. Parsing is
 * synchronous, so one collection at a time is all there can be.
 */
let collecting: { path: string; found: { path: string; key: string }[] } | undefined;

/** liquidjs' own `{% render %}`, as its declaration file leaves it typed. */
const BuiltInRender = tags['render'] as unknown as new (
  token: TagToken,
  remainTokens: TopLevelToken[],
  liquid: Liquid,
  parser: Parser,
) => Pick<Tag, 'render'> & { partialScope(): PartialScope | undefined };

/**
 * `{% render 'key' %}` (with `, name: value`, `with` or `for`) of a stored partial. The name must be
 * a quoted key, so what a template renders is known when it is saved; a name made at render time
 * is refused when the template is parsed.
 */
class StoredPartialTag extends BuiltInRender {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid, parser: Parser) {
    super(token, remainTokens, liquid, parser);
    const scope = this.partialScope();
    if (scope === undefined) {
      throw new Error(
        `a partial is named by its key in quotes, e.g. {% render 'footer' %}: names made from values are not allowed`,
      );
    }
    if (collecting) collecting.found.push({ path: collecting.path, key: scope.name });
  }
}

/**
 * The environment's partials as Liquid's file system: a name is looked up there and nowhere else.
 * A name that is not there (a partial deleted after the template that renders it was saved) fails
 * the render with a reason that says so.
 */
function storedPartials(partials: Readonly<Record<string, string>>): FS {
  const read = (name: string) => {
    if (Object.hasOwn(partials, name)) return partials[name]!;
    throw new Error(`there is no partial "${name}" (deleted after this template was saved?)`);
  };
  return {
    exists: async () => true,
    existsSync: () => true,
    contains: async () => true,
    containsSync: () => true,
    readFile: async (name) => read(name),
    readFileSync: read,
    resolve: (_dir, name) => name,
    sep: '/',
    dirname: () => '.',
  };
}

/**
 * Liquid instances whose `{% render %}` reads `partials`, each partial parsed once (`cache`).
 * `{% include %}` and `{% layout %}` are refused when a template is parsed, with the line.
 */
export function createLiquidEngine(partials: Readonly<Record<string, string>>): LiquidEngine {
  const options = {
    ...SANDBOX,
    fs: storedPartials(partials),
    root: ['.'],
    partials: ['.'],
    layouts: ['.'],
    relativeReference: false,
    extname: '',
    cache: true,
  };
  const engine = { plain: new Liquid(options), html: new Liquid({ ...options, outputEscape: 'escape' }) };
  for (const liquid of [engine.plain, engine.html]) {
    for (const tag of ['include', 'layout']) liquid.registerTag(tag, refused(tag));
    liquid.registerTag('render', StoredPartialTag as unknown as Parameters<Liquid['registerTag']>[1]);
    registerLocaleFilters(liquid); // t, format_date, format_number, … (core/locale-filters.ts)
  }
  return engine;
}

/** The engine of an environment without partials: a `{% render %}` fails the render, naming the partial. */
export const BASE_ENGINE = createLiquidEngine({});

/**
 * For the run engine's parts (conditions, a delay's `until`, keys), which run on the caller's
 * thread: no tag loads anything, so none can take longer than its own nodes.
 */
export const controlLiquid = new Liquid(SANDBOX);
for (const tag of ['include', 'render', 'layout']) controlLiquid.registerTag(tag, refused(tag));

/**
 * Parses a template; a syntax error is pushed to `errors` as `line N: message`, at `path`, and the
 * answer is null.
 */
export function parseTemplate(liquid: Liquid, source: string, path: string, errors: FieldError[]): Template[] | null {
  if (collecting) collecting.path = path;
  try {
    return liquid.parse(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const line = /line:(\d+)/.exec(message)?.[1] ?? '1';
    errors.push({ path, message: `line ${line}: ${message.split(', line:')[0]}` });
    return null;
  }
}

/** Runs `parse` and answers what it returned with every partial its templates render, by path. */
export function collectPartials<T>(parse: () => T): { result: T; partials: { path: string; key: string }[] } {
  const outer = collecting;
  const current = { path: '', found: [] as { path: string; key: string }[] };
  collecting = current;
  try {
    return { result: parse(), partials: current.found };
  } finally {
    collecting = outer;
  }
}
