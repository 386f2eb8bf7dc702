/**
 * The table `npm run bench` prints: one function per bench turning its results into
 * [label, value] rows; printTable lays them out. A row of ['', ''] draws a rule.
 */

const int = (n) => (n === undefined || n === null ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n < 10 ? n.toFixed(1) : int(n));
const cores = (c) =>
  Object.entries(c)
    .map(([name, value]) => `${name} ${value ?? '?'}`)
    .join(', ');
const verdict = (ratio, target) =>
  `${ratio.toFixed(2)} (target ≥ ${target.toFixed(2)}) ${ratio >= target ? 'MET' : 'MISSED'}`;

export function printTable(rows) {
  // A heading is a row without a value: it may run past the label column.
  const width = Math.max(...rows.filter(([, value]) => value !== '').map(([label]) => label.length));
  const line = '-'.repeat(width + 50);
  console.log(`\n${line}`);
  for (const [label, value] of rows) {
    console.log(label === '' ? line : value === '' ? label : `${label.padEnd(width)}  ${value}`);
  }
  console.log(line);
}

export function ingestRows(r) {
  const run = (x) =>
    `${int(x.requestsPerSec)} req/s · p50 ${ms(x.latencyMs.p50)} ms · p99 ${ms(x.latencyMs.p99)} ms · non-2xx ${x.non2xx}`;
  const rows = [
    [
      `Ingest (${r.settings.connections} connections, ${r.settings.durationSec} s, ${r.settings.bodyBytes} B bodies)`,
      '',
    ],
    ['  bodies · email', 'distinct subscriberId per request · SMTP, never the dev mailbox'],
    ['  POST trigger, 202 after commit', `${run(r.ingest)} · delivery parked`],
    ['  POST noop-trigger (ceiling)', run(r.ceiling)],
    ['  ratio ingest / ceiling', verdict(r.ratio, r.target)],
    ['  cores during ingest', `${cores(r.ingest.cores)} · herald ${r.ingest.heraldCpuUsPerRequest} µs CPU/request`],
    ['  cores during ceiling', `${cores(r.ceiling.cores)} · herald ${r.ceiling.heraldCpuUsPerRequest} µs CPU/request`],
  ];
  if (r.withLiveDelivery) {
    const live = r.withLiveDelivery;
    rows.push([
      '  POST trigger while delivering',
      `${run(live)} · ${int(live.deliveredPerSec)} delivered/s to the sink`,
    ]);
    rows.push(['  cores while delivering', cores(live.cores)]);
  }
  return rows;
}

export function e2eRows(r) {
  const h = r.herald;
  const rows = [
    [
      `End to end (${int(r.settings.messages)} triggers → SMTP sink process, ${r.settings.templateBytes} B template)`,
      '',
    ],
    [
      '  Herald delivered/s (first 202 → last arrival)',
      `${int(h.deliveredPerSec)} msg/s · ${h.delivered}/${h.triggers} delivered in ${h.seconds} s`,
    ],
    ['  Herald 202 → delivered latency', `p50 ${int(h.latencyMs.p50)} ms · p99 ${int(h.latencyMs.p99)} ms`],
    [
      '  Herald accept rate during the run',
      `${int(h.acceptPerSec)} req/s · status ${JSON.stringify(h.statusCodes)} · duplicates ${h.duplicates}`,
    ],
    ['  cores (herald run)', `${cores(h.cores)} · herald ${h.heraldCpuMsPerMessage} ms CPU/message`],
  ];
  for (const c of r.ceilings) {
    rows.push([
      `  nodemailer alone, pool ${c.pool} (ceiling)`,
      `${int(c.perSec)} msg/s · ${c.inFlight} in flight · ${cores(c.cores)} · ${c.senderCpuMsPerMessage} ms CPU/message`,
    ]);
  }
  for (const pool of r.skippedPools)
    rows.push([`  nodemailer alone, pool ${pool}`, 'skipped: time budget (--pools 5,10 forces it)']);
  rows.push([`  ratio herald / ceiling (pool ${r.ratioAgainstPool})`, verdict(r.ratio, r.target)]);
  rows.push([
    '  same ratio in CPU per message',
    `${r.cpuRatio.toFixed(2)} (ceiling ms / herald ms; steadier under other load)`,
  ]);
  return rows;
}

export function webhookRows(r) {
  const h = r.herald;
  const c = r.ceiling;
  return [
    [
      `Webhooks end to end (${int(r.settings.messages)} messages, ${r.settings.recipientsPerTrigger} a trigger → HTTP sink process, ${r.settings.bodyBytes} B signed bodies)`,
      '',
    ],
    [
      `  Herald delivered/s (--concurrency ${r.settings.concurrency})`,
      `${int(h.deliveredPerSec)} msg/s · ${h.delivered}/${h.triggers} delivered in ${h.seconds} s · duplicates ${h.duplicates}`,
    ],
    [
      '  Herald 202 → delivered latency',
      `p50 ${int(h.latencyMs.p50)} ms · p99 ${int(h.latencyMs.p99)} ms · log caught up ${int(h.recordedSentAfterLastArrivalMs)} ms after the last arrival`,
    ],
    ['  cores (herald run)', `${cores(h.cores)} · herald ${h.heraldCpuMsPerMessage} ms CPU/message`],
    [
      `  undici Pool alone, ${c.inFlight} in flight (ceiling)`,
      `${int(c.perSec)} POSTs/s · ${cores(c.cores)} · ${c.senderCpuMsPerMessage} ms CPU/message`,
    ],
    ['  signatures checked by the sink', `herald ${h.signaturesChecked} · ceiling ${c.signaturesChecked} · all valid`],
    ['  ratio herald / ceiling', verdict(r.ratio, r.target)],
    ['  same ratio in CPU per message', `${r.cpuRatio.toFixed(2)} (ceiling ms / herald ms; steadier under other load)`],
  ];
}

const processes = (n, what) => `${n} ${what}${n === 1 ? '' : 'es'}`;

export function pgIngestRows(r, server) {
  const run = (x) =>
    `${int(x.requestsPerSec)} req/s · p50 ${ms(x.latencyMs.p50)} ms · p99 ${ms(x.latencyMs.p99)} ms · non-2xx ${x.non2xx}`;
  const cpu = (x) =>
    `${cores(x.cores)} · ${x.serverCpuUsPerRequest} µs app + ${x.postgresCpuUsPerRequest} µs postgres CPU/request`;
  const rows = [
    [
      `PostgreSQL ${server.version} ingest (${r.settings.connections} connections, ${r.settings.durationSec} s, ${r.settings.bodyBytes} B bodies, synchronous_commit=${server.synchronous_commit})`,
      '',
    ],
  ];
  for (const { processes: n, herald, peer, ratio } of r.runs) {
    rows.push(
      [`  herald --role api, ${processes(n, 'process')}`, run(herald)],
      [`  pg-boss endpoint, ${processes(n, 'process')}`, run(peer)],
      [`  ratio herald / pg-boss (${n})`, verdict(ratio, r.target)],
      [`  cores herald (${n})`, cpu(herald)],
      [`  cores pg-boss (${n})`, cpu(peer)],
    );
  }
  return rows;
}

export function pgE2eRows(r, server) {
  const s = r.settings;
  const run = (x) =>
    `${int(x.deliveredPerSec)} msg/s · ${x.delivered}/${x.triggers} in ${x.seconds} s · duplicates ${x.duplicates} · ` +
    `accept ${int(x.acceptPerSec)} req/s · p50 ${int(x.latencyMs.p50)} ms`;
  const cpu = (x) =>
    `${cores(x.cores)} · ${x.serverCpuMsPerMessage} ms app + ${x.postgresCpuMsPerMessage} ms postgres CPU/message`;
  const rows = [
    [
      `PostgreSQL ${server.version} end to end (${int(s.messages)} triggers → SMTP sink process, per worker: SMTP pool ${s.smtpPool}, ${s.inFlightPerWorker} in flight)`,
      '',
    ],
    [
      '  peer worker',
      `pg-boss work() × ${s.peerWorker.workLoops}, batchSize ${s.peerWorker.batchSize}, nodemailer pool ${s.smtpPool}`,
    ],
  ];
  for (const { workers: n, herald, peer, ratio, cpuRatio } of r.runs) {
    const label = `${n} worker${n === 1 ? '' : 's'}`;
    rows.push(
      [`  herald, 1 api + ${label}`, run(herald)],
      [`  pg-boss, 1 api + ${label}`, run(peer)],
      [`  ratio herald / pg-boss (${label})`, `${verdict(ratio, r.target)} · CPU per message ${cpuRatio.toFixed(2)}`],
      [`  cores herald (${label})`, cpu(herald)],
      [`  cores pg-boss (${label})`, cpu(peer)],
      [
        `  tables, per message (${label})`,
        `herald ${tableWork(herald.database)} | pg-boss ${tableWork(peer.database)}`,
      ],
    );
  }
  const c = r.ceiling;
  rows.push([
    `  nodemailer alone, pool ${c.pool} (ceiling)`,
    `${int(c.perSec)} msg/s · ${c.inFlight} in flight · ${cores(c.cores)} · ${c.senderCpuMsPerMessage} ms CPU/message`,
  ]);
  rows.push([
    `  of the ceiling, ${r.runs.map((x) => x.workers).join(' / ')} workers`,
    `herald ${r.runs.map((x) => x.herald.ofCeiling.toFixed(2)).join(' / ')} · ` +
      `pg-boss ${r.runs.map((x) => x.peer.ofCeiling.toFixed(2)).join(' / ')}`,
  ]);
  return rows;
}

const tableWork = (d) =>
  d
    ? `${d.seqScansPerMessage} seq scans, ${d.indexScansPerMessage} index scans, ${d.rowsWrittenPerMessage} rows written`
    : '?';

const kib = (bytes) => (bytes === null || bytes === undefined ? '–' : `${(bytes / 1024).toFixed(1)} KiB`);
const mib = (bytes) => (bytes === null || bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const times = (ratio) => (ratio === null ? '–' : `${ratio.toFixed(2)}×`);

export function inboxRows(r) {
  const s = r.settings;
  const latency = (x) =>
    `min ${ms(x.latencyMs.min)} · p50 ${ms(x.latencyMs.p50)} · p90 ${ms(x.latencyMs.p90)} · p99 ${ms(x.latencyMs.p99)} · max ${ms(x.latencyMs.max)} ms`;
  const delivery = (x) =>
    `${int(x.delivered)}/${int(x.expected)} delivered · duplicates ${x.duplicates} · gaps ${x.gaps} · strays ${x.strays} · ` +
    `whole round p50 ${ms(x.roundCompleteMs.p50)} ms, max ${ms(x.roundCompleteMs.max)} ms`;
  const memory = (x) => {
    const m = x.memory;
    return (
      `${kib(m.perConnection.vmRss)} RSS + heap ${kib(m.perConnection.heapUsed)} per connection · ` +
      `RSS ${mib(m.baseline.vmRss)} → ${mib(m.idle.vmRss)} (${mib(m.afterRounds.vmRss)} after the rounds)`
    );
  };
  const cpu = (x, name) =>
    `${cores(x.cores)} · ${name} ${x.cpuMsPerRound} ms CPU/round, clients ${x.clientsCpuMsPerRound}`;
  return [
    [
      `Inbox stream (${int(s.subscribers)} SSE subscribers on their own connections, ${s.rounds} rounds of one in-app trigger to all, ${s.warmupRounds} warm-up round not counted)`,
      '',
    ],
    [
      `  Herald POST trigger → 202 (${int(s.subscribers)} recipients)`,
      `p50 ${ms(r.herald.answerMs.p50)} · max ${ms(r.herald.answerMs.max)} ms`,
    ],
    ['  Herald 202 → item.created', latency(r.herald)],
    ['  Herald delivery', delivery(r.herald)],
    ['  node:http fan-out, 200 → event (ceiling)', latency(r.ceiling)],
    ['  ceiling delivery', delivery(r.ceiling)],
    ['  ratio herald / ceiling latency', `p50 ${times(r.ratios.p50)} · p99 ${times(r.ratios.p99)}`],
    ['  Herald memory, 0 → 1,000 idle streams', memory(r.herald)],
    ['  ceiling memory, 0 → 1,000 idle streams', memory(r.ceiling)],
    [
      '  ratio herald / ceiling memory per connection',
      `RSS ${times(r.ratios.rssPerConnection)} · heap ${times(r.ratios.heapPerConnection)}`,
    ],
    ['  cores (herald rounds)', cpu(r.herald, 'herald')],
    ['  cores (ceiling rounds)', cpu(r.ceiling, 'ceiling')],
  ];
}

export function runawayRows(r) {
  const phase = (x) =>
    `/healthz p50 ${ms(x.healthz.p50)} ms · p99 ${ms(x.healthz.p99)} ms · max ${ms(x.healthz.max)} ms (${int(x.healthz.requests)} requests) · ` +
    `event-loop delay p99 ${ms(x.eventLoopLag.worstP99Ms)} ms, max ${ms(x.eventLoopLag.maxMs)} ms`;
  return [
    [
      `Runaway templates (${int(r.settings.renders)} renders to the ${r.settings.renderTimeout} limit, ${r.settings.renderThreads} render threads)`,
      '',
    ],
    ['  idle', phase(r.idle)],
    ['  during the runaway renders', `${phase(r.runaway)} · ${int(r.runaway.failed)} failed in ${r.runaway.seconds} s`],
    [
      '  overruns',
      Object.entries(r.runaway.overruns)
        .map(([how, n]) => `${how} ${n}`)
        .join(', '),
    ],
    [
      '  ratio runaway / idle',
      `/healthz p99 ${r.ratios.healthzP99} · event-loop delay p99 ${r.ratios.eventLoopLagP99}`,
    ],
    ['  cores (runaway phase)', cores(r.runaway.cores)],
  ];
}

export function fanoutRows(r) {
  const h = r.herald;
  const goal = (value, limit, unit) => `${value} ${unit} (goal < ${limit} ${unit}) ${value < limit ? 'MET' : 'MISSED'}`;
  return [
    [`Topic fan-out (one trigger to ${int(r.settings.members)} members → webhook sink process, SQLite)`, ''],
    [
      '  every run created',
      `${goal(h.createdSeconds, r.goals.createdSeconds, 's')} · ${int(h.runsCreatedPerSec)} runs/s`,
    ],
    [
      `  every message delivered (--concurrency ${r.settings.concurrency})`,
      `${h.deliveredSeconds} s · ${int(h.deliveredPerSec)} msg/s · duplicates ${h.duplicates}`,
    ],
    [
      '  Herald peak RSS',
      `${goal(h.peakRssMb, r.goals.peakRssMb, 'MB')} · ${h.peakRssWhileCreatingMb} MB until every run was created · ${h.idleRssMb} MB idle`,
    ],
    [
      `  plain loop: the same rows, ${int(r.settings.loopBatch)} members a transaction`,
      `${r.plainLoop.seconds} s · ${int(r.plainLoop.rowsPerSec)} rows/s`,
    ],
    ['  ratio herald / plain loop', `created ${r.ratios.createdVsLoop} · delivered ${r.ratios.deliveredVsLoop}`],
    ['  cores (herald run)', `${cores(h.cores)} · herald ${h.heraldCpuMsPerMember} ms CPU/member`],
  ];
}
