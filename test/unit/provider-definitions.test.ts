import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/channels/registry.js';

/**
 * What every provider must declare for the guards to hold, checked on the definitions themselves
 * so that a provider added later cannot forget: each outbound URL in its config is vetted when
 * saved (urlFields), and its destination fields are config fields that are not secrets.
 */

interface JsonSchema {
  type?: string;
  format?: string;
  properties?: Record<string, JsonSchema>;
}

/** Paths (`a/b`) of the string properties that look like outbound URLs. */
function urlLikePaths(schema: JsonSchema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, property]) => {
    const path = `${prefix}${key}`;
    if (property.type === 'object') return urlLikePaths(property, `${path}/`);
    const looksLikeUrl = property.format === 'uri' || /(url|uri|endpoint)$/i.test(key);
    return property.type === 'string' && looksLikeUrl ? [path] : [];
  });
}

describe('provider definitions', () => {
  it.each(PROVIDERS.map((definition) => [definition.provider, definition] as const))(
    '%s declares every URL in its config for the SSRF guard',
    (_name, definition) => {
      expect(Object.keys(definition.urlFields).sort()).toEqual(urlLikePaths(definition.configSchema).sort());
    },
  );

  it.each(PROVIDERS.map((definition) => [definition.provider, definition] as const))(
    '%s binds its credentials to config fields that exist and are not secrets',
    (_name, definition) => {
      const fields = Object.keys((definition.configSchema as JsonSchema).properties ?? {});
      for (const field of definition.destinationFields) {
        expect(fields).toContain(field);
        expect(definition.secretFields).not.toContain(field);
      }
      // A base URL is where the credentials go: wherever a provider has one, it binds them.
      if (fields.includes('baseUrl')) expect(definition.destinationFields).toContain('baseUrl');
    },
  );
});
