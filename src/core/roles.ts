// Who may do what: the roles of dashboard users, and the actors the API and the audit log know.

/**
 * Dashboard users: people who sign in to /dashboard. Instance-wide (not per environment), each
 * with one role:
 * - owner: everything, and the only role that manages users (/v1/users);
 * - admin: everything else the API offers;
 * - viewer: reads only (GET and HEAD), without secrets or message content (http/redaction.ts).
 * An instance always keeps at least one enabled owner.
 */
export const ROLES = ['owner', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request or a change: a signed-in person, an API key, or `herald` on the server's command line. */
export type Actor =
  { type: 'user'; id: string; email: string; role: Role } | { type: 'api_key'; id: string } | { type: 'cli' };

/** What each role may call on /v1, by method and route pattern; why not when it may not. */
export function refusal(actor: Actor, method: string, route: string): string | undefined {
  const manageUsers = route === '/v1/users' || route.startsWith('/v1/users/');
  if (actor.type === 'api_key') {
    return manageUsers
      ? 'Dashboard users are managed by owners signed in to the dashboard, or with `herald users` on the server; API keys belong to one environment'
      : undefined;
  }
  if (actor.type === 'cli') return undefined;
  if (actor.role === 'owner') return undefined;
  if (manageUsers) return `Only owners manage users; you are signed in as ${actor.role}`;
  if (actor.role === 'admin') return undefined;
  if (method === 'GET' || method === 'HEAD') return undefined;
  return `Viewers may only read (GET); ${method} ${route} changes something`;
}
