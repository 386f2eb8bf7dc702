/**
 * End to end: trigger accepted (202) → delivered to an SMTP server, against the ceiling of
 * nodemailer alone sending the same rendered email into the same sink.
 *
 * The sink is bench/smtp-sink-process.js in its own process; it stamps each X-Herald-Message-Id
 * when the message has fully arrived. Herald runs as `herald serve` with its defaults (SMTP pool
 * of 5, 32 sends in flight). The ceiling runs in this process with the same pool sizes.
 */
import nodemailer from 'nodemailer';
import { compileSteps, renderEmail } from '../dist/core/templates.js';
import { track } from './support/cleanup.js';
import { createWorkflow, startHerald } from './support/herald-process.js';
import { createApiClient } from './support/http-client.js';
import { cpuMeter, idleOrWarn, round, wallClockMs } from './support/measure.js';
import { startSinkProcess, waitForDistinct } from './support/smtp-sink.js';
import { deadlineFor, deliveryFigures, sendTriggers, subscriberId } from './support/trigger-run.js';
import { EMAIL_FROM, renderContext, TEMPLATE_BYTES, triggerBody, WORKFLOW } from './support/workload.js';

export const E2E_TARGET = 0.7;
/** Herald's default --smtp-pool; the ratio is taken against the ceiling with the same pool. */
const HERALD_SMTP_POOL = 5;
const CEILING_IN_FLIGHT = 32;

async function runHerald({ messages, concurrency, sink, cpuProfileDir, log }) {
  const herald = await startHerald({ env: { HERALD_SMTP_URL: sink.url }, cpuProfileDir });
  const api = createApiClient(herald.url, herald.apiKey, { maxSockets: concurrency });
  try {
    await createWorkflow(herald);
    await sink.reset();
    const machine = await idleOrWarn(log);

    const meter = cpuMeter({ herald: herald.pid, sink: sink.pid });
    const sent = await sendTriggers({
      api,
      messages,
      concurrency,
      idOf: (body) => body.messageIds[0],
      onError: (error) =>
        herald.isRunning()
          ? error
          : new Error(`herald exited while accepting triggers (${error.message}):\n${herald.output()}`),
    });
    log(
      `  accepted ${sent.acceptedAt.size}/${messages} in ${round((sent.endedAt - sent.startedAt) / 1000, 1)} s, waiting for delivery`,
    );
    if (sent.acceptedAt.size === 0) throw new Error(`no trigger was accepted: ${JSON.stringify(sent.statusCodes)}`);

    const stats = await waitForDistinct(sink, sent.acceptedAt.size, {
      deadlineMs: deadlineFor(messages),
      check: () => {
        if (!herald.isRunning()) throw new Error(`herald exited during the run:\n${herald.output()}`);
      },
    });
    const { cores, cpuSeconds } = meter();
    const figures = deliveryFigures({ messages, sent, stats, arrivals: await sink.arrivals() });
    return {
      ...figures,
      cores,
      // CPU per message is steadier than msg/s when other work shares the machine.
      heraldCpuMsPerMessage: round((cpuSeconds.herald * 1000) / figures.delivered, 2),
      machineBeforeRun: machine,
    };
  } finally {
    api.close();
    await herald.stop();
  }
}

/** The ceiling's email: rendered once with Herald's own renderer, so it is exactly what Herald sends. */
export function ceilingEmail() {
  const [step] = compileSteps(WORKFLOW.steps);
  const rendered = renderEmail(step, renderContext(subscriberId(0)));
  const email = {
    from: EMAIL_FROM,
    to: `${subscriberId(0)}@example.com`,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
  };
  return { email, rendered };
}

/** nodemailer alone in this process: pooled, CEILING_IN_FLIGHT sends in flight, `messages` sends into `sink`. */
export async function runCeiling({ messages, pool, sink, email, log }) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: sink.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: pool,
    maxMessages: Infinity,
  });
  const stop = track(`nodemailer pool ${pool}`, { stop: async () => transport.close(), kill: () => transport.close() });
  try {
    await sink.reset();
    const machine = await idleOrWarn(log);
    let next = 0;
    let failed = 0;
    const meter = cpuMeter({ sink: sink.pid });
    const startedAt = wallClockMs();
    await Promise.all(
      Array.from({ length: CEILING_IN_FLIGHT }, async () => {
        while (next < messages) {
          const i = next++;
          try {
            await transport.sendMail({ ...email, headers: { 'X-Herald-Message-Id': `ceiling-${pool}-${i}` } });
          } catch {
            failed++;
          }
        }
      }),
    );
    if (failed > 0) throw new Error(`nodemailer: ${failed} of ${messages} sends failed`);
    const stats = await waitForDistinct(sink, messages, { deadlineMs: deadlineFor(messages) });
    const { cores, cpuSeconds } = meter();
    const seconds = (stats.lastAt - startedAt) / 1000;
    return {
      pool,
      inFlight: CEILING_IN_FLIGHT,
      messages,
      seconds: round(seconds, 2),
      perSec: round(messages / seconds),
      cores,
      senderCpuMsPerMessage: round((cpuSeconds.driver * 1000) / messages, 2),
      machineBeforeRun: machine,
    };
  } finally {
    await stop();
  }
}

export async function runE2e({
  messages = 20_000,
  concurrency = 50,
  pools = [HERALD_SMTP_POOL],
  extraPools = [],
  budgetEndsAt = Infinity,
  cpuProfileDir,
  log = console.log,
}) {
  const { email, rendered } = ceilingEmail();
  const sink = await startSinkProcess();
  try {
    log(`e2e: herald, ${messages} triggers at concurrency ${concurrency} → SMTP sink process`);
    const herald = await runHerald({ messages, concurrency, sink, cpuProfileDir, log });
    log(
      `  herald   ${herald.deliveredPerSec} delivered/s, p50 ${herald.latencyMs.p50} ms, p99 ${herald.latencyMs.p99} ms`,
    );
    const ceilings = [];
    const skipped = [];
    for (const pool of [...pools, ...extraPools]) {
      const last = ceilings.at(-1);
      if (!pools.includes(pool) && last && Date.now() + (messages / last.perSec + 10) * 1000 > budgetEndsAt) {
        log(`e2e: ceiling with pool ${pool} skipped: it would end the run past its time budget`);
        skipped.push(pool);
        continue;
      }
      log(`e2e: ceiling, nodemailer pool ${pool}, ${CEILING_IN_FLIGHT} in flight, ${messages} messages`);
      const ceiling = await runCeiling({ messages, pool, sink, email, log });
      log(`  ceiling  ${ceiling.perSec} msg/s`);
      ceilings.push(ceiling);
    }
    const sameCeiling = ceilings.find((c) => c.pool === HERALD_SMTP_POOL) ?? ceilings[0];
    return {
      settings: {
        messages,
        concurrency,
        heraldSmtpPool: HERALD_SMTP_POOL,
        templateBytes: TEMPLATE_BYTES,
        rendered: {
          subjectBytes: Buffer.byteLength(rendered.subject),
          htmlBytes: Buffer.byteLength(rendered.html ?? ''),
          textBytes: Buffer.byteLength(rendered.text),
        },
        bodyBytes: Buffer.byteLength(triggerBody(subscriberId(0))),
      },
      herald,
      ceilings,
      skippedPools: skipped,
      ratio: round(herald.deliveredPerSec / sameCeiling.perSec, 3),
      // The same comparison in CPU per message: less sensitive to other load on the machine.
      cpuRatio: round(sameCeiling.senderCpuMsPerMessage / herald.heraldCpuMsPerMessage, 3),
      ratioAgainstPool: sameCeiling.pool,
      target: E2E_TARGET,
      clean: herald.delivered === messages && herald.duplicates === 0,
    };
  } finally {
    await sink.stop();
  }
}
