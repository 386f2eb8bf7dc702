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
import { startHerald } from './support/herald-process.js';
import { createApiClient, expectStatus } from './support/http-client.js';
import { cpuMeter, percentile, round, waitForIdleMachine, wallClockMs } from './support/measure.js';
import { startSinkProcess, waitForDistinct } from './support/smtp-sink.js';
import { EMAIL_FROM, renderContext, TEMPLATE_BYTES, triggerBody, WORKFLOW, WORKFLOW_KEY } from './support/workload.js';

export const E2E_TARGET = 0.7;
/** Herald's default --smtp-pool; the ratio is taken against the ceiling with the same pool. */
const HERALD_SMTP_POOL = 5;
const CEILING_IN_FLIGHT = 32;

/** Long enough for a slow machine, short enough that a stuck run ends: ≥ 50 messages/s or bust. */
const deadlineFor = (messages) => Math.max(60_000, messages * 20);

async function idleOrWarn(log) {
  const machine = await waitForIdleMachine();
  if (!machine.idle)
    log(`  warning: the machine is busy (${machine.busyCores} cores) with other work; figures will be low`);
  return machine;
}

const subscriberId = (i) => `e2e-${String(i).padStart(8, '0')}`;

async function runHerald({ messages, concurrency, sink, cpuProfileDir, log }) {
  const herald = await startHerald({ env: { HERALD_SMTP_URL: sink.url }, cpuProfileDir });
  const api = createApiClient(herald.url, herald.apiKey, { maxSockets: concurrency });
  try {
    await expectStatus(api.request('PUT', `/v1/workflows/${WORKFLOW_KEY}`, WORKFLOW), 200, 'creating the workflow');
    await sink.reset();
    const machine = await idleOrWarn(log);

    const acceptedAt = new Map(); // message id → 202 received, wall-clock ms
    const statusCodes = {};
    let next = 0;
    const meter = cpuMeter({ herald: herald.pid, sink: sink.pid });
    const sendStart = wallClockMs();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < messages) {
          const response = await api.request(
            'POST',
            `/v1/workflows/${WORKFLOW_KEY}/trigger`,
            triggerBody(subscriberId(next++)),
          );
          const at = wallClockMs();
          statusCodes[response.status] = (statusCodes[response.status] ?? 0) + 1;
          if (response.status === 202) acceptedAt.set(response.body.messageIds[0], at);
        }
      }),
    ).catch((error) => {
      if (herald.isRunning()) throw error;
      throw new Error(`herald exited while accepting triggers (${error.message}):\n${herald.output()}`);
    });
    const acceptEnd = wallClockMs();
    log(
      `  accepted ${acceptedAt.size}/${messages} in ${round((acceptEnd - sendStart) / 1000, 1)} s, waiting for delivery`,
    );
    if (acceptedAt.size === 0) throw new Error(`no trigger was accepted: ${JSON.stringify(statusCodes)}`);

    const stats = await waitForDistinct(sink, acceptedAt.size, {
      deadlineMs: deadlineFor(messages),
      check: () => {
        if (!herald.isRunning()) throw new Error(`herald exited during the run:\n${herald.output()}`);
      },
    });
    const { cores, cpuSeconds } = meter();
    const arrivals = await sink.arrivals();

    const latencies = [];
    let firstAccept = Infinity;
    let lastDelivery = -Infinity;
    for (const [id, accepted] of acceptedAt) {
      const arrived = arrivals[id];
      if (arrived === undefined) continue;
      latencies.push(arrived - accepted);
      firstAccept = Math.min(firstAccept, accepted);
      lastDelivery = Math.max(lastDelivery, arrived);
    }
    latencies.sort((a, b) => a - b);
    const spanSec = (lastDelivery - firstAccept) / 1000;
    return {
      triggers: messages,
      accepted: acceptedAt.size,
      statusCodes,
      delivered: latencies.length,
      duplicates: stats.duplicates,
      unexpected: stats.distinct - latencies.length,
      acceptPerSec: round(acceptedAt.size / ((acceptEnd - sendStart) / 1000)),
      seconds: round(spanSec, 2),
      deliveredPerSec: round(latencies.length / spanSec),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies[latencies.length - 1]),
      },
      cores,
      // CPU per message is steadier than msg/s when other work shares the machine.
      heraldCpuMsPerMessage: round((cpuSeconds.herald * 1000) / latencies.length, 2),
      machineBeforeRun: machine,
    };
  } finally {
    api.close();
    await herald.stop();
  }
}

async function runCeiling({ messages, pool, sink, email, log }) {
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
  // Rendered once with Herald's own renderer, so the ceiling sends exactly what Herald sends.
  const [step] = compileSteps(WORKFLOW.steps);
  const rendered = renderEmail(step, renderContext(subscriberId(0)));
  const email = {
    from: EMAIL_FROM,
    to: `${subscriberId(0)}@example.com`,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
  };

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
