import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { DAY_MS, HOUR_MS, listIntegrations, messageStats, queueStats } from '../overview-api.js';
import { BarChart, CHART_STATUSES } from './overview-chart.js';

/** How often the page refreshes while the tab is visible. */
const REFRESH_MS = 10_000;
/** A queue whose oldest due job waited longer than this needs attention. */
const QUEUE_LATE_MS = 60_000;

const RANGES = {
  day: { label: 'Last 24 hours', bucket: 'hour', size: HOUR_MS, count: 24 },
  week: { label: 'Last 7 days', bucket: 'day', size: DAY_MS, count: 7 },
};

/**
 * The overview: outcomes per channel over the last 24 hours (from the message rollup, never a
 * scan of the log), a chart of the last 24 hours or 7 days, the queue, the integrations with their
 * circuit breakers, and what needs attention. Refreshes every 10 s while the tab is visible.
 */
export function OverviewPage() {
  const [range, setRange] = useState('day');
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let live = true;
    const load = async () => {
      if (document.visibilityState !== 'visible') return;
      try {
        const next = await fetchOverview(range);
        if (!live) return;
        setData(next);
        setError(null);
      } catch (caught) {
        if (live) setError(caught.message);
      }
    };
    void load();
    const timer = setInterval(load, REFRESH_MS);
    document.addEventListener('visibilitychange', load);
    return () => {
      live = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', load);
    };
  }, [range]);

  return html`
    <h1 tabindex="-1">Overview</h1>
    ${
      error
        ? html`<p class="alert" role="alert">
            Could not load the overview: ${error}${data ? ' (showing the last figures)' : ''}
          </p>`
        : null
    }
    ${
      data === null
        ? error
          ? null
          : html`<p aria-busy="true">Loading…</p>`
        : html`
            <${Attention} data=${data} />
            <${Totals} totals=${data.totals} />
            <section class="overview-section" aria-labelledby="overview-chart">
              <div class="overview-heading">
                <h2 id="overview-chart">Messages over time</h2>
                <div class="range" role="group" aria-label="Range">
                  ${Object.entries(RANGES).map(
                    ([key, r]) =>
                      html`<button
                        type="button"
                        aria-pressed=${range === key ? 'true' : 'false'}
                        onClick=${() => setRange(key)}
                      >
                        ${r.label}
                      </button>`,
                  )}
                </div>
              </div>
              ${
                data.range === range
                  ? html`<${BarChart}
                      buckets=${data.buckets}
                      label=${RANGES[range].bucket === 'hour' ? hourLabel : dayLabel}
                      caption=${`Messages sent, failed and skipped, ${RANGES[range].label.toLowerCase()}, all channels, by ${RANGES[range].bucket}${RANGES[range].bucket === 'day' ? ' (UTC)' : ''}`}
                    />`
                  : html`<p aria-busy="true">Loading…</p>`
              }
            </section>
            <${Queue} queue=${data.queue} />
            <${Integrations} integrations=${data.integrations} />
            <p class="hint">Updated ${new Date(data.at).toLocaleTimeString()}; refreshes every 10 seconds.</p>
          `
    }
  `;
}

async function fetchOverview(range) {
  const now = Date.now();
  const r = RANGES[range];
  const currentHour = now - (now % HOUR_MS);
  const daySince = currentHour - 23 * HOUR_MS;
  const chartSince = r.bucket === 'hour' ? daySince : now - (now % DAY_MS) - (r.count - 1) * DAY_MS;
  const [last24h, chart, queue, integrations] = await Promise.all([
    messageStats(daySince, now + 1, 'hour'),
    r.bucket === 'hour' ? null : messageStats(chartSince, now + 1, r.bucket),
    queueStats(),
    listIntegrations(),
  ]);
  return {
    at: now,
    range,
    totals: totalsOf(last24h.series),
    buckets: bucketsOf((chart ?? last24h).series, chartSince, r.size, r.count),
    queue,
    integrations,
  };
}

/** Per channel: sent, failed, skipped (and canceled) over the series' range. */
function totalsOf(series) {
  const byChannel = new Map();
  for (const s of series) {
    const row = byChannel.get(s.channel) ?? { channel: s.channel, sent: 0, failed: 0, skipped: 0, canceled: 0 };
    row[s.status] += s.total;
    byChannel.set(s.channel, row);
  }
  return [...byChannel.values()].sort((a, b) => (a.channel < b.channel ? -1 : 1));
}

/** One bucket per hour or day of the range, oldest first, all channels summed. */
function bucketsOf(series, since, size, count) {
  const buckets = Array.from({ length: count }, (_, i) => ({ at: since + i * size, sent: 0, failed: 0, skipped: 0 }));
  for (const s of series) {
    if (!CHART_STATUSES.some(([status]) => status === s.status)) continue;
    for (const point of s.points) {
      const bucket = buckets[Math.floor((point.at - since) / size)];
      if (bucket) bucket[s.status] += point.count;
    }
  }
  return buckets;
}

const hourLabel = (at) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const dayLabel = (at) => new Date(at).toLocaleDateString([], { timeZone: 'UTC', month: 'short', day: 'numeric' });

function Attention({ data }) {
  const failed = data.totals.reduce((sum, row) => sum + row.failed, 0);
  const open = data.integrations.filter((i) => i.circuit && i.circuit.state !== 'closed');
  const late = data.queue.oldestDueAgeMs > QUEUE_LATE_MS;
  const items = [];
  if (failed > 0) {
    items.push(
      html`<li>
        <a href="/dashboard/messages?status=failed">${count(failed, 'message')} failed in the last 24 hours</a>
      </li>`,
    );
  }
  for (const i of open) {
    items.push(
      html`<li>
        <a href="/dashboard/integrations">Integration <strong>${i.id}</strong> (${i.channel}, ${i.provider})</a>:
        circuit breaker ${i.circuit.state}${i.circuit.lastFailure ? html` — ${i.circuit.lastFailure}` : null}
      </li>`,
    );
  }
  if (late) {
    items.push(
      html`<li>
        The queue is behind: its oldest due job has waited ${duration(data.queue.oldestDueAgeMs)}
        (${count(data.queue.depth, 'job')} in the queue)
      </li>`,
    );
  }
  return html`
    <section class="overview-section attention" aria-labelledby="overview-attention">
      <h2 id="overview-attention">Needs attention</h2>
      ${
        items.length === 0
          ? html`<p class="all-clear">Nothing needs attention.</p>`
          : html`<ul class="attention-list">
              ${items}
            </ul>`
      }
    </section>
  `;
}

function Totals({ totals }) {
  return html`
    <section class="overview-section" aria-labelledby="overview-totals">
      <h2 id="overview-totals">Last 24 hours, per channel</h2>
      ${
        totals.length === 0
          ? html`<p>No messages finished in the last 24 hours.</p>`
          : html`<div class="table-scroll">
              <table class="totals">
                <thead>
                  <tr>
                    <th scope="col">Channel</th>
                    <th scope="col">Sent</th>
                    <th scope="col">Failed</th>
                    <th scope="col">Skipped</th>
                  </tr>
                </thead>
                <tbody>
                  ${totals.map(
                    (row) =>
                      html`<tr key=${row.channel} data-channel=${row.channel}>
                        <th scope="row">${row.channel}</th>
                        <td data-status="sent">${row.sent}</td>
                        <td data-status="failed" class=${row.failed > 0 ? 'bad' : ''}>${row.failed}</td>
                        <td data-status="skipped">${row.skipped}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
  `;
}

function Queue({ queue }) {
  return html`
    <section class="overview-section" aria-labelledby="overview-queue">
      <h2 id="overview-queue">Queue</h2>
      <dl class="figures">
        <div>
          <dt>Jobs waiting</dt>
          <dd data-figure="depth">${queue.depth}</dd>
        </div>
        <div>
          <dt>Oldest due job</dt>
          <dd data-figure="oldest">${queue.oldestDueAgeMs === 0 ? 'none due' : duration(queue.oldestDueAgeMs)}</dd>
        </div>
      </dl>
    </section>
  `;
}

function Integrations({ integrations }) {
  return html`
    <section class="overview-section" aria-labelledby="overview-integrations">
      <h2 id="overview-integrations">Integrations</h2>
      ${
        integrations.length === 0
          ? html`<p>No integrations: email goes to the dev mailbox until one is added.</p>`
          : html`<div class="table-scroll">
              <table class="integrations">
                <thead>
                  <tr>
                    <th scope="col">Integration</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Circuit breaker</th>
                  </tr>
                </thead>
                <tbody>
                  ${integrations.map((i) => {
                    const state = i.circuit?.state ?? 'closed';
                    return html`<tr key=${i.id}>
                      <th scope="row">${i.id}${i.enabled ? null : html` <span class="hint">(disabled)</span>`}</th>
                      <td>${i.channel}</td>
                      <td>${i.provider}</td>
                      <td><span class=${`breaker breaker-${state}`}>${state}</span></td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`
      }
    </section>
  `;
}

const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function duration(ms) {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < HOUR_MS) return `${Math.round(ms / 60_000)} min`;
  if (ms < DAY_MS) return `${(ms / HOUR_MS).toFixed(1)} h`;
  return `${(ms / DAY_MS).toFixed(1)} days`;
}
