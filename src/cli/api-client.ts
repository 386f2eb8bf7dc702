import { CommandFailure, UsageError } from './cli-errors.js';

/** One `{path, message}` of a problem's `errors`: where in the body, e.g. `/steps/0/html`. */
export interface ProblemField {
  path: string;
  message: string;
}

/** A 4xx or 5xx answer of the API, from its RFC 9457 problem+json body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly detail: string;
  readonly errors: readonly ProblemField[];

  constructor(request: string, status: number, body: unknown) {
    const problem = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const code = typeof problem.code === 'string' ? problem.code : undefined;
    const detail = typeof problem.detail === 'string' ? problem.detail : typeof body === 'string' ? body : '';
    super(`${request} answered ${status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = Array.isArray(problem.errors)
      ? (problem.errors as unknown[]).filter(
          (e): e is ProblemField =>
            e !== null &&
            typeof e === 'object' &&
            typeof (e as ProblemField).path === 'string' &&
            typeof (e as ProblemField).message === 'string',
        )
      : [];
  }
}

/** The part of Herald's HTTP API the CLI calls, with the key and base URL of `--url`/`--key`. */
export interface ApiClient {
  readonly url: string;
  /** Sends a request; answers the parsed JSON body, or throws ApiError for a 4xx/5xx. */
  request<T = unknown>(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /**
   * Every item of a cursor-paged list (`{items, nextCursor}`), page after page; `undefined` when
   * this Herald has no such route (one older than the CLI).
   */
  listAll<T = unknown>(path: string): Promise<T[] | undefined>;
}

/** Long enough for a save of the largest workflow over a slow link; a hung server does not hang the CLI. */
const REQUEST_TIMEOUT_MS = 60_000;
const PAGE_SIZE = 100;

/** Checks `--url` and `--key` and returns a client for them. */
export function createApiClient(options: { url?: string | undefined; key?: string | undefined }): ApiClient {
  const key = options.key?.trim();
  if (!key) throw new UsageError('an API key is needed: --key <api key> or HERALD_API_KEY');
  let base: URL;
  try {
    base = new URL(options.url ?? '');
  } catch {
    throw new UsageError(`--url (or HERALD_URL) must be Herald's URL, e.g. http://127.0.0.1:8750; got ${options.url}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new UsageError(`--url (or HERALD_URL) must be an http:// or https:// URL; got ${options.url}`);
  }
  const url = base.href.replace(/\/+$/, '');

  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') {
        throw new CommandFailure([`${method} ${url}${path} had no answer within ${REQUEST_TIMEOUT_MS / 1000} s`]);
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CommandFailure([`cannot reach Herald at ${url} (--url or HERALD_URL): ${reason}`]);
    }
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (type.includes('json') && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    } else if (text && response.ok) {
      throw new CommandFailure([
        `${method} ${url}${path} answered ${response.status} with ${type || 'no content type'}, not JSON: is --url Herald's URL?`,
      ]);
    }
    if (response.status === 401) {
      throw new CommandFailure([`Herald at ${url} refused the API key (--key or HERALD_API_KEY)`]);
    }
    if (!response.ok) throw new ApiError(`${method} ${path}`, response.status, parsed);
    return { status: response.status, body: parsed };
  }

  return {
    url,
    async request<T>(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) {
      return (await send(method, path, body)).body as T;
    },
    async listAll<T>(path: string) {
      const items: T[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `?limit=${PAGE_SIZE}` + (cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`);
        let page: { items: T[]; nextCursor: string | null };
        try {
          page = (await send('GET', path + query)).body as typeof page;
        } catch (error) {
          if (error instanceof ApiError && error.code === 'ROUTE_NOT_FOUND') return undefined;
          throw error;
        }
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
      return items;
    },
  };
}
