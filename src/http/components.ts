import { Type, type Static, type TSchema } from 'typebox';

/** A schema declared once, under its name: the `$id` its references point at. */
export type ComponentSchema = TSchema & { $id: string };

const components = new Map<string, ComponentSchema>();

/**
 * Declares a named schema and returns a reference to it, typed as the schema itself. /openapi.json
 * lists it once under `components.schemas` and every use is a `$ref` (what client generators turn
 * into one named type); Ajv validates requests and fast-json-stringify writes responses through the
 * same reference, so each component is compiled once, not once per route.
 */
export function component<T extends TSchema>(name: string, schema: T) {
  if (components.has(name)) throw new Error(`The schema component ${name} is declared twice`);
  components.set(name, { ...schema, $id: name });
  return Type.Unsafe<Static<T>>({ $ref: name });
}

/** Every declared component, for `app.addSchema` (the document and the response serializers). */
export function componentSchemas(): ComponentSchema[] {
  return [...components.values()];
}

/**
 * Every declared component, for Ajv: Ajv reads a discriminator's `propertyName` but refuses its
 * `mapping` (it finds the tags in the branches), which the document needs for generators.
 */
export function validatorSchemas(): ComponentSchema[] {
  return componentSchemas().map((schema) => {
    const discriminator = (schema as { discriminator?: { propertyName: string } }).discriminator;
    return discriminator ? { ...schema, discriminator: { propertyName: discriminator.propertyName } } : schema;
  });
}

/** Where a component is in /openapi.json, for the places that name it outside a `$ref`. */
export const componentPointer = (name: string) => `#/components/schemas/${name}`;

/** The component a `$ref` names (`Name` or `Name#`), for error messages that look inside it. */
export function resolveComponent(ref: string): ComponentSchema | undefined {
  return components.get(ref.replace(/#$/, ''));
}

/** A string with a fixed set of values: `enum` in the document, one "must be one of …" error. */
export const StringEnum = <const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/**
 * A string whose pattern needs words to be understood: `x-expected` names what the pattern accepts,
 * both in the document and in the validation error ("must be an http(s) URL without spaces").
 */
export const PatternString = (pattern: string, expected: string, options: Record<string, unknown> = {}) =>
  Type.String({ pattern, 'x-expected': expected, ...options });

/** Keys chosen by the customer (workflows, integrations, categories): URL-safe, bounded. */
export const KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';
export const KEY_EXPECTED = 'up to 100 letters, digits, ".", "_" or "-", starting with a letter or digit';
