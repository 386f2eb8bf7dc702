/**
 * What the peer's processes share: the queue name and how each opens pg-boss. The peer is the
 * pipeline a team would hand-roll instead of Herald: a Fastify endpoint that does one
 * `boss.send()` per request, and worker processes that run pg-boss `work()` handlers sending
 * with nodemailer. Settings the processes need come in PEER_* environment variables.
 */

export const QUEUE = 'email';

/** The same pool size as Herald's --db-pool default. */
export const POOL_SIZE = 10;

/**
 * pg-boss options for one process. `schema` keeps the run's tables apart; `application_name`
 * lets the bench find the server processes that worked for this run. Everything else is pg-boss's
 * default, which is what a team starts from: retries, a 15-minute expiry, maintenance on. Commits
 * use the server's synchronous_commit (on), as pg-boss does not change it.
 */
export function bossOptions({ url, schema }) {
  return { connectionString: url, schema, application_name: schema, max: POOL_SIZE };
}

/** Reads a PEER_* variable or fails with its name. */
export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
