import { describe, expect, it } from 'vitest';
import { deliverJob, type DeliverDeps } from '../../src/core/deliver-job.js';
import type { Dispatcher } from '../../src/core/dispatch.js';
import { createRunawayGuard } from '../../src/core/runaway-guard.js';
import {
  checkSendWindow,
  nextScheduled,
  parseSchedule,
  quietHoursEnd,
  sendWindowOpensAt,
  type QuietHoursInput,
} from '../../src/core/send-times.js';
import type { ClaimedJob, WorkflowVersion } from '../../src/core/store.js';
import { compileSteps, renderStep } from '../../src/core/templates.js';
import type { MessageChannel, Subscriber } from '../../src/core/types.js';

// Step windows, digest schedules and quiet hours, in the subscriber's time zone, at the
// daylight-saving changes of 2027 (Berlin 2027-03-28 and 2027-10-31, New York 2027-03-14 and
// 2027-11-07, Sydney 2027-04-04).

const utc = (text: string) => Date.parse(text);

describe('parseSchedule', () => {
  it('reads daily, weekdays, weekends and days by name', () => {
    expect(parseSchedule('daily 09:00')).toEqual({ at: 540 });
    expect(parseSchedule('weekdays 09:00')).toEqual({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], at: 540 });
    expect(parseSchedule('weekends 10:30')).toEqual({ days: ['sat', 'sun'], at: 630 });
    expect(parseSchedule('mon 09:00')).toEqual({ days: ['mon'], at: 540 });
    expect(parseSchedule(' mon,thu  17:30 ')).toEqual({ days: ['mon', 'thu'], at: 1050 });
  });

  it('refuses anything else', () => {
    for (const bad of [
      'daily',
      '09:00',
      'daily 9:00',
      'daily 24:00',
      'Daily 09:00',
      'monday 09:00',
      'mon,mon 09:00',
      'mon, thu 09:00',
      'hourly 09:00',
      'daily 09:00 UTC',
      'constructor 09:00',
      'tostring 09:00',
    ]) {
      expect(parseSchedule(bad), bad).toBeUndefined();
    }
  });
});

describe('nextScheduled', () => {
  it('closes at 09:00 local on both sides of a change', () => {
    const daily = parseSchedule('daily 09:00')!;
    // Saturday 10:00 CET → Sunday 09:00 CEST (23 hours later), then Monday 09:00 CEST.
    expect(nextScheduled(utc('2027-03-27T09:00Z'), daily, 'Europe/Berlin')).toBe(utc('2027-03-28T07:00Z'));
    expect(nextScheduled(utc('2027-03-28T07:00Z'), daily, 'Europe/Berlin')).toBe(utc('2027-03-29T07:00Z'));
    // Autumn: Saturday 09:00 CEST → Sunday 09:00 CET, 25 hours.
    expect(nextScheduled(utc('2027-10-30T07:00Z'), daily, 'Europe/Berlin')).toBe(utc('2027-10-31T08:00Z'));
    // New York, Saturday 2027-03-13 10:00 EST → Sunday 09:00 EDT.
    expect(nextScheduled(utc('2027-03-13T15:00Z'), daily, 'America/New_York')).toBe(utc('2027-03-14T13:00Z'));
    // Sydney leaves daylight saving on Sunday 2027-04-04: Saturday 10:00 AEDT → Sunday 09:00 AEST.
    expect(nextScheduled(utc('2027-04-02T23:00Z'), daily, 'Australia/Sydney')).toBe(utc('2027-04-03T23:00Z'));
  });

  it('keeps to its days', () => {
    // Friday 2027-03-26 10:00 CET → Monday 09:00 CEST.
    expect(nextScheduled(utc('2027-03-26T09:00Z'), parseSchedule('weekdays 09:00')!, 'Europe/Berlin')).toBe(
      utc('2027-03-29T07:00Z'),
    );
    // Thursday 18:00 → Monday 17:30.
    expect(nextScheduled(utc('2027-06-03T16:00Z'), parseSchedule('mon,thu 17:30')!, 'Europe/Berlin')).toBe(
      utc('2027-06-07T15:30Z'),
    );
    // Monday 08:00 → the same Monday 09:00.
    expect(nextScheduled(utc('2027-06-07T06:00Z'), parseSchedule('mon 09:00')!, 'Europe/Berlin')).toBe(
      utc('2027-06-07T07:00Z'),
    );
  });

  it('never names a skipped time, and a repeated one once', () => {
    // 02:30 does not exist in Berlin on 2027-03-28: the digest closes at 03:00 CEST.
    expect(nextScheduled(utc('2027-03-27T12:00Z'), parseSchedule('daily 02:30')!, 'Europe/Berlin')).toBe(
      utc('2027-03-28T01:00Z'),
    );
    // 02:30 happens twice on 2027-10-31: the first; from the second, the next day's.
    expect(nextScheduled(utc('2027-10-30T12:00Z'), parseSchedule('daily 02:30')!, 'Europe/Berlin')).toBe(
      utc('2027-10-31T00:30Z'),
    );
    expect(nextScheduled(utc('2027-10-31T01:30Z'), parseSchedule('daily 02:30')!, 'Europe/Berlin')).toBe(
      utc('2027-11-01T01:30Z'),
    );
  });
});

describe('send windows', () => {
  const office = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, start: '09:00', end: '18:00' };

  it('opens on the next weekday morning, across a change', () => {
    const window = { ...office, days: [...office.days] };
    expect(sendWindowOpensAt(window, 'Europe/Berlin', utc('2027-03-27T19:00Z'))).toBe(utc('2027-03-29T07:00Z'));
    expect(sendWindowOpensAt(window, 'America/New_York', utc('2027-03-14T01:00Z'))).toBe(utc('2027-03-15T13:00Z'));
    // Inside: at once.
    expect(sendWindowOpensAt(window, 'Europe/Berlin', utc('2027-03-29T12:00Z'))).toBe(utc('2027-03-29T12:00Z'));
  });

  it('names each wrong field on save', () => {
    expect(checkSendWindow({ start: '09:00', end: '18:00' }, '/steps/0/window')).toEqual([]);
    expect(checkSendWindow({ start: '00:00', end: '24:00' }, '/w')).toEqual([]);
    expect(checkSendWindow({ start: '9:00', end: '25:00' }, '/w').map((e) => e.path)).toEqual(['/w/start', '/w/end']);
    expect(checkSendWindow({ start: '10:00', end: '10:00' }, '/w')).toEqual([
      { path: '/w/end', message: 'must differ from start (a whole day is 00:00 to 24:00)' },
    ]);
    const days = checkSendWindow({ days: ['mon', 'funday', 'mon'] as never, start: '09:00', end: '18:00' }, '/w');
    expect(days.map((e) => e.path)).toEqual(['/w/days/1', '/w/days/2']);
    expect(checkSendWindow({ days: [], start: '09:00', end: '18:00' }, '/w').map((e) => e.path)).toEqual(['/w/days']);
  });
});

describe('quietHoursEnd', () => {
  const night = { start: '22:00', end: '08:00' };
  const input = (over: Partial<QuietHoursInput> = {}): QuietHoursInput => ({
    quietHours: night,
    timezone: 'Europe/Berlin',
    fallbackTimeZone: 'UTC',
    critical: false,
    channel: 'email',
    ...over,
  });

  it('defers a send inside quiet hours to their end, local, across a change', () => {
    // Saturday 23:00 CET → Sunday 08:00 CEST.
    expect(quietHoursEnd(input(), utc('2027-03-27T22:00Z'))).toBe(utc('2027-03-28T06:00Z'));
    // Saturday 23:30 EDT → Sunday 08:00 EST.
    expect(quietHoursEnd(input({ timezone: 'America/New_York' }), utc('2027-11-07T03:30Z'))).toBe(
      utc('2027-11-07T13:00Z'),
    );
    // Outside: nothing to wait for.
    expect(quietHoursEnd(input(), utc('2027-03-28T06:00Z'))).toBeUndefined();
    expect(quietHoursEnd(input(), utc('2027-03-28T12:00Z'))).toBeUndefined();
  });

  it('lets critical workflows, the in-app inbox and webhooks through', () => {
    const at = utc('2027-03-27T22:00Z');
    expect(quietHoursEnd(input({ critical: true }), at)).toBeUndefined();
    for (const channel of ['in_app', 'webhook'] as MessageChannel[])
      expect(quietHoursEnd(input({ channel }), at)).toBeUndefined();
    for (const channel of ['email', 'sms', 'push', 'chat'] as MessageChannel[]) {
      expect(quietHoursEnd(input({ channel }), at)).toBe(utc('2027-03-28T06:00Z'));
    }
  });

  it('reads a missing or unknown zone as the fallback zone', () => {
    // 21:30 UTC is inside 22:00–08:00 in Berlin (22:30 CET) but not in UTC.
    const at = utc('2027-03-27T21:30Z');
    expect(quietHoursEnd(input({ timezone: 'Mars/Olympus' }), at)).toBeUndefined();
    expect(quietHoursEnd(input({ timezone: null, fallbackTimeZone: 'Europe/Berlin' }), at)).toBe(
      utc('2027-03-28T06:00Z'),
    );
  });

  it('holds nothing back without quiet hours, or with ones it cannot read', () => {
    const at = utc('2027-03-27T22:00Z');
    for (const quietHours of [null, undefined, { start: '10pm', end: '8am' }, { start: '22:00', end: '22:00' }]) {
      expect(quietHoursEnd(input({ quietHours }), at)).toBeUndefined();
    }
    expect(quietHoursEnd(input({ quietHours: { start: 22, end: 8 } as never }), at)).toBeUndefined();
  });
});

describe('deliverJob under quiet hours', () => {
  const emailStep = { type: 'email' as const, subject: 'Hi', text: 'Hello' };
  const workflow = (critical?: boolean): WorkflowVersion => ({
    versionId: 'wfv_1',
    key: 'wf',
    name: 'wf',
    steps: [emailStep],
    ...(critical !== undefined && { critical }),
  });
  const subscriber: Subscriber = {
    subscriberId: 'ann',
    email: 'ann@example.com',
    phone: null,
    name: null,
    locale: null,
    timezone: 'Europe/Berlin',
    data: null,
    push: null,
    chat: null,
    webhookUrl: null,
    preferences: { quietHours: { start: '22:00', end: '08:00' } },
    createdAt: 0,
    updatedAt: 0,
  };
  const job: ClaimedJob = {
    jobId: 'job_1',
    claims: 1,
    messageId: 'msg_1',
    environmentId: 'env',
    triggerId: 'trg_1',
    workflowKey: 'wf',
    workflowVersionId: 'wfv_1',
    stepIndex: 0,
    failedAttempts: 2,
    subscriber,
    data: {},
    digest: null,
    openRunId: null,
    test: false,
  };

  function deps(now: number, sent: string[]): DeliverDeps {
    const dispatcher: Dispatcher = {
      async dispatch(request) {
        sent.push(request.messageId);
        return {
          outcome: { status: 'sent' },
          attempts: [{ outcome: 'sent', detail: '250 ok', durationMs: 1 }],
          recipient: 'ann@example.com',
        };
      },
      async close() {},
    };
    return {
      render: async (request) => ({
        status: 'rendered',
        rendered: renderStep(compileSteps(request.workflow.steps)[request.stepIndex]!, request.context),
      }),
      runaways: createRunawayGuard({ now: () => now }),
      dispatcher,
      clock: { now: () => now },
      retryPolicy: { schedule: [1000], jitter: 0 },
      random: () => 0.5,
      maxClaims: 5,
      sendTimeoutMs: 1000,
      defaultTimeZone: 'UTC',
    };
  }

  it('defers a send inside quiet hours to their end: no attempt, nothing sent, a reason that says so', async () => {
    const sent: string[] = [];
    const now = utc('2027-03-27T22:00Z'); // Saturday 23:00 CET
    const completion = await deliverJob(deps(now, sent), job, { workflow: workflow(), data: {}, workerId: 'w1' });
    expect(sent).toEqual([]);
    expect(completion).toEqual({
      jobId: 'job_1',
      workerId: 'w1',
      messageId: 'msg_1',
      at: now,
      attempts: [],
      status: 'retrying',
      reason: 'deferred by quiet hours (22:00–08:00 Europe/Berlin) until 2027-03-28T08:00+02:00',
      retryAt: utc('2027-03-28T06:00Z'),
      deferred: true,
    });
  });

  it('sends a critical workflow, and any send outside quiet hours, at once', async () => {
    const sent: string[] = [];
    const night = utc('2027-03-27T22:00Z');
    const critical = await deliverJob(deps(night, sent), job, { workflow: workflow(true), data: {}, workerId: 'w1' });
    expect(critical.status).toBe('sent');
    const day = await deliverJob(deps(utc('2027-03-28T06:00Z'), sent), job, {
      workflow: workflow(),
      data: {},
      workerId: 'w1',
    });
    expect(day.status).toBe('sent');
    expect(sent).toEqual(['msg_1', 'msg_1']);
  });
});
