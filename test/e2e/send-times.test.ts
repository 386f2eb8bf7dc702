import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';
import { testClock } from '../support/test-clock.js';
import { workflowCalls } from '../support/workflow-calls.js';

// Send windows and digest schedules in the subscriber's time zone, through the public API, across
// the daylight-saving changes of 2027. Herald reads time only from the clock the test holds, and
// the test sets it to the instants around each change (forward only, test after test), as
// test/e2e/workflow-runs.test.ts moves it forward by an hour.

const iso = (text: string) => Date.parse(text);

let h: TestHerald;
const clock = testClock();

beforeAll(async () => {
  clock.set(iso('2027-03-01T00:00Z'));
  // Subscribers without a valid zone are in Sydney's.
  h = await startTestHerald({ 'default-timezone': 'Australia/Sydney' }, { clock });
});
afterAll(async () => {
  await h?.close();
});

const { saveWorkflow, trigger, message } = workflowCalls(() => h);

async function sent(id: string) {
  return waitFor(
    async () => {
      const found = await message(id);
      return found.status === 'sent' ? found : undefined;
    },
    { what: `message ${id} sent`, timeoutMs: 15_000 },
  );
}

async function runsOf(triggerId: string): Promise<any[]> {
  const res = await h.api('GET', `/v1/triggers/${triggerId}`);
  expect(res.status, res.text).toBe(200);
  return res.body.runs;
}

/** Waits until every run of the trigger is due at the instant given (by subscriber id). */
async function dueAt(triggerId: string, expected: Record<string, string>) {
  const wanted = Object.fromEntries(Object.entries(expected).map(([id, at]) => [id, iso(at)]));
  return waitFor(
    async () => {
      const runs = await runsOf(triggerId);
      const due = Object.fromEntries(runs.map((run) => [run.subscriberId, run.dueAt]));
      return JSON.stringify(due) === JSON.stringify(wanted) ? runs : undefined;
    },
    { what: `runs due at ${JSON.stringify(expected)}` },
  );
}

async function mailTo(address: string): Promise<any[]> {
  const items = (await h.api('GET', '/v1/dev/mail?limit=100')).body.items as any[];
  return items.filter((mail) => mail.to === address);
}

const OFFICE_HOURS = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00' };

describe('a step window defers the send to its next opening', () => {
  it('in New York, across the spring change: Saturday evening EST to Monday 09:00 EDT', async () => {
    await saveWorkflow('report', [
      { type: 'in_app', body: 'Your report is ready' },
      { type: 'email', window: OFFICE_HOURS, subject: 'Your report', text: 'It is ready' },
    ]);
    // Saturday 2027-03-13 20:00 EST; New York moves to EDT on Sunday.
    clock.set(iso('2027-03-14T01:00Z'));
    const ny = { subscriberId: 'ny-1', email: 'ny-1@example.com', timezone: 'America/New_York' };
    // Berlin has not changed yet: Monday 09:00 CET.
    const berlin = { subscriberId: 'berlin-1', email: 'berlin-1@example.com', timezone: 'Europe/Berlin' };
    const { triggerId, messageIds } = await trigger('report', { to: [ny, berlin] });
    const [nyBell, nyEmail, berlinBell, berlinEmail] = messageIds as [string, string, string, string];

    // The in-app step before the window goes at once; each email waits for its own Monday morning.
    await sent(nyBell);
    await sent(berlinBell);
    const runs = await dueAt(triggerId, { 'berlin-1': '2027-03-15T08:00Z', 'ny-1': '2027-03-15T13:00Z' });
    for (const run of runs) expect(run).toMatchObject({ state: 'active', step: 'email_2' });
    expect((await message(nyEmail)).status).toBe('pending');

    clock.set(iso('2027-03-15T08:00Z'));
    const berlinMail = await sent(berlinEmail);
    expect(berlinMail.sentAt).toBeGreaterThanOrEqual(iso('2027-03-15T08:00Z'));
    expect((await message(nyEmail)).status).toBe('pending');

    clock.set(iso('2027-03-15T13:00Z'));
    const nyMail = await sent(nyEmail);
    expect(nyMail.sentAt).toBeGreaterThanOrEqual(iso('2027-03-15T13:00Z'));
    expect(await mailTo(ny.email)).toHaveLength(1);
    const done = await waitFor(async () => {
      const found = await runsOf(triggerId);
      return found.every((run) => run.state === 'completed') ? found : undefined;
    });
    expect(done).toHaveLength(2);
  });

  it('sends at once inside the window', async () => {
    // Monday 2027-03-15 10:00 EDT.
    clock.set(iso('2027-03-15T14:00Z'));
    const { messageIds } = await trigger('report', {
      to: { subscriberId: 'ny-2', email: 'ny-2@example.com', timezone: 'America/New_York' },
    });
    await sent(messageIds[1]!);
  });
});

describe('a digest with a schedule closes at the next local 09:00', () => {
  it('in Berlin across the spring change (23 hours later) and in New York the same morning', async () => {
    await saveWorkflow('daily-summary', [
      { type: 'digest', schedule: 'daily 09:00' },
      {
        type: 'email',
        subject: '{{ digest.count }} updates',
        text: '{% for e in digest.events %}{{ e.n }},{% endfor %}',
      },
    ]);
    // Saturday 2027-03-27 10:00 CET in Berlin (09:00 CEST on Sunday is 07:00Z); 05:00 EDT in New York.
    clock.set(iso('2027-03-27T09:00Z'));
    const berlin = { subscriberId: 'berlin-2', email: 'berlin-2@example.com', timezone: 'Europe/Berlin' };
    const ny = { subscriberId: 'ny-3', email: 'ny-3@example.com', timezone: 'America/New_York' };
    const triggers: { triggerId: string; messageIds: string[] }[] = [];
    for (let n = 1; n <= 3; n++) triggers.push(await trigger('daily-summary', { to: [berlin, ny], data: { n } }));
    // The first event's runs carry the digests; the others join them.
    const [berlinFirst] = triggers[0]!.messageIds as [string, string];
    await waitFor(async () => (await runsOf(triggers[0]!.triggerId)).every((run) => run.state === 'digesting'));

    // New York's digest closes at 09:00 EDT (13:00Z); Berlin's is still open.
    clock.set(iso('2027-03-27T13:00Z'));
    const nyMails = await waitFor(async () => {
      const mails = await mailTo(ny.email);
      return mails.length === 1 ? mails : undefined;
    });
    expect(nyMails[0].subject).toBe('3 updates');
    expect(await mailTo(berlin.email)).toHaveLength(0);

    // Sunday 09:00 CEST, after the change.
    clock.set(iso('2027-03-28T07:00Z'));
    const berlinMail = await sent(berlinFirst);
    expect(berlinMail.sentAt).toBeGreaterThanOrEqual(iso('2027-03-28T07:00Z'));
    const mails = await mailTo(berlin.email);
    expect(mails.map((m) => [m.subject, m.text.trim()])).toEqual([['3 updates', '1,2,3,']]);
  });
});

describe('time zones', () => {
  it('reads a subscriber without a valid zone in --default-timezone (Sydney, across its autumn change)', async () => {
    await saveWorkflow('weekday-note', [{ type: 'sms', window: OFFICE_HOURS, text: 'Note' }]);
    // Saturday 2027-04-03 20:00 AEDT; Sydney leaves daylight saving on Sunday: Monday 09:00 AEST.
    clock.set(iso('2027-04-03T09:00Z'));
    const { triggerId } = await trigger('weekday-note', {
      to: [
        { subscriberId: 'nowhere-1', phone: '+61400000001', timezone: 'Atlantis/Capital' },
        { subscriberId: 'nowhere-2', phone: '+61400000002' },
      ],
    });
    await dueAt(triggerId, { 'nowhere-1': '2027-04-04T23:00Z', 'nowhere-2': '2027-04-04T23:00Z' });
  });

  it('in Berlin across the autumn change: Saturday evening CEST to Monday 09:00 CET', async () => {
    clock.set(iso('2027-10-30T18:00Z'));
    const berlin = { subscriberId: 'berlin-3', email: 'berlin-3@example.com', timezone: 'Europe/Berlin' };
    const { triggerId, messageIds } = await trigger('report', { to: berlin });
    await dueAt(triggerId, { 'berlin-3': '2027-11-01T08:00Z' });
    clock.set(iso('2027-11-01T08:00Z'));
    expect((await sent(messageIds[1]!)).sentAt).toBeGreaterThanOrEqual(iso('2027-11-01T08:00Z'));
  });
});

describe('save rules', () => {
  it('refuses malformed windows and schedules, naming the field', async () => {
    const res = await h.api('PUT', '/v1/workflows/bad-times', {
      steps: [
        { type: 'email', subject: 's', text: 't', window: { start: '09:00', end: '09:00' } },
        { type: 'digest', window: '1h', schedule: 'daily 09:00' },
        { type: 'digest', schedule: 'every morning' },
        { type: 'email', subject: 's', text: 't' },
      ],
    });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    expect(res.body.errors.map((e: any) => e.path)).toEqual(['/steps/0/window/end', '/steps/1', '/steps/2/schedule']);
  });

  it('refuses a time or a day that is not one before looking further', async () => {
    const badTime = await h.api('PUT', '/v1/workflows/bad-times', {
      steps: [{ type: 'sms', text: 't', window: { start: '9am', end: '18:00' } }],
    });
    expectProblem(badTime, 422);
    expect(badTime.body.errors).toEqual([
      { path: '/steps/0/window/start', message: expect.stringContaining('a time such as 09:00') },
    ]);
    const badDay = await h.api('PUT', '/v1/workflows/bad-times', {
      steps: [{ type: 'sms', text: 't', window: { days: ['monday'], start: '09:00', end: '18:00' } }],
    });
    expectProblem(badDay, 422);
    expect(badDay.body.errors[0].path).toBe('/steps/0/window/days/0');
  });
});
