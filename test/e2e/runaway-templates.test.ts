import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Nested loops over a ten-item list: 10^levels turns, none charged to Liquid's memory limit (a
 * range would be). Liquid checks its time limit between them and stops the render.
 */
const loops = (levels: number) =>
  '{% assign ten = "0,1,2,3,4,5,6,7,8,9" | split: "," %}' +
  Array.from({ length: levels }, (_, i) => `{% for l${i} in ten %}`).join('') +
  '.' +
  '{% endfor %}'.repeat(levels);
/** 10^8 turns: seconds at least, so it always meets a 100 ms limit. */
const HITS_THE_LIMIT = loops(8);
/**
 * One filter call that sorts four million numbers: Liquid checks its limit only between template
 * nodes, so this runs for seconds past it (measured on liquidjs 10.30) unless its thread is ended.
 */
const IGNORES_THE_LIMIT = '{% assign sorted = (1..4000000) | sort %}{{ sorted | first }}';
/** 10^10 turns: hours. */
const ENDLESS = loops(10);

const email = (html: string) => ({ steps: [{ type: 'email', subject: 'Subject', html }] });

/** The value of a metric sample (`name{labels}`) in a /metrics answer, or undefined. */
async function metric(h: TestHerald, sample: string): Promise<number | undefined> {
  const res = await call(h.url + '/metrics', 'GET');
  const line = res.text.split('\n').find((l) => l.startsWith(sample + ' '));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

async function trigger(
  h: TestHerald,
  key: string,
  to: unknown[],
): Promise<{ triggerId: string; messageIds: string[] }> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, { to });
  expect(res.status).toBe(202);
  return res.body;
}

/** Every message of a trigger, from the delivery log, one page at a time. */
async function messagesOf(h: TestHerald, triggerId: string): Promise<any[]> {
  const all: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.api(
      'GET',
      `/v1/messages?triggerId=${triggerId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(page.status).toBe(200);
    all.push(...page.body.items);
    cursor = page.body.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

const recipients = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ subscriberId: `${prefix}-${i}`, email: `${prefix}-${i}@example.com` }));

describe('runaway templates, with a 100 ms render limit', () => {
  let h: TestHerald;
  beforeAll(async () => {
    h = await startTestHerald({ 'render-timeout': '100ms' });
    for (const [key, html] of [
      ['loops', HITS_THE_LIMIT],
      ['sorts', IGNORES_THE_LIMIT],
      ['welcome', 'Hello {{ subscriber.subscriberId }}'],
    ]) {
      expect((await h.api('PUT', `/v1/workflows/${key}`, email(html!))).status).toBe(200);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it(
    'fails every message of a runaway template sent to 1,000 recipients, at once and with the reason',
    { timeout: 180_000 },
    async () => {
      const loops = await trigger(h, 'loops', recipients('loops', 1000));
      const sorts = await trigger(h, 'sorts', recipients('sorts', 200));
      const welcome = await trigger(h, 'welcome', recipients('welcome', 20));

      // Another workflow's messages, accepted behind 1,200 runaway ones, go out.
      const delivered = await waitFor(
        async () => {
          const messages = await messagesOf(h, welcome.triggerId);
          return messages.every((m) => m.status === 'sent') ? messages : undefined;
        },
        { timeoutMs: 120_000, what: 'the welcome messages to be sent' },
      );
      expect(delivered).toHaveLength(20);
      expect((await call(h.url + '/healthz', 'GET')).status).toBe(200);

      await waitFor(
        async () => ((await metric(h, 'herald_messages_total{channel="email",status="failed"}')) ?? 0) >= 1200,
        {
          timeoutMs: 120_000,
          what: 'every runaway message to fail',
        },
      );
      for (const { triggerId, messageIds } of [loops, sorts]) {
        const messages = await messagesOf(h, triggerId);
        expect(messages).toHaveLength(messageIds.length);
        for (const message of messages) {
          expect(message.status).toBe('failed');
          // Failed at the first attempt: no retry schedule spent on a template that runs away.
          expect(message.attemptCount).toBe(0);
          expect(message.reason).toMatch(/^template render failed: (render time limit exceeded|not rendered: )/);
        }
      }
      const reasons = async (triggerId: string) => new Set((await messagesOf(h, triggerId)).map((m) => m.reason));
      const stopped = /^template render failed: render time limit exceeded: stopped after \d+ ms/;
      // At least 3: renders running side by side may overrun together before the next is refused.
      const refused =
        /^template render failed: not rendered: this step's template ran past the render limit for [3-9]\d* other recipients of this trigger$/;
      // A few renders ran to the limit (Liquid stops the loops itself, the sort only by ending its
      // thread); then the rest of each trigger was not rendered at all.
      for (const trigger of [loops, sorts]) {
        const seen = [...(await reasons(trigger.triggerId))];
        expect(seen).toContainEqual(expect.stringMatching(stopped));
        expect(seen).toContainEqual(expect.stringMatching(refused));
      }
      expect(await metric(h, 'herald_render_overruns_total{how="stopped"}')).toBeGreaterThanOrEqual(3);
      // Ended threads were replaced.
      await waitFor(async () => (await metric(h, 'herald_render_threads')) === 2, { what: 'two render threads' });

      const mail = await h.api('GET', '/v1/dev/mail?limit=100');
      expect(mail.body.items.filter((m: any) => /^(loops|sorts)-/.test(m.to))).toEqual([]);
    },
  );

  it("fails a runaway workflow version's messages at once after ten overruns, whichever trigger sent them", async () => {
    expect((await h.api('PUT', '/v1/workflows/loops-each', email(HITS_THE_LIMIT))).status).toBe(200);
    // One trigger per recipient, as an application sending one notification per event would.
    const triggers: { triggerId: string }[] = [];
    for (const to of recipients('each', 60)) triggers.push(await trigger(h, 'loops-each', [to]));
    const welcome = await trigger(h, 'welcome', recipients('after-each', 5));

    const messages = await waitFor(
      async () => {
        const all = (await Promise.all(triggers.map((t) => messagesOf(h, t.triggerId)))).flat();
        return all.every((m) => m.status === 'failed') ? all : undefined;
      },
      { timeoutMs: 60_000, what: 'every loops-each message to fail' },
    );
    const reasons = messages.map((m) => m.reason);
    const refused = reasons.filter((r) => r.includes("this workflow version's step ran past the render limit"));
    // At most the ten that opened the rule, and those already waiting for a thread, were rendered.
    expect(refused.length).toBeGreaterThanOrEqual(60 - 10 - 32);
    expect(refused[0]).toMatch(
      /^template render failed: not rendered: this workflow version's step ran past the render limit \d+ times in a row; it is tried again in \d+ s \(a saved fix is a new version, tried at once\)$/,
    );
    for (const reason of reasons) {
      expect(reason).toMatch(/^template render failed: (render time limit exceeded: stopped after|not rendered: )/);
    }
    await waitFor(async () => (await messagesOf(h, welcome.triggerId)).every((m) => m.status === 'sent'), {
      what: 'the welcome messages to be sent',
    });

    // A fix is a new version: it renders at once.
    expect((await h.api('PUT', '/v1/workflows/loops-each', email('Fixed'))).status).toBe(200);
    const fixed = await trigger(h, 'loops-each', recipients('fixed', 1));
    await waitFor(async () => (await messagesOf(h, fixed.triggerId))[0]?.status === 'sent', {
      what: 'the fixed version to be sent',
    });
  });

  it('renders again, elsewhere, what was sent to a thread with a render that had to be stopped', async () => {
    const html =
      `{% if subscriber.data.sorts %}${IGNORES_THE_LIMIT}{% endif %}` +
      `{% if subscriber.data.loops %}${HITS_THE_LIMIT}{% endif %}` +
      'Hello {{ subscriber.subscriberId }}';
    expect((await h.api('PUT', '/v1/workflows/mixed', email(html))).status).toBe(200);
    const to = recipients('mixed', 30).map((r, i) => ({
      ...r,
      data: { sorts: i === 4, loops: i === 20 },
    }));
    const stoppedBefore = (await metric(h, 'herald_render_overruns_total{how="stopped"}')) ?? 0;
    // One trigger: its 30 renders are claimed together and sent to the threads in one or two messages.
    const { triggerId } = await trigger(h, 'mixed', to);
    const messages = await waitFor(
      async () => {
        const all = await messagesOf(h, triggerId);
        return all.every((m) => m.status === 'sent' || m.status === 'failed') ? all : undefined;
      },
      { timeoutMs: 60_000, what: 'the mixed messages to finish' },
    );
    const bySubscriber = new Map(messages.map((m) => [m.subscriberId, m]));
    expect(bySubscriber.get('mixed-4')).toMatchObject({ status: 'failed' });
    expect(bySubscriber.get('mixed-4').reason).toMatch(/^template render failed: .*\(its render thread was ended\)$/);
    expect(bySubscriber.get('mixed-20')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^template render failed: render time limit exceeded: stopped after \d+ ms/),
    });
    const others = messages.filter((m) => !['mixed-4', 'mixed-20'].includes(m.subscriberId));
    expect(others).toHaveLength(28);
    for (const message of others) expect(message).toMatchObject({ status: 'sent', reason: null });
    // The sort was stopped by ending its thread (the loops, by Liquid itself unless the machine is
    // so busy that the thread is ended first).
    expect(await metric(h, 'herald_render_overruns_total{how="stopped"}')).toBeGreaterThanOrEqual(stoppedBefore + 1);

    const mail = await h.api('GET', '/v1/dev/mail?limit=100');
    const sent = mail.body.items.filter((m: any) => m.to.startsWith('mixed-'));
    expect(sent).toHaveLength(28);
    for (const m of sent) expect(m.html).toBe(`Hello ${m.to.split('@')[0]}`);
  });
});

describe('while a runaway render runs', () => {
  let h: TestHerald;
  beforeAll(async () => {
    // A long limit: the render below runs for all of it, a whole minute of one render thread.
    h = await startTestHerald({ 'render-timeout': '60s', 'shutdown-timeout': '100ms' });
    expect((await h.api('PUT', '/v1/workflows/endless', email(ENDLESS))).status).toBe(200);
    expect((await h.api('PUT', '/v1/workflows/welcome', email('Hello {{ subscriber.subscriberId }}'))).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers /healthz and delivers other messages before that render ends', async () => {
    const endless = await trigger(h, 'endless', recipients('endless', 1));
    // The pool reports when the render under way started (Unix seconds, to the millisecond).
    const startedAt = await waitFor(async () => (await metric(h, 'herald_render_oldest_start_time_seconds')) || 0, {
      what: 'the endless render to start',
    });

    expect((await call(h.url + '/healthz', 'GET')).status).toBe(200);
    const welcome = await trigger(h, 'welcome', recipients('welcome', 3));
    await waitFor(async () => (await messagesOf(h, welcome.triggerId)).every((m) => m.status === 'sent'), {
      what: 'the welcome messages to be sent',
    });

    // The same render is still the one under way: everything above happened while it ran, which
    // could not be if it held the event loop.
    expect(await metric(h, 'herald_render_oldest_start_time_seconds')).toBe(startedAt);
    const [message] = await messagesOf(h, endless.triggerId);
    expect(message.status).toBe('sending');
  });
});
