import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';
import { testClock } from '../support/test-clock.js';

// Quiet hours (a subscriber's preferences, in their time zone) through the public API, on the
// nights of 2027 when Berlin and New York change their clocks. Herald reads time only from the
// clock the test holds, and the test moves it forward, test after test, as send-times.test.ts
// does. Emails go to a real SMTP server on loopback, which counts every delivery.
//
// "Not sent before the end" is shown with workers at work: a critical email triggered a minute
// before the end goes out (so a worker claimed due jobs at that time), and the held ones do not.

const iso = (text: string) => Date.parse(text);
const QUIET = { start: '22:00', end: '08:00' };

let h: TestHerald;
let sink: SmtpSink;
let hooks: Server;
let hookUrl: string;
const hookCalls: string[] = [];
const clock = testClock();
/** While true, the SMTP server answers the first delivery of each message with a 451. */
let refusingFirstAttempts = false;

beforeAll(async () => {
  clock.set(iso('2027-03-01T00:00Z'));
  sink = await startSmtpSink({
    reject: (_id, attempt) =>
      refusingFirstAttempts && attempt === 1 ? { code: 451, message: '4.3.0 try again later' } : undefined,
  });
  hooks = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hookCalls.push(req.url ?? '');
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  h = await startTestHerald(
    {
      'smtp-url': sink.url,
      // A failed attempt comes back 4 to 6 minutes later (±20% jitter).
      'retry-schedule': '5m',
      // Subscribers without a valid zone are read in Tokyo's.
      'default-timezone': 'Asia/Tokyo',
      'secret-key': 'quiet-hours-test-secret-key-0123456789abcdef',
      'allow-private-networks': '127.0.0.0/8',
    },
    { clock },
  );
  const integration = await h.api('PUT', '/v1/integrations/hooks', { channel: 'webhook', provider: 'webhook' });
  expect(integration.status, integration.text).toBe(201);
  await saveWorkflow('nightly', { steps: [{ type: 'email', subject: 'Nightly {{ data.n }}', text: 'News' }] });
  await saveWorkflow('alarm', {
    critical: true,
    steps: [{ type: 'email', subject: 'Alarm', text: 'Your password was changed' }],
  });
  await saveWorkflow('bell-hook-mail', {
    steps: [
      { type: 'in_app', body: 'Ding' },
      { type: 'webhook', url: `${hookUrl}/{{ subscriber.subscriberId }}` },
      { type: 'email', subject: 'Also by mail', text: 'Ding' },
    ],
  });
  await saveWorkflow('mail-then-bell', {
    steps: [
      { type: 'email', ref: 'mail', subject: 'Your order shipped', text: 'On its way' },
      { type: 'in_app', if: 'steps.mail.status == "sent"', body: 'We emailed you' },
    ],
  });
});
afterAll(async () => {
  await h?.close();
  await sink?.close();
  await new Promise((resolve) => hooks?.close(resolve));
});

async function saveWorkflow(key: string, body: Record<string, unknown>) {
  const res = await h.api('PUT', `/v1/workflows/${key}`, body);
  expect(res.status, res.text).toBe(200);
}

/** A subscriber with an email address, the time zone given (none when null), and quiet hours. */
async function person(id: string, timezone: string | null, quietHours: unknown = QUIET): Promise<string> {
  const res = await h.api('PUT', `/v1/subscribers/${id}`, {
    email: `${id}@example.com`,
    ...(timezone !== null && { timezone }),
  });
  expect(res.status, res.text).toBe(200);
  await setPreferences(id, { quietHours });
  return id;
}

async function setPreferences(id: string, preferences: Record<string, unknown>) {
  const res = await h.api('PUT', `/v1/subscribers/${id}/preferences`, preferences);
  expect(res.status, res.text).toBe(200);
}

async function trigger(key: string, to: string, data: Record<string, unknown> = {}) {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, { to, data });
  expect(res.status, res.text).toBe(202);
  return res.body as { triggerId: string; messageIds: string[] };
}

async function message(id: string) {
  return (await h.api('GET', `/v1/messages/${id}`)).body;
}

async function reaches(id: string, status: string, what = `message ${id} ${status}`) {
  return waitFor(
    async () => {
      const found = await message(id);
      return found.status === status ? found : undefined;
    },
    { what, timeoutMs: 15_000 },
  );
}

/** Sends one nightly email at the clock's time and returns its message id. */
async function nightly(id: string, n: number): Promise<string> {
  return (await trigger('nightly', id, { n })).messageIds[0]!;
}

/** The message waits, with no attempt made, until `until` (as the reason writes it). */
async function heldUntil(id: string, zone: string, until: string, quietHours = '22:00–08:00') {
  const reason = `deferred by quiet hours (${quietHours} ${zone}) until ${until}`;
  const held = await waitFor(
    async () => {
      const found = await message(id);
      return found.status === 'retrying' && found.reason === reason ? found : undefined;
    },
    { what: `message ${id} ${reason}`, timeoutMs: 15_000 },
  );
  expect(held).toMatchObject({
    attemptCount: 0,
    attempts: [],
    sentAt: null,
  });
  return held;
}

/** Workers are at work at the clock's time: a critical email to `id` goes out at once. */
async function workersLook(id: string) {
  const [alarm] = (await trigger('alarm', id)).messageIds;
  await reaches(alarm!, 'sent', 'the critical email sent inside quiet hours');
}

/** Each message was sent once, at or after `end`, in one attempt the SMTP server took once. */
async function sentOnceAfter(ids: string[], end: string) {
  for (const id of ids) {
    const sent = await reaches(id, 'sent');
    expect(sent.sentAt).toBeGreaterThanOrEqual(iso(end));
    expect(sent).toMatchObject({ attemptCount: 1, reason: null, recipient: `${sent.subscriberId}@example.com` });
    expect(sink.received.filter((mail) => mail.heraldMessageId === id)).toHaveLength(1);
    expect(sink.attempts.get(id)).toBe(1);
  }
}

async function stillHeld(ids: string[]) {
  for (const id of ids) {
    expect((await message(id)).status).toBe('retrying');
    expect(sink.attempts.get(id)).toBeUndefined();
  }
}

async function runOf(triggerId: string) {
  const res = await h.api('GET', `/v1/triggers/${triggerId}`);
  expect(res.status, res.text).toBe(200);
  return res.body.runs[0];
}

describe('quiet hours 22:00–08:00 defer non-critical sends to 08:00 local, across the changes of 2027', () => {
  it('New York, spring forward (Sunday 03-14): held from 22:00 EST until 08:00 EDT, 9 hours later', async () => {
    const ny = await person('ny-spring', 'America/New_York');
    // Saturday 21:59 EST: before quiet hours, it goes at once.
    clock.set(iso('2027-03-14T02:59Z'));
    await sentOnceAfter([await nightly(ny, 1)], '2027-03-14T02:59Z');
    // 22:00 EST, the first minute of quiet hours; and 03:30 EDT, after the clocks went forward.
    clock.set(iso('2027-03-14T03:00Z'));
    const before = await nightly(ny, 2);
    await heldUntil(before, 'America/New_York', '2027-03-14T08:00-04:00');
    clock.set(iso('2027-03-14T07:30Z'));
    const after = await nightly(ny, 3);
    await heldUntil(after, 'America/New_York', '2027-03-14T08:00-04:00');

    // 07:59 EDT: critical mail goes, the held ones do not.
    clock.set(iso('2027-03-14T11:59Z'));
    await workersLook(ny);
    await stillHeld([before, after]);
    // 08:00 EDT (12:00Z; 08:00 EST would have been 13:00Z).
    clock.set(iso('2027-03-14T12:00Z'));
    await sentOnceAfter([before, after], '2027-03-14T12:00Z');
    // 08:00 is the end: a send now goes at once.
    await sentOnceAfter([await nightly(ny, 4)], '2027-03-14T12:00Z');
  });

  it('Berlin, spring forward (Sunday 03-28): in-app and webhook steps go at once; a condition waits for the email', async () => {
    const berlin = await person('berlin-spring', 'Europe/Berlin');
    // Saturday 22:30 CET.
    clock.set(iso('2027-03-27T21:30Z'));
    const until = '2027-03-28T08:00+02:00';
    const first = await nightly(berlin, 1);
    await heldUntil(first, 'Europe/Berlin', until);
    const [bell, hook, mail] = (await trigger('bell-hook-mail', berlin)).messageIds as [string, string, string];
    await reaches(bell, 'sent');
    await reaches(hook, 'sent');
    expect(hookCalls).toEqual(['/berlin-spring']);
    await heldUntil(mail, 'Europe/Berlin', until);

    // The follow-up's condition reads the email's outcome: the run waits for it until 08:00 CEST,
    // rather than reading "retrying" (no attempt was made) as one.
    const shipped = await trigger('mail-then-bell', berlin);
    const [shippedMail, followUp] = shipped.messageIds as [string, string];
    await heldUntil(shippedMail, 'Europe/Berlin', until);
    await waitFor(async () => (await runOf(shipped.triggerId)).dueAt === iso('2027-03-28T06:00Z'), {
      what: 'the run to wait until 08:00 CEST',
    });
    expect(await runOf(shipped.triggerId)).toMatchObject({ state: 'active', step: 'in_app_2' });

    // 03:30 CEST, after the clocks went forward.
    clock.set(iso('2027-03-28T01:30Z'));
    const second = await nightly(berlin, 2);
    await heldUntil(second, 'Europe/Berlin', until);

    clock.set(iso('2027-03-28T05:59Z'));
    await workersLook(berlin);
    await stillHeld([first, mail, shippedMail, second]);
    expect((await message(followUp)).status).toBe('pending');

    clock.set(iso('2027-03-28T06:00Z'));
    await sentOnceAfter([first, mail, shippedMail, second], '2027-03-28T06:00Z');
    const bellAfterMail = await reaches(followUp, 'sent');
    expect(bellAfterMail.sentAt).toBeGreaterThanOrEqual((await message(shippedMail)).sentAt);
    await waitFor(async () => (await runOf(shipped.triggerId)).state === 'completed');
    expect(hookCalls).toEqual(['/berlin-spring']);
  });

  it('keeps the recipient of a failed attempt while a retry waits for quiet hours to end', async () => {
    const berlin = await person('berlin-summer', 'Europe/Berlin');
    // 21:58 CEST: the first attempt gets a 451, and its retry falls inside quiet hours.
    clock.set(iso('2027-06-15T19:58Z'));
    refusingFirstAttempts = true;
    const id = await nightly(berlin, 1);
    const failed = await waitFor(async () => {
      const found = await message(id);
      return found.status === 'retrying' && found.attemptCount === 1 ? found : undefined;
    });
    refusingFirstAttempts = false;
    expect(failed).toMatchObject({ recipient: 'berlin-summer@example.com', reason: expect.stringMatching(/451/) });
    // 22:10 CEST: the retry is due, and deferred without an attempt.
    clock.set(iso('2027-06-15T20:10Z'));
    const held = await waitFor(async () => {
      const found = await message(id);
      return found.reason?.startsWith('deferred by quiet hours') ? found : undefined;
    });
    expect(held).toMatchObject({
      status: 'retrying',
      reason: 'deferred by quiet hours (22:00–08:00 Europe/Berlin) until 2027-06-16T08:00+02:00',
      recipient: 'berlin-summer@example.com',
      attemptCount: 1,
    });
    expect(sink.attempts.get(id)).toBe(1);
    clock.set(iso('2027-06-16T06:00Z'));
    const sent = await reaches(id, 'sent');
    expect(sent).toMatchObject({ recipient: 'berlin-summer@example.com', attemptCount: 2 });
    expect(sent.sentAt).toBeGreaterThanOrEqual(iso('2027-06-16T06:00Z'));
    expect(sink.received.filter((mail) => mail.heraldMessageId === id)).toHaveLength(1);
  });

  it('Berlin, fall back (Sunday 10-31): held from 22:00 CEST, through 02:30 twice, until 08:00 CET, 11 hours later', async () => {
    const berlin = await person('berlin-fall', 'Europe/Berlin');
    clock.set(iso('2027-10-30T19:59Z')); // 21:59 CEST
    await sentOnceAfter([await nightly(berlin, 1)], '2027-10-30T19:59Z');
    const until = '2027-10-31T08:00+01:00';
    const held: string[] = [];
    // 22:00 CEST; 02:30 CEST; 02:30 CET, an hour later.
    for (const at of ['2027-10-30T20:00Z', '2027-10-31T00:30Z', '2027-10-31T01:30Z']) {
      clock.set(iso(at));
      const id = await nightly(berlin, held.length + 2);
      await heldUntil(id, 'Europe/Berlin', until);
      held.push(id);
    }
    // 07:59 CET (ten hours after 22:00 CEST would have been 06:00Z).
    clock.set(iso('2027-10-31T06:59Z'));
    await workersLook(berlin);
    await stillHeld(held);
    clock.set(iso('2027-10-31T07:00Z'));
    await sentOnceAfter(held, '2027-10-31T07:00Z');
  });

  it('New York, fall back (Sunday 11-07): held through 01:30 twice until 08:00 EST; a send at 08:00 goes at once', async () => {
    const ny = await person('ny-fall', 'America/New_York');
    const until = '2027-11-07T08:00-05:00';
    const held: string[] = [];
    // Saturday 23:00 EDT; 01:30 EDT; 01:30 EST, an hour later.
    for (const at of ['2027-11-07T03:00Z', '2027-11-07T05:30Z', '2027-11-07T06:30Z']) {
      clock.set(iso(at));
      const id = await nightly(ny, held.length + 1);
      await heldUntil(id, 'America/New_York', until);
      held.push(id);
    }
    clock.set(iso('2027-11-07T12:59Z')); // 07:59 EST
    await workersLook(ny);
    await stillHeld(held);
    clock.set(iso('2027-11-07T13:00Z'));
    await sentOnceAfter(held, '2027-11-07T13:00Z');
    await sentOnceAfter([await nightly(ny, 4)], '2027-11-07T13:00Z');
  });
});

describe('whose night it is', () => {
  it('reads a subscriber with an invalid or no time zone in --default-timezone (Tokyo)', async () => {
    const lost = await person('lost', 'Mars/Olympus_Mons');
    const unset = await person('unset', null);
    // 22:30 in Tokyo (13:30 UTC, 08:30 in New York: quiet only in Tokyo).
    clock.set(iso('2027-11-08T13:30Z'));
    const held = [await nightly(lost, 1), await nightly(unset, 1)];
    for (const id of held) await heldUntil(id, 'Asia/Tokyo', '2027-11-09T08:00+09:00');
    clock.set(iso('2027-11-08T22:59Z'));
    await workersLook(lost);
    await stillHeld(held);
    clock.set(iso('2027-11-08T23:00Z'));
    await sentOnceAfter(held, '2027-11-08T23:00Z');
  });

  it('reads changed preferences at the next look: the held send goes at the end it was given, or waits longer', async () => {
    const lifted = await person('lifted', 'Europe/Berlin');
    const extended = await person('extended', 'Europe/Berlin');
    clock.set(iso('2027-11-09T21:30Z')); // 22:30 CET
    const [fromLifted, fromExtended] = [await nightly(lifted, 1), await nightly(extended, 1)];
    for (const id of [fromLifted, fromExtended]) await heldUntil(id, 'Europe/Berlin', '2027-11-10T08:00+01:00');
    await setPreferences(lifted, {});
    await setPreferences(extended, { quietHours: { start: '22:00', end: '09:00' } });
    // Removing quiet hours does not release a held send early: it waits for the end it was given.
    clock.set(iso('2027-11-09T22:30Z'));
    await workersLook(lifted);
    await stillHeld([fromLifted, fromExtended]);
    clock.set(iso('2027-11-10T07:00Z')); // 08:00 CET
    await sentOnceAfter([fromLifted], '2027-11-10T07:00Z');
    // Quiet hours that now end later hold it again, still with no attempt.
    await heldUntil(fromExtended, 'Europe/Berlin', '2027-11-10T09:00+01:00', '22:00–09:00');
    clock.set(iso('2027-11-10T08:00Z'));
    await sentOnceAfter([fromExtended], '2027-11-10T08:00Z');
  });
});
