/**
 * Where Herald's CPU per email goes, thread by thread: `node bench/cpu-by-thread.js [messages]`
 * (after a build). Runs the e2e workload (single-recipient triggers of the bench email into the
 * SMTP sink process) after a 500-message warm-up, and prints each thread's CPU per delivered
 * message from /proc/<pid>/task/<tid>/stat. Threads are listed by id, which is creation order:
 * the main thread (the process id), V8's platform threads (garbage collection), the SQLite
 * thread (started when the store opens), then the render threads (started at the first render).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createWorkflow, startHerald } from './support/herald-process.js';
import { createApiClient } from './support/http-client.js';
import { startSinkProcess, waitForDistinct } from './support/smtp-sink.js';
import { sendTriggers } from './support/trigger-run.js';
const N = Number(process.argv[2]) || 8000;
function tasks(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, in clock ticks of 10 ms
      out.set(tid, { cpu: (Number(fields[11]) + Number(fields[12])) * 10 });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}
const sink = await startSinkProcess();
const herald = await startHerald({ env: { HERALD_SMTP_URL: sink.url } });
await createWorkflow(herald);
const api = createApiClient(herald.url, herald.apiKey, { maxSockets: 32 });
// warm up
await sendTriggers({ api, messages: 500, concurrency: 16, idOf: (b) => b.messageIds[0] });
await waitForDistinct(sink, 500, { deadlineMs: 60000 });
await sink.reset();
const before = tasks(herald.pid);
await sendTriggers({ api, messages: N, concurrency: 16, idOf: (b) => b.messageIds[0] });
await waitForDistinct(sink, N, { deadlineMs: 120000 });
const after = tasks(herald.pid);
const by = new Map();
for (const [tid, a] of after) {
  const b = before.get(tid)?.cpu ?? 0;
  by.set(tid, (by.get(tid) ?? 0) + a.cpu - b);
}
let total = 0;
for (const [tid, ms] of [...by].sort((x, y) => Number(x[0]) - Number(y[0]))) {
  total += ms;
  if (ms === 0) continue;
  const label = tid === String(herald.pid) ? `${tid} (main)` : tid;
  console.log(label.padEnd(16), ((ms / N) * 1000).toFixed(0).padStart(6), 'µs per message');
}
console.log('total'.padEnd(16), ((total / N) * 1000).toFixed(0).padStart(6), 'µs per message');
api.close();
await herald.stop();
await sink.stop();
