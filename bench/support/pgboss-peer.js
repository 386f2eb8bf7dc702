import { fileURLToPath } from 'node:url';
import PgBoss from 'pg-boss';
import { bossOptions, QUEUE } from '../peer/pgboss-config.js';
import { startNodeChild } from './child-process.js';

const API_SCRIPT = fileURLToPath(new URL('../peer/pgboss-api.js', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('../peer/pgboss-worker.js', import.meta.url));

/**
 * Creates pg-boss's tables in the run's schema and the queue, from the bench process, before any
 * peer process starts: the same "schema is ready" starting line as Herald's migrations.
 */
export async function preparePeerSchema(schema) {
  const boss = new PgBoss({ ...bossOptions({ url: schema.plainUrl, schema: schema.name }), supervise: false });
  boss.on('error', (error) => console.error(`pg-boss (setup): ${error.message}`));
  await boss.start();
  await boss.createQueue(QUEUE);
  await boss.stop({ graceful: false });
}

const peerEnv = (schema, extra) => ({
  ...process.env,
  PEER_DATABASE_URL: schema.plainUrl,
  PEER_SCHEMA: schema.name,
  ...extra,
});

/** The peer's HTTP endpoint (bench/peer/pgboss-api.js) on 127.0.0.1. */
export async function startPeerApi({ schema, apiKey, cpuProfileDir }) {
  const child = await startNodeChild({
    name: 'pg-boss api',
    script: API_SCRIPT,
    nodeFlags: cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
    env: peerEnv(schema, { PEER_API_KEY: apiKey }),
    ready: /listening on (http:\/\/\S+)/,
    ipc: true,
  });
  return { ...child, url: child.ready, apiKey };
}

/** A peer delivery process (bench/peer/pgboss-worker.js) sending into `smtpUrl`. */
export async function startPeerWorker({ schema, smtpUrl, loops, batchSize, cpuProfileDir }) {
  return startNodeChild({
    name: 'pg-boss worker',
    script: WORKER_SCRIPT,
    nodeFlags: cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
    env: peerEnv(schema, {
      PEER_SMTP_URL: smtpUrl,
      ...(loops && { PEER_LOOPS: String(loops) }),
      ...(batchSize && { PEER_BATCH: String(batchSize) }),
    }),
    ready: /^(ready.*)$/m,
    ipc: true,
  });
}
