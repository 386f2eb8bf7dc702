/**
 * Webhooks end to end: trigger accepted (202) → signed POST received by a local HTTP sink, against
 * the ceiling of undici alone POSTing the same kind of signed body into the same sink.
 *
 * The sink is bench/webhook-sink-process.js in its own process; it stamps each `webhook-id` (the
 * message id) when its request has fully arrived, and checks a sample of the signatures. Herald
 * runs as `herald serve --concurrency 50 --destination-concurrency 50` (one receiver may hold every
 * send, as in the ceiling; by default it may hold half) on a fresh SQLite data dir, with the sink's address
 * opened by --allow-private-networks, one webhook integration and a workflow with one webhook
 * step and the default body. The ceiling runs in this process: an undici Pool with 50 requests in
 * flight, each body built and signed (Standard Webhooks, HMAC-SHA256) per request, as Herald does.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { track } from './support/cleanup.js';
import { startHerald } from './support/herald-process.js';
import { createApiClient, expectStatus } from './support/http-client.js';
import { cpuMeter, idleOrWarn, round, wallClockMs } from './support/measure.js';
import { startSinkProcess, waitForDistinct } from './support/smtp-sink.js';
import { deadlineFor, deliveryFigures } from './support/trigger-run.js';
import { triggerBody } from './support/workload.js';

export const WEBHOOK_TARGET = 0.6;
/** Herald's --concurrency (sends in flight) and the ceiling's requests in flight. */
const CONCURRENCY = 50;
/**
 * Recipients per trigger. The bench is about the webhook channel, not ingest (the ingest bench
 * measures that): batching recipients keeps the accept path to a small share of Herald's CPU.
 */
const RECIPIENTS_PER_TRIGGER = 100;
/** Triggers in flight while accepting: a handful is enough to keep the group commit busy. */
const TRIGGER_CONCURRENCY = 4;
const WORKFLOW_KEY = 'bench-webhook';
const SINK_SCRIPT = fileURLToPath(new URL('./webhook-sink-process.js', import.meta.url));
const HOOK_PATH = '/hooks/orders';
/** The same data as the other benches' triggers (~400 B), so bodies come to ~550 B. */
const DATA = JSON.parse(triggerBody('wh-00000000')).data;

const subscriberId = (i) => `wh-${String(i).padStart(8, '0')}`;

/** Sends `messages` recipients as triggers of RECIPIENTS_PER_TRIGGER; every message id gets its trigger's 202 time. */
async function sendTriggers({ api, messages, onError }) {
  const acceptedAt = new Map();
  const statusCodes = {};
  let next = 0;
  const startedAt = wallClockMs();
  await Promise.all(
    Array.from({ length: TRIGGER_CONCURRENCY }, async () => {
      while (next < messages) {
        const first = next;
        next = Math.min(messages, next + RECIPIENTS_PER_TRIGGER);
        const to = Array.from({ length: next - first }, (_, i) => ({ subscriberId: subscriberId(first + i) }));
        const response = await api.request('POST', `/v1/workflows/${WORKFLOW_KEY}/trigger`, { to, data: DATA });
        const at = wallClockMs();
        statusCodes[response.status] = (statusCodes[response.status] ?? 0) + 1;
        if (response.status === 202) for (const id of response.body.messageIds) acceptedAt.set(id, at);
      }
    }),
  ).catch((error) => {
    throw onError(error);
  });
  return { acceptedAt, statusCodes, startedAt, endedAt: wallClockMs() };
}

/** Waits until Herald's own metrics count `count` webhook messages sent: the delivery log caught up. */
async function waitForRecorded(api, count, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const { text } = await api.request('GET', '/metrics');
    const sent = Number(/^herald_messages_total\{channel="webhook",status="sent"\} (\d+)/m.exec(text)?.[1] ?? 0);
    if (sent >= count) return { sent, at: wallClockMs() };
    if (Date.now() > deadline) throw new Error(`Herald recorded ${sent}/${count} webhooks as sent`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function checkSignatures(stats, who) {
  if (stats.verified === 0 || stats.badSignatures > 0) {
    throw new Error(`${who}: ${stats.badSignatures} of ${stats.verified} sampled signatures did not verify`);
  }
}

async function runHerald({ messages, sink, cpuProfileDir, log }) {
  const herald = await startHerald({
    args: [
      '--concurrency',
      String(CONCURRENCY),
      // Every send goes to one receiver: let it hold all of them, as the ceiling's pool does.
      '--destination-concurrency',
      String(CONCURRENCY),
      '--allow-private-networks',
      '127.0.0.1/32',
    ],
    env: { HERALD_SECRET_KEY: randomBytes(24).toString('hex') },
    cpuProfileDir,
  });
  const api = createApiClient(herald.url, herald.apiKey, { maxSockets: TRIGGER_CONCURRENCY + 1 });
  try {
    const integration = await expectStatus(
      api.request('PUT', '/v1/integrations/bench-hooks', { channel: 'webhook', provider: 'webhook' }),
      201,
      'creating the webhook integration',
    );
    const workflow = { name: 'Bench: webhook', steps: [{ type: 'webhook', url: `${sink.origin}${HOOK_PATH}` }] };
    await expectStatus(api.request('PUT', `/v1/workflows/${WORKFLOW_KEY}`, workflow), 200, 'creating the workflow');
    await sink.reset({ secret: integration.secret });
    const machine = await idleOrWarn(log);

    const meter = cpuMeter({ herald: herald.pid, sink: sink.pid });
    const sent = await sendTriggers({
      api,
      messages,
      onError: (error) =>
        herald.isRunning()
          ? error
          : new Error(`herald exited while accepting triggers (${error.message}):\n${herald.output()}`),
    });
    log(
      `  accepted ${sent.acceptedAt.size}/${messages} messages in ${round((sent.endedAt - sent.startedAt) / 1000, 1)} s, waiting for delivery`,
    );
    if (sent.acceptedAt.size === 0) throw new Error(`no trigger was accepted: ${JSON.stringify(sent.statusCodes)}`);

    const stats = await waitForDistinct(sink, sent.acceptedAt.size, {
      deadlineMs: deadlineFor(messages),
      check: () => {
        if (!herald.isRunning()) throw new Error(`herald exited during the run:\n${herald.output()}`);
      },
    });
    const { cores, cpuSeconds } = meter();
    const recorded = await waitForRecorded(api, sent.acceptedAt.size, deadlineFor(messages));
    checkSignatures(stats, 'herald');
    const figures = deliveryFigures({ messages, sent, stats, arrivals: await sink.arrivals() });
    return {
      ...figures,
      cores,
      heraldCpuMsPerMessage: round((cpuSeconds.herald * 1000) / figures.delivered, 3),
      // The log lags the sink by the completion batching: when the last `sent` was committed.
      recordedSentAfterLastArrivalMs: round(recorded.at - stats.lastAt),
      signaturesChecked: stats.verified,
      machineBeforeRun: machine,
    };
  } finally {
    api.close();
    await herald.stop();
  }
}

/** A Standard Webhooks signature header, as Herald's sign-webhook.ts computes it. */
function sign(key, id, timestamp, body) {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * undici alone in this process: a Pool of CONCURRENCY connections, CONCURRENCY requests in flight,
 * `messages` POSTs into `sink`. Each request builds Herald's default body for its own message id
 * and signs it, and reads the answer, as Herald's HTTP client does.
 */
export async function runCeiling({ messages, sink, log }) {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const pool = new Pool(sink.origin, { connections: CONCURRENCY });
  const stop = track('undici pool', { stop: () => pool.destroy(), kill: () => void pool.destroy() });
  try {
    await sink.reset({ secret });
    const machine = await idleOrWarn(log);
    // Ids as long as Herald's (prefix, 10 time and 16 random characters).
    const triggerId = `trg_${'0'.repeat(26)}`;
    let next = 0;
    let failed = 0;
    const meter = cpuMeter({ sink: sink.pid });
    const startedAt = wallClockMs();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < messages) {
          const i = next++;
          const messageId = `msg_ceiling${String(i).padStart(19, '0')}`;
          const body = JSON.stringify({
            workflow: WORKFLOW_KEY,
            triggerId,
            messageId,
            subscriberId: subscriberId(i),
            data: DATA,
          });
          const timestamp = Math.floor(Date.now() / 1000).toString();
          const response = await pool.request({
            path: HOOK_PATH,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'user-agent': 'Herald-Webhooks/1',
              'webhook-id': messageId,
              'webhook-timestamp': timestamp,
              'webhook-signature': sign(key, messageId, timestamp, body),
            },
            body,
          });
          await response.body.text();
          if (response.statusCode !== 200) failed++;
        }
      }),
    );
    if (failed > 0) throw new Error(`undici: ${failed} of ${messages} POSTs were not answered 200`);
    const stats = await waitForDistinct(sink, messages, { deadlineMs: deadlineFor(messages) });
    const { cores, cpuSeconds } = meter();
    checkSignatures(stats, 'ceiling');
    const seconds = (stats.lastAt - startedAt) / 1000;
    return {
      inFlight: CONCURRENCY,
      messages,
      seconds: round(seconds, 2),
      perSec: round(messages / seconds),
      duplicates: stats.duplicates,
      cores,
      senderCpuMsPerMessage: round((cpuSeconds.driver * 1000) / messages, 3),
      signaturesChecked: stats.verified,
      machineBeforeRun: machine,
    };
  } finally {
    await stop();
  }
}

export async function runWebhook({ messages = 20_000, cpuProfileDir, log = console.log }) {
  const started = await startSinkProcess({ script: SINK_SCRIPT, name: 'webhook sink' });
  const sink = { ...started, origin: `http://127.0.0.1:${started.port}` };
  try {
    log(
      `webhook: herald --concurrency ${CONCURRENCY}, ${messages} messages (${RECIPIENTS_PER_TRIGGER} recipients a trigger) → HTTP sink process`,
    );
    const herald = await runHerald({ messages, sink, cpuProfileDir, log });
    log(
      `  herald   ${herald.deliveredPerSec} delivered/s, p50 ${herald.latencyMs.p50} ms, p99 ${herald.latencyMs.p99} ms`,
    );
    log(`webhook: ceiling, undici Pool, ${CONCURRENCY} in flight, ${messages} signed POSTs`);
    const ceiling = await runCeiling({ messages, sink, log });
    log(`  ceiling  ${ceiling.perSec} POSTs/s`);
    return {
      settings: {
        messages,
        concurrency: CONCURRENCY,
        recipientsPerTrigger: RECIPIENTS_PER_TRIGGER,
        triggerConcurrency: TRIGGER_CONCURRENCY,
        bodyBytes: Buffer.byteLength(
          JSON.stringify({
            workflow: WORKFLOW_KEY,
            triggerId: 'x'.repeat(30),
            messageId: 'x'.repeat(30),
            subscriberId: subscriberId(0),
            data: DATA,
          }),
        ),
      },
      herald,
      ceiling,
      ratio: round(herald.deliveredPerSec / ceiling.perSec, 3),
      // The same comparison in CPU per message: less sensitive to other load on the machine.
      cpuRatio: round(ceiling.senderCpuMsPerMessage / herald.heraldCpuMsPerMessage, 3),
      target: WEBHOOK_TARGET,
      clean: herald.delivered === messages && herald.duplicates === 0,
    };
  } finally {
    await sink.stop();
  }
}
