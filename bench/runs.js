/**
 * Workflow runs: a three-step workflow — in-app now, a delay, then an email if the in-app item is
 * still unread — for 10,000 recipients (ten triggers of 1,000), on SQLite, into the SMTP sink
 * process. Reports runs per second from the first trigger to the last email (the delay included)
 * and Herald's CPU per run: each run is an in-app delivery, two run-engine passes (the delay, then
 * the condition) and an email. No ceiling: there is no peer to run the same workflow; the figure to
 * track is CPU per run against the single-step email's CPU per message in the e2e bench.
 */
import { startHerald } from './support/herald-process.js';
import { createApiClient, expectStatus } from './support/http-client.js';
import { cpuMeter, idleOrWarn, round } from './support/measure.js';
import { startSinkProcess, waitForDistinct } from './support/smtp-sink.js';

const WORKFLOW_KEY = 'bench-three-step';
const PER_TRIGGER = 1000;
const DELAY = '2s';

export async function runRuns({ recipients = 10_000, cpuProfileDir, log = console.log } = {}) {
  const sink = await startSinkProcess();
  const herald = await startHerald({ env: { HERALD_SMTP_URL: sink.url }, cpuProfileDir });
  const api = createApiClient(herald.url, herald.apiKey, { maxSockets: 4 });
  try {
    await expectStatus(
      api.request('PUT', `/v1/workflows/${WORKFLOW_KEY}`, {
        steps: [
          { type: 'in_app', ref: 'bell', body: '{{ data.author }} commented on {{ data.title }}' },
          { type: 'delay', for: DELAY },
          {
            type: 'email',
            if: 'steps.bell.status != "read"',
            subject: 'Unread: {{ data.author }} commented',
            html: '<p>Hello {{ subscriber.name }},</p><p>{{ data.author }} commented on {{ data.title }}.</p>',
          },
        ],
      }),
      200,
      'saving the workflow',
    );
    await sink.reset();
    const machine = await idleOrWarn(log);
    log(`runs: ${recipients} recipients of a three-step workflow (in-app, delay ${DELAY}, email if unread)`);
    const meter = cpuMeter({ herald: herald.pid, sink: sink.pid });
    const startedAt = performance.now();
    const triggers = [];
    for (let first = 0; first < recipients; first += PER_TRIGGER) {
      const to = [];
      for (let i = first; i < Math.min(recipients, first + PER_TRIGGER); i++) {
        to.push({ subscriberId: `r${i}`, email: `r${i}@bench.example`, name: `R ${i}` });
      }
      triggers.push(
        expectStatus(
          api.request('POST', `/v1/workflows/${WORKFLOW_KEY}/trigger`, {
            to,
            data: { author: 'Ada', title: 'the plan' },
          }),
          202,
          'a trigger',
        ),
      );
    }
    await Promise.all(triggers);
    const acceptedAt = performance.now();
    await waitForDistinct(sink, recipients, {
      deadlineMs: 300_000,
      check: () => {
        if (!herald.isRunning()) throw new Error(`herald exited during the run:\n${herald.output()}`);
      },
    });
    const seconds = (performance.now() - startedAt) / 1000;
    const { cores, cpuSeconds } = meter();
    const result = {
      settings: { recipients, delay: DELAY, perTrigger: PER_TRIGGER },
      machineBusyBefore: machine,
      acceptSeconds: round((acceptedAt - startedAt) / 1000, 2),
      seconds: round(seconds, 2),
      runsPerSecond: round(recipients / seconds, 0),
      heraldCpuMsPerRun: round((cpuSeconds.herald * 1000) / recipients, 3),
      cores,
    };
    log(
      `  ${recipients} runs in ${result.seconds} s (${result.runsPerSecond} runs/s, the ${DELAY} delay included), ` +
        `Herald CPU ${result.heraldCpuMsPerRun} ms per run`,
    );
    return result;
  } finally {
    api.close();
    await herald.stop();
    await sink.stop();
  }
}
