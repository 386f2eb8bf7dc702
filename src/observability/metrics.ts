import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobStore } from '../core/store.js';

export interface Metrics {
  readonly registry: Registry;
  triggerAccepted(messages: number): void;
  messageStatus(channel: string, status: string, count?: number): void;
  deliveryDuration(channel: string, outcome: string, seconds: number): void;
  /** An integration's circuit breaker changed state in this process. */
  circuitState(integrationId: string, provider: string, state: 'closed' | 'open' | 'half-open'): void;
  /** Reads the number of inbox streams (SSE) open in this process at scrape time. */
  countInboxStreams(count: () => number): void;
  /** Reads the number of HTTP connections open in this process at scrape time. */
  countHttpConnections(count: () => number): void;
  /** A connection was closed to make room for a new one at --max-connections, or a new one refused. */
  connectionShed(reason: 'evicted' | 'refused'): void;
  /** Reads the render pool's state at scrape time. */
  watchRenderPool(read: () => RenderPoolGauges): void;
  /** A render ran past a limit: Liquid's time limit (`limit`), the hard one (`stopped`), or memory (`memory`). */
  renderOverrun(how: 'limit' | 'stopped' | 'memory'): void;
}

/** What the render pool reports at scrape time. */
export interface RenderPoolGauges {
  threads: number;
  queued: number;
  /** When the longest-running render under way started (epoch ms), or undefined when none runs. */
  oldestStartedAt: number | undefined;
}

/** Prometheus metrics; queue gauges are read from the store at scrape time. */
export function createMetrics(store: Pick<JobStore, 'queueStats'>, clock: { now(): number }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const triggers = new Counter({
    name: 'herald_triggers_total',
    help: 'Triggers accepted (committed and answered 202).',
    registers: [registry],
  });
  const messages = new Counter({
    name: 'herald_messages_total',
    help: 'Messages reaching a status, by channel and status.',
    labelNames: ['channel', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'herald_delivery_duration_seconds',
    help: 'Time of one delivery attempt, render and provider call.',
    labelNames: ['channel', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  let stats: Promise<{ depth: number; oldestDueAgeMs: number }> | undefined;
  // Both gauges come from one query per scrape.
  const readStats = () =>
    (stats ??= store.queueStats(clock.now()).finally(() => setImmediate(() => (stats = undefined))));
  new Gauge({
    name: 'herald_queue_depth',
    help: 'Jobs not yet finished (due, scheduled for retry, or in flight).',
    registers: [registry],
    async collect() {
      this.set((await readStats()).depth);
    },
  });
  new Gauge({
    name: 'herald_oldest_due_job_age_seconds',
    help: 'How long the oldest due job has waited to be claimed; 0 when none is waiting.',
    registers: [registry],
    async collect() {
      this.set((await readStats()).oldestDueAgeMs / 1000);
    },
  });
  const circuits = new Gauge({
    name: 'herald_integration_circuit_open',
    help: "1 while an integration's circuit breaker is open in this process (skipped), 0.5 half-open, 0 closed.",
    labelNames: ['integration', 'provider'],
    registers: [registry],
  });
  let inboxStreams = () => 0;
  new Gauge({
    name: 'herald_inbox_streams',
    help: 'Inbox event streams (SSE) open in this process.',
    registers: [registry],
    collect() {
      this.set(inboxStreams());
    },
  });
  let httpConnections = () => 0;
  new Gauge({
    name: 'herald_http_connections',
    help: 'HTTP connections open in this process (inbox streams included).',
    registers: [registry],
    collect() {
      this.set(httpConnections());
    },
  });
  const shed = new Counter({
    name: 'herald_http_connections_shed_total',
    help: 'Connections closed at --max-connections: evicted (idle or still sending its request, to make room) or refused (every connection busy).',
    labelNames: ['reason'],
    registers: [registry],
  });
  let renderPool: () => RenderPoolGauges = () => ({ threads: 0, queued: 0, oldestStartedAt: undefined });
  new Gauge({
    name: 'herald_render_threads',
    help: 'Template render threads running in this process.',
    registers: [registry],
    collect() {
      this.set(renderPool().threads);
    },
  });
  new Gauge({
    name: 'herald_render_queued',
    help: 'Renders waiting for a render thread.',
    registers: [registry],
    collect() {
      this.set(renderPool().queued);
    },
  });
  new Gauge({
    name: 'herald_render_oldest_start_time_seconds',
    help: 'Start time (Unix seconds) of the longest-running render under way; 0 when none runs.',
    registers: [registry],
    collect() {
      this.set((renderPool().oldestStartedAt ?? 0) / 1000);
    },
  });
  const overruns = new Counter({
    name: 'herald_render_overruns_total',
    help: "Renders that ran past a limit: Liquid's time limit (limit), the hard one, ending the thread (stopped), or memory: Liquid's memory limit or the thread out of memory (memory).",
    labelNames: ['how'],
    registers: [registry],
  });
  return {
    registry,
    countInboxStreams(count) {
      inboxStreams = count;
    },
    countHttpConnections(count) {
      httpConnections = count;
    },
    connectionShed(reason) {
      shed.inc({ reason });
    },
    watchRenderPool(read) {
      renderPool = read;
    },
    renderOverrun(how) {
      overruns.inc({ how });
    },
    circuitState(integration, provider, state) {
      circuits.set({ integration, provider }, state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0);
    },
    triggerAccepted(count) {
      triggers.inc();
      messages.inc({ channel: 'all', status: 'queued' }, count);
    },
    messageStatus(channel, status, count = 1) {
      messages.inc({ channel, status }, count);
    },
    deliveryDuration(channel, outcome, seconds) {
      duration.observe({ channel, outcome }, seconds);
    },
  };
}
