import { Type } from 'typebox';

/**
 * The `baseUrl` config field of HTTP providers: the API origin, the real one when absent. Tests
 * and self-hosted gateways point it elsewhere.
 */
export const BaseUrlField = Type.Optional(Type.String({ format: 'uri' }));

/**
 * `path` (starting with `/`) on the configured base URL, or on the provider's own origin when none
 * is configured. Trailing slashes of the base are dropped, so `https://gateway/` still gives one.
 */
export function endpoint(baseUrl: string | undefined, defaultOrigin: string, path: string): string {
  return `${(baseUrl ?? defaultOrigin).replace(/\/+$/, '')}${path}`;
}
