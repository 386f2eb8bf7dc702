/**
 * What rendering off the main thread costs the main thread, one render per message to a render
 * thread against one message per claim batch. `npm run build && node bench/render-batching.js`
 *
 * The bench workflow's email (workload.js, a 5 KB HTML template) is rendered RENDERS times for 32
 * subscribers in turn: in place, then through the render pool (dist/worker/render-pool.js) with
 * two threads, in groups of 32 like the worker's claim batches, two groups in flight, with one
 * render per message and with up to 32. Main-thread CPU comes from /proc/<pid>/task/<pid>/stat
 * (Linux); process CPU adds the render threads.
 */
import { readFileSync } from 'node:fs';
import { compileSteps, renderStep } from '../dist/core/templates.js';
import { createRenderPool } from '../dist/worker/render-pool.js';
import { round } from './support/measure.js';
import { renderContext, WORKFLOW } from './support/workload.js';

const RENDERS = 20_000;
const GROUP = 32;
const ROUNDS = 3;
const logger = { warn() {}, error() {}, info() {} };
const contexts = Array.from({ length: GROUP }, (_, i) => renderContext(`sub-${String(i).padStart(8, '0')}`));
// The bench email has no tags or filters, so the pool would render it in place
// (rendersInBoundedTime); an empty tag sends it to the threads, at the same cost per render.
const THREADED_STEPS = WORKFLOW.steps.map((step) => ({ ...step, html: `${step.html}{% if true %}{% endif %}` }));
const workflow = { versionId: 'bench', key: 'bench', name: 'bench', steps: THREADED_STEPS };

/** CPU ms of this process's main thread so far. */
function mainThreadCpuMs() {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const processCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function measure(run) {
  const main = mainThreadCpuMs();
  const all = processCpuMs();
  const startedAt = performance.now();
  await run();
  return {
    wallMs: round(performance.now() - startedAt),
    mainCpuUsPerRender: round(((mainThreadCpuMs() - main) * 1000) / RENDERS, 1),
    processCpuUsPerRender: round(((processCpuMs() - all) * 1000) / RENDERS, 1),
  };
}

function inPlace() {
  const [step] = compileSteps(WORKFLOW.steps);
  return measure(async () => {
    for (let i = 0; i < RENDERS; i++) renderStep(step, contexts[i % GROUP]);
  });
}

async function pooled(maxBatch) {
  const pool = createRenderPool({ threads: 2, timeoutMs: 250, maxBatch, logger });
  const request = (i) => ({ workflow, stepIndex: 0, context: contexts[i % GROUP], refusal: () => undefined });
  try {
    await Promise.all(Array.from({ length: 2 * GROUP }, (_, i) => pool.render(request(i)))); // threads up, warm
    return await measure(async () => {
      let next = 0;
      await Promise.all(
        [0, 1].map(async () => {
          while (next < RENDERS) {
            const start = next;
            next += GROUP;
            const size = Math.min(GROUP, RENDERS - start);
            const outcomes = await Promise.all(Array.from({ length: size }, (_, j) => pool.render(request(start + j))));
            if (outcomes.some((o) => o.status !== 'rendered')) throw new Error(JSON.stringify(outcomes[0]));
          }
        }),
      );
    });
  } finally {
    await pool.close();
  }
}

const results = { inPlace: [], onePerMessage: [], batched: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.inPlace.push(await inPlace());
  results.onePerMessage.push(await pooled(1));
  results.batched.push(await pooled(GROUP));
}
for (const [name, runs] of Object.entries(results)) {
  const figures = (key) => runs.map((run) => run[key]).join(' / ');
  console.log(
    `${name.padEnd(14)} main thread ${figures('mainCpuUsPerRender')} µs/render · ` +
      `process ${figures('processCpuUsPerRender')} µs/render · wall ${figures('wallMs')} ms`,
  );
}
