// Calls Herald from the dashboard: its session routes (/dashboard/api) and the same /v1 routes
// scripts use, authenticated by the herald_session cookie. Requests that change something carry
// the session's CSRF token; the browser adds Origin itself.

let csrfToken = null;

/** An answer that was not 2xx: the problem+json's detail and code, and Retry-After when given. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail ?? `Herald answered ${status}`);
    this.status = status;
    this.code = problem?.code ?? null;
    /** The whole problem+json, e.g. a 422's errors[] ({path, message}). */
    this.problem = problem ?? null;
    this.retryAfter = retryAfter === null ? null : Number(retryAfter);
  }
}

export async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get('retry-after'));
  return data;
}

/** Keeps what a session answer says for the requests that follow; returns the session. */
function signedIn(session) {
  csrfToken = session.csrfToken;
  return session;
}

/** The session's CSRF token, for a form that posts to Herald (it cannot set X-CSRF-Token). */
export const csrfTokenOf = () => csrfToken;

export const dashboardState = () => call('GET', '/dashboard/api/state');
export const currentSession = async () => signedIn(await call('GET', '/dashboard/api/session'));
export const logIn = async (email, password) =>
  signedIn(await call('POST', '/dashboard/api/login', { email, password }));
export const setUp = async (email, password) =>
  signedIn(await call('POST', '/dashboard/api/setup', { email, password }));

export async function logOut(everywhere) {
  await call('POST', everywhere ? '/dashboard/api/logout-everywhere' : '/dashboard/api/logout');
  csrfToken = null;
}
