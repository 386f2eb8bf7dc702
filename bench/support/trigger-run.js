import { percentile, round, wallClockMs } from './measure.js';
import { triggerBody, WORKFLOW_KEY } from './workload.js';

export const TRIGGER_PATH = `/v1/workflows/${WORKFLOW_KEY}/trigger`;

/** Long enough for a slow machine, short enough that a stuck run ends: ≥ 50 messages/s or bust. */
export const deadlineFor = (messages) => Math.max(60_000, messages * 20);

export const subscriberId = (i) => `e2e-${String(i).padStart(8, '0')}`;

/**
 * Sends `messages` single-recipient triggers at `concurrency` over the keep-alive `api` client,
 * recording when each 202 arrives under the message id `idOf(body)` reads from the answer.
 * `onError` turns a request error into a better one (the server crashed, say).
 */
export async function sendTriggers({ api, messages, concurrency, idOf, onError = (error) => error }) {
  const acceptedAt = new Map(); // message id → 202 received, wall-clock ms
  const statusCodes = {};
  let next = 0;
  const startedAt = wallClockMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages) {
        const response = await api.request('POST', TRIGGER_PATH, triggerBody(subscriberId(next++)));
        const at = wallClockMs();
        statusCodes[response.status] = (statusCodes[response.status] ?? 0) + 1;
        if (response.status === 202) acceptedAt.set(idOf(response.body), at);
      }
    }),
  ).catch((error) => {
    throw onError(error);
  });
  return { acceptedAt, statusCodes, startedAt, endedAt: wallClockMs() };
}

/**
 * The end-to-end figures of one run: delivered/s from the first 202 to the last arrival, and the
 * 202 → arrival latency of every message. `stats` is the sink's, `arrivals` its id → arrival map.
 */
export function deliveryFigures({ messages, sent, stats, arrivals }) {
  const latencies = [];
  let firstAccept = Infinity;
  let lastDelivery = -Infinity;
  for (const [id, accepted] of sent.acceptedAt) {
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
    accepted: sent.acceptedAt.size,
    statusCodes: sent.statusCodes,
    delivered: latencies.length,
    duplicates: stats.duplicates,
    unexpected: stats.distinct - latencies.length,
    acceptPerSec: round(sent.acceptedAt.size / ((sent.endedAt - sent.startedAt) / 1000)),
    seconds: round(spanSec, 2),
    deliveredPerSec: round(latencies.length / spanSec),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1]),
    },
  };
}
