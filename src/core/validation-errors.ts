import type { FieldError } from './errors.js';

/**
 * One schema validation error as Ajv reports it with `verbose: true` (which adds `schema`,
 * `parentSchema` and `data`). Declared here so core needs no validator.
 */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath?: string;
  params?: Record<string, unknown>;
  message?: string;
  schema?: unknown;
  parentSchema?: unknown;
  data?: unknown;
  /** Set on the errors of a `propertyNames` schema: the key that failed it. */
  propertyName?: string;
}

export interface FieldErrorOptions {
  /** Prepended to every path, e.g. `/config` for a provider's config validated on its own. */
  prefix?: string;
  /** Resolves a `$ref` to its schema, to look inside a union's referenced branches. */
  resolveRef?: (ref: string) => unknown;
}

/** At most this many errors: past it a client is sending the wrong thing altogether. */
const MAX_ERRORS = 20;

type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null;

/**
 * Field errors that name the fix, from a validator's errors. A union (`anyOf`/`oneOf`) answers once:
 * with the errors of the one branch that has the value's JSON type, or with one error saying what
 * would be accepted ("must be one of email, sms…", "must be a string or null"); a discriminated
 * union answers for the branch its tag names, or lists the tags. Every message says what is
 * accepted: enum values, lengths, the known fields, what a pattern means (`x-expected`).
 */
export function fieldErrorsOf(errors: readonly SchemaError[], options: FieldErrorOptions = {}): FieldError[] {
  const prefix = options.prefix ?? '';
  const pointer = (path: string) => prefix + path || '/';
  const resolve = (schema: unknown): Schema | undefined => {
    if (!isSchema(schema)) return undefined;
    if (typeof schema.$ref === 'string' && options.resolveRef) {
      const target = options.resolveRef(schema.$ref);
      return isSchema(target) ? target : undefined;
    }
    return schema;
  };

  const dropped = new Set<SchemaError>();
  // A union's one error stands where Ajv reported the union, after its branches' errors.
  const replaced = new Map<SchemaError, FieldError>();
  // The outermost union at a path is the last one reported there: Ajv reports a union after its branches.
  const outermost = new Map<string, SchemaError>();
  for (const error of errors) {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') outermost.set(error.instancePath, error);
  }
  const dropAt = (path: string, keywords: readonly string[]) => {
    for (const error of errors) {
      if (error.instancePath === path && keywords.includes(error.keyword)) dropped.add(error);
    }
  };
  for (const [path, union] of outermost) {
    const branches = leaves(union.schema, resolve);
    const literals = branches.filter((branch) => branch.const !== undefined || Array.isArray(branch.enum));
    const expected = isSchema(union.parentSchema) ? union.parentSchema['x-expected'] : undefined;
    let message: string | undefined;
    const needs = branches.map((branch) => requiredOnly(branch));
    if (needs.length > 0 && needs.every((fields) => fields !== undefined)) {
      // Fields of which one set must be given (`anyOf: [{required: [a]}, {required: [b]}]`).
      for (const error of errors) {
        if (error.keyword === 'required' && branches.includes(error.parentSchema as Schema)) dropped.add(error);
      }
      message = `needs ${either(needs.map((fields) => fields!.join(' and ')))}`;
    } else if (literals.length > 0 && branches.every((branch) => literals.includes(branch) || isNullType(branch))) {
      const values = literals.flatMap((branch) => (Array.isArray(branch.enum) ? branch.enum : [branch.const]));
      const orNull = branches.length > literals.length ? ', or null' : '';
      message = `must be one of ${values.map(show).join(', ')}${orNull}`;
    } else if (!branches.some((branch) => acceptsTypeOf(branch, union.data))) {
      message = typeof expected === 'string' ? `must be ${expected}` : `must be ${describeAll(branches)}`;
    }
    if (message === undefined) {
      // The branches of other types failed only on their type: the errors left are the fitting branch's.
      dropAt(path, ['anyOf', 'oneOf', 'type']);
      // Several object shapes fit an object: answer for the one whose fields it uses.
      const fitting = branches.filter((branch) => acceptsTypeOf(branch, union.data) && isSchema(branch.properties));
      if (fitting.length > 1 && jsonType(union.data) === 'object') {
        const used = (branch: Schema) =>
          Object.keys(union.data as object).filter((key) => key in (branch.properties as object)).length;
        const best = fitting.reduce((a, b) => (used(b) > used(a) ? b : a));
        const bestNodes = subschemas(best, resolve);
        const others = new Set(
          fitting.filter((branch) => branch !== best).flatMap((branch) => [...subschemas(branch, resolve)]),
        );
        for (const error of errors) {
          const under = error.instancePath === path || error.instancePath.startsWith(`${path}/`);
          const parent = error.parentSchema as Schema;
          if (under && others.has(parent) && !bestNodes.has(parent)) dropped.add(error);
        }
      }
    } else {
      dropAt(path, ['anyOf', 'oneOf', 'type', 'const', 'enum']);
      dropped.delete(union);
      replaced.set(union, { path: pointer(path), message });
    }
  }

  const result: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    // A key that fails `propertyNames` is reported by the failing check itself, at the key.
    if (dropped.has(error) || error.keyword === 'propertyNames') continue;
    const field = replaced.get(error) ?? keyError(error, pointer, resolve) ?? fieldError(error, pointer, resolve);
    const key = `${field.path} ${field.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(field);
    if (result.length >= MAX_ERRORS) break;
  }
  return result;
}

/** The branches of a union, with references resolved and nested unions flattened. */
function leaves(union: unknown, resolve: (schema: unknown) => Schema | undefined, depth = 0): Schema[] {
  if (!Array.isArray(union) || depth > 5) return [];
  return union.flatMap((branch) => {
    const schema = resolve(branch);
    if (!schema) return [];
    const nested = schema.anyOf ?? schema.oneOf;
    return Array.isArray(nested) ? leaves(nested, resolve, depth + 1) : [schema];
  });
}

/** Every schema object inside `schema` (itself included), references resolved. */
function subschemas(schema: Schema, resolve: (schema: unknown) => Schema | undefined): Set<Schema> {
  const found = new Set<Schema>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(walk);
    const node = resolve(value);
    if (!node || found.has(node)) return;
    found.add(node);
    if (node !== value) found.add(value as Schema);
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) walk(child);
  };
  walk(schema);
  return found;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typesOf(schema: Schema): string[] | undefined {
  if (schema.const !== undefined) return [jsonType(schema.const)];
  if (Array.isArray(schema.enum)) return schema.enum.map(jsonType);
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((type): type is string => typeof type === 'string');
  return undefined; // any type
}

function acceptsTypeOf(schema: Schema, value: unknown): boolean {
  const types = typesOf(schema);
  if (!types) return true;
  const type = jsonType(value);
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

const isNullType = (schema: Schema) => schema.type === 'null';

/** The fields a branch that only requires fields requires, or undefined for any other branch. */
function requiredOnly(schema: Schema): string[] | undefined {
  const keys = Object.keys(schema).filter((key) => key !== 'description');
  return keys.length === 1 && Array.isArray(schema.required) ? schema.required.map(String) : undefined;
}

const A_TYPE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** "a, b or c", with repeats left out; "…, or c" when a part has an "or" of its own. */
function either(words: readonly string[]): string {
  const unique = [...new Set(words)];
  if (unique.length <= 1) return unique[0] ?? 'valid';
  const last = unique.some((word) => word.includes(' or ')) ? ', or ' : ' or ';
  return `${unique.slice(0, -1).join(', ')}${last}${unique.at(-1)}`;
}

function describe(schema: Schema): string {
  if (typeof schema['x-expected'] === 'string') return schema['x-expected'];
  if (typeof schema.format === 'string') return FORMATS[schema.format] ?? `a ${schema.format}`;
  return either((typesOf(schema) ?? ['any value']).map((type) => A_TYPE[type] ?? type));
}

const describeAll = (schemas: readonly Schema[]) => either(schemas.map(describe));

const FORMATS: Record<string, string> = {
  email: 'an email address',
  uri: 'a URL',
  'date-time': 'a date and time (RFC 3339)',
};

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** The error of an object's key that fails its `propertyNames` schema: at the key, saying so. */
function keyError(
  error: SchemaError,
  pointer: (path: string) => string,
  resolve: (schema: unknown) => Schema | undefined,
): FieldError | undefined {
  if (typeof error.propertyName !== 'string') return undefined;
  const { message } = fieldError(error, pointer, resolve);
  return { path: pointer(`${error.instancePath}/${error.propertyName}`), message: `is not a valid key: ${message}` };
}

function fieldError(
  error: SchemaError,
  pointer: (path: string) => string,
  resolve: (schema: unknown) => Schema | undefined,
): FieldError {
  const params = error.params ?? {};
  const parent = isSchema(error.parentSchema) ? error.parentSchema : {};
  const at = (field?: unknown) =>
    pointer(typeof field === 'string' ? `${error.instancePath}/${field}` : error.instancePath);
  const limit = typeof params.limit === 'number' ? params.limit : 0;
  switch (error.keyword) {
    case 'required':
      return { path: at(params.missingProperty), message: 'is required' };
    case 'additionalProperties': {
      const known = isSchema(parent.properties) ? Object.keys(parent.properties) : [];
      const hint = known.length > 0 ? `; known fields: ${known.join(', ')}` : '';
      return { path: at(params.additionalProperty), message: `is not a known field${hint}` };
    }
    case 'type':
      return {
        path: at(),
        message: `must be ${either(
          String(params.type)
            .split(',')
            .map((type) => A_TYPE[type] ?? type),
        )}`,
      };
    case 'enum':
      return {
        path: at(),
        message: `must be one of ${(Array.isArray(params.allowedValues) ? params.allowedValues : []).map(show).join(', ')}`,
      };
    case 'const':
      return { path: at(), message: `must be ${show(params.allowedValue)}` };
    case 'format':
    case 'pattern':
      if (typeof parent['x-expected'] === 'string') return { path: at(), message: `must be ${parent['x-expected']}` };
      if (error.keyword === 'format' && typeof params.format === 'string' && FORMATS[params.format]) {
        return { path: at(), message: `must be ${FORMATS[params.format]}` };
      }
      break;
    case 'minLength':
      return { path: at(), message: limit <= 1 ? 'must not be empty' : `must be at least ${limit} characters long` };
    case 'maxLength':
      return { path: at(), message: `must be at most ${limit} characters long` };
    case 'minItems':
      return { path: at(), message: `must have at least ${limit} ${limit === 1 ? 'item' : 'items'}` };
    case 'maxItems':
      return { path: at(), message: `must have at most ${limit} items` };
    case 'minimum':
    case 'maximum':
      return { path: at(), message: `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${limit}` };
    case 'discriminator': {
      const tag = typeof params.tag === 'string' ? params.tag : 'type';
      const tags = leaves(parent.oneOf, resolve).flatMap((branch) => {
        const property = isSchema(branch.properties) ? resolve(branch.properties[tag]) : undefined;
        if (!property) return [];
        return Array.isArray(property.enum) ? property.enum : property.const !== undefined ? [property.const] : [];
      });
      const given = params.tagValue === undefined ? 'is required:' : 'must be';
      return { path: at(tag), message: `${given} one of ${tags.map(show).join(', ')}` };
    }
  }
  return { path: at(), message: error.message ?? 'is invalid' };
}
