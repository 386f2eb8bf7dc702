/**
 * The peer's ingest endpoint: the minimal HTTP service a team would put in front of pg-boss.
 * Fastify (as Herald), its default JSON parser, a bearer-token check, a JSON schema for the same
 * single-recipient body Herald validates, then one `boss.send()` — one INSERT, committed before
 * the 202 — per request. No subscriber table, no trigger or message rows: just the job.
 *
 *   PEER_DATABASE_URL=postgres://… PEER_SCHEMA=name PEER_API_KEY=key node bench/peer/pgboss-api.js
 *
 * Prints `listening on http://…` when ready; exits on SIGTERM or when the bench goes away.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import PgBoss from 'pg-boss';
import { bossOptions, QUEUE, required } from './pgboss-config.js';

const Identifier = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f]+$' };

/** Herald's trigger body, for one recipient: the shape the bench sends. */
const TRIGGER_BODY = {
  type: 'object',
  required: ['to'],
  additionalProperties: false,
  properties: {
    to: {
      type: 'object',
      required: ['subscriberId', 'email'],
      additionalProperties: false,
      properties: {
        subscriberId: Identifier,
        email: { type: 'string', format: 'email', maxLength: 254 },
        name: { type: 'string', maxLength: 200 },
      },
    },
    data: { type: 'object' },
  },
};

const WORKFLOW_PARAMS = {
  type: 'object',
  properties: { key: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' } },
};

const digest = (value) => createHash('sha256').update(value).digest();

async function main() {
  const schema = required('PEER_SCHEMA');
  const expected = digest(`Bearer ${required('PEER_API_KEY')}`);
  const boss = new PgBoss(bossOptions({ url: required('PEER_DATABASE_URL'), schema }));
  boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.addHook('onRequest', async (request, reply) => {
    // Digests have equal length, so the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return reply.code(401).send({ error: 'unauthorized' });
    }
  });
  app.post(
    '/v1/workflows/:key/trigger',
    { schema: { params: WORKFLOW_PARAMS, body: TRIGGER_BODY } },
    async (request, reply) => {
      const { to, data } = request.body;
      const id = await boss.send(QUEUE, { workflowKey: request.params.key, to, data: data ?? {} });
      return reply.code(202).send({ id });
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(`listening on http://127.0.0.1:${app.server.address().port}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    app.server.keepAliveTimeout = 1;
    await app.close();
    await boss.stop({ graceful: true, wait: true, timeout: 2_000 });
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

main().catch((error) => {
  console.error(`pgboss-api: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
