import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { inboxClient } from '../support/inbox.js';
import { waitFor } from '../support/wait-for.js';
import { testClock } from '../support/test-clock.js';
import { workflowCalls } from '../support/workflow-calls.js';

// Workflow runs through the public API: ordered steps, conditions, delays, digests, throttles,
// sendAt and cancellation. Time moves by a clock the test holds (Herald reads time only from it),
// so an hour's delay takes no hour.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let h: TestHerald;
const clock = testClock();

beforeAll(async () => {
  h = await startTestHerald({ 'retry-schedule': '50ms' }, { clock });
});
afterAll(async () => {
  await h?.close();
});

const { saveWorkflow, trigger, message } = workflowCalls(() => h);

async function statusOf(id: string): Promise<string> {
  return (await message(id)).status;
}

async function until(id: string, status: string, what = `message ${id} ${status}`) {
  return waitFor(async () => (await statusOf(id)) === status, { what, timeoutMs: 15_000 });
}

async function runsOf(triggerId: string) {
  const res = await h.api('GET', `/v1/triggers/${triggerId}`);
  expect(res.status, res.text).toBe(200);
  return res.body.runs as any[];
}

async function mailTo(address: string): Promise<any[]> {
  const items = (await h.api('GET', '/v1/dev/mail?limit=100')).body.items as any[];
  return items.filter((mail) => mail.to === address);
}

let n = 0;
/** A subscriber of its own for each test, with an email address. */
function person(name: string) {
  n++;
  return { subscriberId: `${name}-${n}`, email: `${name}-${n}@example.com` };
}

describe('in-app, then an hour later, email only if still unread', () => {
  it('emails the one who did not read, and skips the one who did, naming the condition', async () => {
    await saveWorkflow('reminder', [
      { type: 'in_app', ref: 'bell', body: 'You have a new comment' },
      { type: 'delay', for: '1h' },
      { type: 'email', if: 'steps.bell.status != "read"', subject: 'Unread comment', text: 'Go read it' },
    ]);
    const reader = person('reader');
    const ignorer = person('ignorer');
    const { triggerId, messageIds } = await trigger('reminder', { to: [reader, ignorer] });
    // One message per recipient and sending step: two in-app, two emails.
    expect(messageIds).toHaveLength(4);
    const [readerBell, readerEmail, ignorerBell, ignorerEmail] = messageIds as [string, string, string, string];
    await until(readerBell, 'sent');
    await until(ignorerBell, 'sent');
    expect(await statusOf(readerEmail)).toBe('pending');

    // Both runs sleep in the delay, due an hour from now.
    const runs = await waitFor(async () => {
      const found = await runsOf(triggerId);
      return found.every((run) => run.state === 'waiting') ? found : undefined;
    });
    for (const run of runs) {
      expect(run).toMatchObject({ step: 'delay_2', stepIndex: 1 });
      expect(run.dueAt).toBeGreaterThan(clock.now() + HOUR - MINUTE);
    }

    const inbox = await inboxClient(h, reader.subscriberId);
    expect((await inbox.call('POST', `/v1/inbox/items/${readerBell}/read`)).status).toBe(200);

    clock.advance(HOUR + 1000);
    await until(ignorerEmail, 'sent');
    await until(readerEmail, 'skipped');
    expect((await message(readerEmail)).reason).toBe('condition not met: steps.bell.status != "read"');
    expect(await mailTo(ignorer.email)).toHaveLength(1);
    expect(await mailTo(reader.email)).toHaveLength(0);
    const done = await waitFor(async () => {
      const found = await runsOf(triggerId);
      return found.every((run) => run.state === 'completed') ? found : undefined;
    });
    // Past the last step: no step, nothing due.
    for (const run of done) expect(run).toMatchObject({ stepIndex: 3, step: null, dueAt: null });
  });

  it('waits for an earlier message to have its outcome before checking a condition on it', async () => {
    await saveWorkflow('fallback', [
      { type: 'email', ref: 'mail', subject: 'Hi', text: 'Hello' },
      { type: 'in_app', if: 'steps.mail.status == "sent"', body: 'We emailed you' },
      { type: 'in_app', if: 'steps.mail.status == "queued"', body: 'never: the condition waits for the outcome' },
    ]);
    const { messageIds } = await trigger('fallback', { to: person('fallback') });
    await until(messageIds[1]!, 'sent');
    await until(messageIds[2]!, 'skipped');
  });
});

describe('digest', () => {
  it('folds 50 events into one email listing 50, per key and per recipient', async () => {
    await saveWorkflow('comments', [
      { type: 'digest', window: '10m', key: '{{ data.threadId }}' },
      {
        type: 'email',
        subject: '{{ digest.count }} new comments',
        text: '{% for e in digest.events %}{{ e.n }},{% endfor %}',
      },
    ]);
    const ann = person('ann');
    const bob = person('bob');
    const ids: Record<string, string[]> = { annT1: [], annT2: [], bobT1: [] };
    for (let i = 1; i <= 50; i++) {
      ids.annT1!.push((await trigger('comments', { to: ann, data: { threadId: 't1', n: i } })).messageIds[0]!);
    }
    for (let i = 1; i <= 3; i++) {
      ids.annT2!.push((await trigger('comments', { to: ann, data: { threadId: 't2', n: i } })).messageIds[0]!);
    }
    for (let i = 1; i <= 5; i++) {
      ids.bobT1!.push((await trigger('comments', { to: bob, data: { threadId: 't1', n: i } })).messageIds[0]!);
    }
    // Nothing goes out before the window closes.
    expect(await statusOf(ids.annT1![0]!)).toBe('pending');

    clock.advance(10 * MINUTE + 1000);
    await until(ids.annT1![0]!, 'sent');
    await until(ids.annT2![0]!, 'sent');
    await until(ids.bobT1![0]!, 'sent');
    const annMail = await mailTo(ann.email);
    expect(annMail.map((m) => m.subject).sort()).toEqual(['3 new comments', '50 new comments']);
    const fifty = annMail.find((m) => m.subject === '50 new comments');
    expect(fifty.text.trim()).toBe(Array.from({ length: 50 }, (_, i) => `${i + 1},`).join(''));
    expect((await mailTo(bob.email)).map((m) => m.subject)).toEqual(['5 new comments']);

    // Every other event's message is digested, naming the run that carried it.
    const carrier = (await runsOf((await message(ids.annT1![0]!)).triggerId))[0];
    for (const id of [...ids.annT1!.slice(1), ...ids.annT2!.slice(1), ...ids.bobT1!.slice(1)]) {
      const folded = await message(id);
      expect(folded.status).toBe('digested');
    }
    expect((await message(ids.annT1![7]!)).reason).toContain(carrier.runId);
    expect(carrier.digest.count).toBe(50);
  });

  it('first-now sends the first event at once and digests the rest of the window', async () => {
    await saveWorkflow('alerts', [
      { type: 'digest', window: '10m', mode: 'first-now' },
      { type: 'email', subject: '{{ digest.count }} alert(s)', text: 'x' },
    ]);
    const cy = person('cy');
    const first = (await trigger('alerts', { to: cy, data: { n: 1 } })).messageIds[0]!;
    await until(first, 'sent');
    const later: string[] = [];
    for (let i = 2; i <= 5; i++) later.push((await trigger('alerts', { to: cy, data: { n: i } })).messageIds[0]!);
    clock.advance(10 * MINUTE + 1000);
    await until(later[0]!, 'sent');
    for (const id of later.slice(1)) expect(await statusOf(id)).toBe('digested');
    expect((await mailTo(cy.email)).map((m) => m.subject).sort()).toEqual(['1 alert(s)', '4 alert(s)']);
  });
});

describe('throttle', () => {
  it('ends runs past the limit throttled, and lets them through again after the window', async () => {
    await saveWorkflow('pings', [
      { type: 'throttle', limit: 3, window: '1h' },
      { type: 'email', subject: 'ping', text: 'ping' },
    ]);
    const dee = person('dee');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await trigger('pings', { to: dee })).messageIds[0]!);
    const settled = await waitFor(async () => {
      const statuses = await Promise.all(ids.map(statusOf));
      return statuses.every((s) => s === 'sent' || s === 'throttled') ? statuses : undefined;
    });
    expect(settled.filter((s) => s === 'sent')).toHaveLength(3);
    expect(settled.filter((s) => s === 'throttled')).toHaveLength(2);
    const throttled = await message(ids[settled.indexOf('throttled')]!);
    expect(throttled.reason).toBe('throttled at step throttle_1: 3 runs in 1h already for this recipient');

    clock.advance(HOUR + 1000);
    await until((await trigger('pings', { to: dee })).messageIds[0]!, 'sent');
  });
});

describe('sendAt and cancel', () => {
  it('starts the runs at sendAt', async () => {
    await saveWorkflow('later', [{ type: 'email', subject: 'later', text: 'x' }]);
    const sendAt = new Date(clock.now() + 2 * HOUR).toISOString();
    const { triggerId, messageIds } = await trigger('later', { to: person('eve'), sendAt });
    const [run] = await runsOf(triggerId);
    expect(run).toMatchObject({ state: 'scheduled', dueAt: Date.parse(sendAt) });
    expect(await statusOf(messageIds[0]!)).toBe('pending');
    clock.advance(2 * HOUR + 1000);
    await until(messageIds[0]!, 'sent');
  });

  it('cancels pending delays, open digests and queued sends by key, and answers how many', async () => {
    await saveWorkflow('nudge', [
      { type: 'in_app', body: 'now' },
      { type: 'delay', for: '1h' },
      { type: 'email', subject: 'nudge', text: 'x' },
    ]);
    await saveWorkflow('batched', [
      { type: 'digest', window: '10m' },
      { type: 'email', subject: 'batched', text: 'x' },
    ]);
    const fay = person('fay');
    const kept = await trigger('nudge', { to: fay, cancellationKey: 'order-2' });
    const gone = await trigger('nudge', { to: [person('gil'), person('hal')], cancellationKey: 'order-1' });
    const digested = await trigger('batched', { to: person('ivy'), cancellationKey: 'order-1' });
    await waitFor(async () => (await runsOf(gone.triggerId)).every((run) => run.state === 'waiting'));
    await waitFor(async () => (await runsOf(digested.triggerId))[0].state === 'digesting');

    const res = await h.api('POST', '/v1/triggers/cancel', { cancellationKey: 'order-1' });
    expect(res.status, res.text).toBe(200);
    // Three runs (two in a delay, one in a digest); their three pending emails.
    expect(res.body).toEqual({ runs: 3, messages: 3 });
    expect((await h.api('POST', '/v1/triggers/cancel', { cancellationKey: 'order-1' })).body).toEqual({
      runs: 0,
      messages: 0,
    });
    for (const run of await runsOf(gone.triggerId)) expect(run.state).toBe('canceled');
    const metrics = (await h.api('GET', '/metrics')).text;
    expect(metrics).toMatch(/herald_messages_total\{channel="email",status="canceled"\} [3-9]/);
    expect(await statusOf(gone.messageIds[1]!)).toBe('canceled');

    clock.advance(HOUR + 1000);
    await until(kept.messageIds[1]!, 'sent');
    expect(await statusOf(gone.messageIds[1]!)).toBe('canceled');
    expect(await statusOf(digested.messageIds[0]!)).toBe('canceled');
  });

  it('limits a cancel to one workflow when asked', async () => {
    await saveWorkflow('slow-a', [
      { type: 'delay', for: '1h' },
      { type: 'email', subject: 'a', text: 'a' },
    ]);
    await saveWorkflow('slow-b', [
      { type: 'delay', for: '1h' },
      { type: 'email', subject: 'b', text: 'b' },
    ]);
    await trigger('slow-a', { to: person('jo'), cancellationKey: 'k-both' });
    const b = await trigger('slow-b', { to: person('kim'), cancellationKey: 'k-both' });
    const res = await h.api('POST', '/v1/triggers/cancel', { cancellationKey: 'k-both', workflow: 'slow-a' });
    expect(res.body).toEqual({ runs: 1, messages: 1 });
    expect(await statusOf(b.messageIds[0]!)).toBe('pending');
  });
});

describe('save rules', () => {
  it('refuses duplicate refs, a delay without a time, conditions on later steps, and bad durations', async () => {
    const res = await h.api('PUT', '/v1/workflows/bad-runs', {
      steps: [
        { type: 'in_app', ref: 'x', body: 'a', if: 'steps.later.status == "sent"' },
        { type: 'in_app', ref: 'x', body: 'b' },
        { type: 'delay' },
        { type: 'digest', window: '40d' },
        { type: 'in_app', ref: 'later', body: 'c' },
      ],
    });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    const paths = res.body.errors.map((e: any) => e.path);
    expect(paths).toEqual(['/steps/0/if', '/steps/1/ref', '/steps/2', '/steps/3/window']);
  });

  it('refuses a condition that is not an expression, with its field', async () => {
    const res = await h.api('PUT', '/v1/workflows/bad-if', {
      steps: [{ type: 'in_app', body: 'a', if: 'true %}{% for i in (1..9) %}' }],
    });
    expectProblem(res, 422);
    expect(res.body.errors[0].path).toBe('/steps/0/if');
  });

  it('answers 404 for an unknown trigger and 400 for a malformed id', async () => {
    expectProblem(await h.api('GET', `/v1/triggers/${newId('trg')}`), 404, 'TRIGGER_NOT_FOUND');
    expect((await h.api('GET', '/v1/triggers/nope')).status).toBe(400);
  });

  it('refuses a sendAt that is not a time', async () => {
    await saveWorkflow('when', [{ type: 'email', subject: 's', text: 't' }]);
    const res = await h.api('POST', '/v1/workflows/when/trigger', { to: person('lu'), sendAt: 'tomorrow' });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    expect(res.body.errors).toEqual([{ path: '/sendAt', message: expect.stringContaining('ISO 8601') }]);
  });
});
