/**
 * The peer's delivery process: pg-boss `work()` handlers that render the email and send it with
 * nodemailer into the SMTP sink. Each job is one email to one recipient; its X-Herald-Message-Id
 * is the job id, so the sink counts arrivals and duplicates exactly as it does for Herald.
 *
 *   PEER_DATABASE_URL=… PEER_SCHEMA=… PEER_SMTP_URL=smtp://… [PEER_LOOPS=1 PEER_BATCH=32] node bench/peer/pgboss-worker.js
 *
 * Concurrency as Herald's defaults: an SMTP pool of 5 and at most 32 sends in flight per process,
 * as PEER_LOOPS work() loops × PEER_BATCH jobs per fetch (pg-boss 10 has no teamSize any more;
 * calling work() n times is what 11's localConcurrency: n does). Each loop fetches a batch, sends
 * it, completes it in one statement, and then, by pg-boss's design, waits out the rest of its
 * polling interval (0.5 s at least) before fetching again. That would cap a process at 32 jobs
 * per 0.5 s; a team would not ship that, so after a full batch the handler wakes its own loop
 * (boss.notifyWorker, public API) and the next fetch follows at once. When a fetch comes back
 * short, the queue is drained and the loop goes back to polling.
 *
 * Prints `ready` once its loops run; exits on SIGTERM or when the bench goes away.
 */
import { Liquid } from 'liquidjs';
import nodemailer from 'nodemailer';
import PgBoss from 'pg-boss';
import { htmlToText } from '../../dist/core/html-to-text.js';
import { EMAIL_FROM, renderContextFor, WORKFLOW } from '../support/workload.js';
import { bossOptions, QUEUE, required } from './pgboss-config.js';

/** Herald's --smtp-pool default. */
const SMTP_POOL = 5;
/** pg-boss's smallest allowed polling interval. */
const POLLING_INTERVAL_SECONDS = 0.5;

const count = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
};

/**
 * The same template, parsed once and rendered per job with the same engine as Herald (liquidjs,
 * HTML-escaped output) and the same text part (Herald's htmlToText). Without Herald's sandbox
 * limits: a team's templates are its own code, and the 100 ms render limit fails messages when
 * the machine is saturated (a render preempted for that long), which pg-boss would then retry.
 */
function emailRenderer(step) {
  const plain = new Liquid();
  const escaped = new Liquid({ outputEscape: 'escape' });
  const subject = plain.parse(step.subject);
  const html = escaped.parse(step.html);
  return (context) => {
    const body = escaped.renderSync(html, context);
    return { subject: plain.renderSync(subject, context).trim(), html: body, text: htmlToText(body) };
  };
}

async function main() {
  const loops = count('PEER_LOOPS', 1);
  const batchSize = count('PEER_BATCH', 32);
  const smtp = new URL(required('PEER_SMTP_URL'));
  const render = emailRenderer(WORKFLOW.steps[0]);
  const transport = nodemailer.createTransport({
    host: smtp.hostname,
    port: Number(smtp.port),
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: SMTP_POOL,
    maxMessages: Infinity,
  });
  const boss = new PgBoss(bossOptions({ url: required('PEER_DATABASE_URL'), schema: required('PEER_SCHEMA') }));
  boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();

  // async: a render that throws fails this job's promise, not the handler before the batch is sent.
  const send = async (job) => {
    const rendered = render(renderContextFor(job.data));
    return transport.sendMail({
      from: EMAIL_FROM,
      to: job.data.to.email,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers: { 'X-Herald-Message-Id': job.id },
    });
  };

  for (let i = 0; i < loops; i++) {
    let workerId;
    workerId = await boss.work(QUEUE, { batchSize, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS }, async (jobs) => {
      const outcomes = await Promise.allSettled(jobs.map(send));
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) {
        // Throwing fails the whole batch, and pg-boss retries it: the sink then counts duplicates.
        console.error(`batch failed: ${failed.reason instanceof Error ? failed.reason.message : failed.reason}`);
        throw failed.reason;
      }
      if (jobs.length === batchSize && workerId !== undefined) boss.notifyWorker(workerId);
    });
  }
  console.log(`ready: ${loops} work() loops × batchSize ${batchSize}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await boss.stop({ graceful: true, wait: true, timeout: 2_000 });
    transport.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

main().catch((error) => {
  console.error(`pgboss-worker: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
