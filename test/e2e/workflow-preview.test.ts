import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { rowCounts } from '../support/row-counts.js';
import { waitFor } from '../support/wait-for.js';

// Workflow previews through the public API (POST /v1/workflows/{key}/preview and
// POST /v1/workflows/preview): what each step would do for one subscriber and this data, decided
// by the send path's own rules, with nothing written and nothing sent.

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
  for (const [id, body] of [
    ['ann', { email: 'ann@example.com', name: 'Ann', timezone: 'UTC' }],
    ['bob', { email: 'bob@example.com', name: 'Bob' }],
  ] as const) {
    expect((await h.api('PUT', `/v1/subscribers/${id}`, body)).status).toBe(200);
  }
  const optOut = { categories: { billing: { channels: { email: false } } } };
  expect((await h.api('PUT', '/v1/subscribers/bob/preferences', optOut)).status).toBe(200);
  const saved = await h.api('PUT', '/v1/workflows/order-shipped', SHIPPED);
  expect(saved.status, saved.text).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const SHIPPED = {
  category: 'billing',
  steps: [
    {
      type: 'email',
      ref: 'mail',
      subject: 'Order {{ data.order.id }} shipped',
      html:
        '<p>Hi {{ subscriber.name }}</p>\n' +
        '{% if data.coupon %}<p>{{ data.coupon }}</p>{% endif %}\n' +
        '<p>{{ data.greeting | default: "Thanks" }}</p>\n' +
        '{% for item in data.items %}<li>{{ item.name }}</li>{% endfor %}\n' +
        '<p>{{ data.signature }}</p>',
    },
    { type: 'sms', ref: 'text', text: 'Shipped {{ data.order.id }}' },
    { type: 'delay', for: '1h' },
    { type: 'in_app', ref: 'nudge', if: 'steps.mail.status != "sent"', body: 'Did you get our email?' },
    { type: 'digest', window: '10m', key: '{{ data.order.id }}' },
    { type: 'in_app', ref: 'summary', body: '{{ digest.count }} update(s): {{ digest.events[0].order.id }}' },
    { type: 'throttle', limit: 1, window: '1d' },
  ],
};

async function preview(key: string, body: Record<string, unknown>) {
  const res = await h.api('POST', `/v1/workflows/${key}/preview`, body);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function previewDraft(body: Record<string, unknown>) {
  const res = await h.api('POST', '/v1/workflows/preview', body);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

const stepOf = (result: any, ref: string) => result.steps.find((step: any) => step.ref === ref);

describe('POST /v1/workflows/{key}/preview', () => {
  it('answers each step in order: where it would go, what it renders to, and why a step would not run', async () => {
    const result = await preview('order-shipped', {
      to: 'ann',
      data: { order: { id: 'A1' }, items: [{ name: 'Lamp' }], signature: 'Shop' },
    });
    expect(result.workflow).toEqual({ key: 'order-shipped', name: 'order-shipped', version: 1 });
    expect(result.subscriberId).toBe('ann');
    expect(result.steps.map((step: any) => step.ref)).toEqual([
      'mail',
      'text',
      'delay_3',
      'nudge',
      'digest_5',
      'summary',
      'throttle_7',
    ]);
    const mail = stepOf(result, 'mail');
    expect(mail).toMatchObject({
      type: 'email',
      channel: 'email',
      address: 'ann@example.com',
      via: 'dev-mailbox',
      wouldRun: true,
      warnings: [],
    });
    expect(mail.rendered.subject).toBe('Order A1 shipped');
    expect(mail.rendered.html).toContain('<p>Hi Ann</p>');
    expect(mail.rendered.html).toContain('<li>Lamp</li>');
    expect(mail.rendered.text).toContain('Hi Ann');
    // No phone: the reason the sms message would record.
    expect(stepOf(result, 'text')).toMatchObject({
      channel: 'sms',
      address: null,
      wouldRun: false,
      reason: 'subscriber has no phone number',
      rendered: { text: 'Shipped A1' },
    });
    // Flow control: described, nothing rendered.
    const delay = stepOf(result, 'delay_3');
    expect(delay).toMatchObject({ type: 'delay', wouldRun: true, does: 'waits 1h' });
    expect(delay).not.toHaveProperty('rendered');
    expect(delay).not.toHaveProperty('address');
    // The email would be sent, so a condition on its status is false.
    expect(stepOf(result, 'nudge')).toMatchObject({
      wouldRun: false,
      reason: 'condition not met: steps.mail.status != "sent"',
      address: 'ann',
      rendered: { body: 'Did you get our email?' },
    });
    expect(stepOf(result, 'digest_5')).toMatchObject({ wouldRun: true, does: 'digest window 10m, key "A1"' });
    // After a digest: a digest of this one event.
    expect(stepOf(result, 'summary')).toMatchObject({ wouldRun: true, rendered: { body: '1 update(s): A1' } });
    expect(stepOf(result, 'throttle_7').does).toMatch(/^lets 1 run per 1d through for this recipient/);
    expect(result.warnings).toContain(
      'conditions reading steps.<ref>.status assume that the earlier steps that would run were sent',
    );
  });

  it('warns of the variables its outputs name that the data does not set, not of guarded or defaulted ones', async () => {
    const result = await preview('order-shipped', { to: 'ann', data: {} });
    expect(stepOf(result, 'mail').warnings).toEqual([
      'data.order.id is not set (subject, line 1)',
      'data.signature is not set (html, line 5)',
    ]);
    expect(stepOf(result, 'text').warnings).toEqual(['data.order.id is not set (text, line 1)']);
    expect(stepOf(result, 'summary').warnings).toEqual(['digest.events[0].order.id is not set (body, line 1)']);
    // Rendered all the same, as the send would.
    expect(stepOf(result, 'mail').rendered.subject).toBe('Order  shipped');
  });

  it('skips a step the preferences turn off with the reason a send records, and conditions see it skipped', async () => {
    const result = await preview('order-shipped', { to: 'bob', data: { order: { id: 'B1' } } });
    expect(stepOf(result, 'mail')).toMatchObject({
      wouldRun: false,
      reason: 'email off for category billing',
      address: 'bob@example.com',
    });
    expect(stepOf(result, 'nudge').wouldRun).toBe(true);
    // The same reason as the message of a real trigger records.
    const sent = await h.api('POST', '/v1/workflows/order-shipped/trigger', {
      to: 'bob',
      data: { order: { id: 'B1' } },
    });
    expect(sent.status).toBe(202);
    const [email, sms] = await waitFor(async () => {
      const messages = await Promise.all(
        (sent.body.messageIds as string[])
          .slice(0, 2)
          .map(async (id) => (await h.api('GET', `/v1/messages/${id}`)).body),
      );
      return messages.every((message) => message.status === 'skipped') ? messages : undefined;
    });
    expect(email.reason).toBe(stepOf(result, 'mail').reason);
    expect(sms.reason).toBe(stepOf(result, 'text').reason);
  });

  it('reports quiet hours as a warning: a send now would wait, the step still runs', async () => {
    const now = new Date();
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const quietHours = { start: hhmm(new Date(+now - 3_600_000)), end: hhmm(new Date(+now + 3_600_000)) };
    const result = await preview('order-shipped', {
      subscriber: { subscriberId: 'quiet', email: 'quiet@example.com', timezone: 'UTC', preferences: { quietHours } },
      data: { order: { id: 'Q1' }, signature: 'Shop' },
    });
    const mail = stepOf(result, 'mail');
    expect(mail.wouldRun).toBe(true);
    expect(mail.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^in quiet hours now \\(${quietHours.start}–${quietHours.end} UTC\\): a send now is deferred until `,
        ),
      ),
    ]);
  });

  it('takes the subscriber inline or as a trigger names one, and the locale over theirs', async () => {
    const inline = await preview('order-shipped', {
      subscriber: { email: 'inline@example.com', name: 'Ines', locale: 'de' },
      data: { order: { id: 'I1' } },
    });
    expect(inline.subscriberId).toBe('preview');
    expect(inline.locale).toBe('de');
    expect(stepOf(inline, 'mail')).toMatchObject({ address: 'inline@example.com', wouldRun: true });
    expect(stepOf(inline, 'mail').rendered.html).toContain('Hi Ines');
    // An object over the stored subscriber, as the trigger's upsert would lay it.
    const merged = await preview('order-shipped', {
      to: { subscriberId: 'ann', email: 'ann@work.example' },
      locale: 'fr',
    });
    expect(merged.locale).toBe('fr');
    expect(stepOf(merged, 'mail')).toMatchObject({ address: 'ann@work.example' });
    expect(stepOf(merged, 'mail').rendered.html).toContain('Hi Ann');
    const draft = await previewDraft({
      workflow: { steps: [{ type: 'sms', text: '{{ subscriber.locale }}/{{ workflow.key }}' }] },
      to: 'ann',
      locale: 'pt-BR',
    });
    expect(draft.steps[0].rendered.text).toBe('pt-BR/draft');
  });

  it('refuses a request with both or neither of to and subscriber, an unknown subscriber or workflow', async () => {
    expectProblem(await h.api('POST', '/v1/workflows/order-shipped/preview', { data: {} }), 422, 'VALIDATION_FAILED');
    expectProblem(
      await h.api('POST', '/v1/workflows/order-shipped/preview', { to: 'ann', subscriber: { email: 'x@example.com' } }),
      422,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await h.api('POST', '/v1/workflows/order-shipped/preview', { to: 'nobody' }),
      422,
      'UNKNOWN_SUBSCRIBERS',
    );
    expectProblem(await h.api('POST', '/v1/workflows/no-such/preview', { to: 'ann' }), 404, 'WORKFLOW_NOT_FOUND');
  });

  it('writes nothing and sends nothing', async () => {
    const before = await rowCounts(h);
    const ann = (await h.api('GET', '/v1/subscribers/ann')).body;
    await preview('order-shipped', { to: 'ann', data: { order: { id: 'N1' } } });
    await preview('order-shipped', { to: { subscriberId: 'newcomer', email: 'new@example.com' } });
    await preview('order-shipped', { to: { subscriberId: 'ann', name: 'Changed' } });
    await previewDraft({ workflow: SHIPPED, subscriber: { email: 'draft@example.com' } });
    expect(await rowCounts(h)).toEqual(before);
    expect((await h.api('GET', '/v1/subscribers/ann')).body).toEqual(ann);
    expectProblem(await h.api('GET', '/v1/subscribers/newcomer'), 404);
  });
});

describe('POST /v1/workflows/preview (a draft)', () => {
  const draft = (steps: unknown[]) => ({ workflow: { key: 'vip-offer', category: 'offers', steps }, to: 'ann' });
  const vipEmail = { type: 'email', if: 'data.vip == true', subject: 'For you, {{ subscriber.name }}', text: 'Hi' };

  it('evaluates a condition true or false, and shows the condition that is not met', async () => {
    const yes = await previewDraft({ ...draft([vipEmail]), data: { vip: true } });
    expect(yes.workflow).toEqual({ key: 'vip-offer', name: 'vip-offer', version: null });
    expect(yes.steps[0]).toMatchObject({ ref: 'email_1', wouldRun: true, rendered: { subject: 'For you, Ann' } });
    const no = await previewDraft({ ...draft([vipEmail]), data: { vip: false } });
    expect(no.steps[0]).toMatchObject({ wouldRun: false, reason: 'condition not met: data.vip == true' });
  });

  it('applies the draft’s category to the preferences', async () => {
    const optedOut = await previewDraft({
      workflow: { category: 'billing', steps: [{ type: 'email', subject: 'S', text: 'T' }] },
      to: 'bob',
    });
    expect(optedOut.steps[0]).toMatchObject({ wouldRun: false, reason: 'email off for category billing' });
  });

  it('answers a draft a save would refuse with the same 422, naming the field under /workflow and the line', async () => {
    const broken = { type: 'email', subject: 'Fine', html: '<p>ok</p>\n{% if %}' };
    const res = await h.api('POST', '/v1/workflows/preview', draft([broken]));
    expectProblem(res, 422, 'TEMPLATE_INVALID');
    expect(res.body.errors).toEqual([{ path: '/workflow/steps/0/html', message: expect.stringMatching(/^line 2: /) }]);
    const save = await h.api('PUT', '/v1/workflows/vip-offer', { steps: [broken] });
    expectProblem(save, 422, 'TEMPLATE_INVALID');
    expect(save.body.errors).toEqual([{ ...res.body.errors[0], path: '/steps/0/html' }]);

    const laterRef = await h.api(
      'POST',
      '/v1/workflows/preview',
      draft([
        { ...vipEmail, if: 'steps.later.status == "sent"' },
        { ...vipEmail, ref: 'later' },
      ]),
    );
    expectProblem(laterRef, 422, 'VALIDATION_FAILED');
    expect(laterRef.body.errors[0].path).toBe('/workflow/steps/0/if');
    const missing = await h.api('POST', '/v1/workflows/preview', draft([{ type: 'email', text: 'no subject' }]));
    expectProblem(missing, 422, 'VALIDATION_FAILED');
    expect(missing.body.errors[0].path).toMatch(/^\/workflow\/steps\/0/);
  });

  it('reports a template that fails in its step, not as an error of the request', async () => {
    // JSON can give an object a `toString` that is not a function: escaping it fails.
    const result = await previewDraft({
      ...draft([{ type: 'in_app', body: '{{ data.odd | escape }}' }]),
      data: { odd: { toString: 1 } },
    });
    expect(result.steps[0]).toMatchObject({
      wouldRun: false,
      error: expect.stringMatching(/^Cannot convert object to primitive value/),
      reason: expect.stringMatching(/^template render failed: Cannot convert object/),
    });
  });
});

describe('a runaway template in a draft, with a 100 ms render limit', () => {
  let r: TestHerald;
  beforeAll(async () => {
    r = await startTestHerald({ 'render-timeout': '100ms' });
    expect((await r.api('PUT', '/v1/subscribers/ann', { email: 'ann@example.com' })).status).toBe(200);
  });
  afterAll(async () => {
    await r?.close();
  });

  it('answers the overrun in its step, off the event loop: the API answers meanwhile', async () => {
    // One filter call over four million numbers: Liquid's own limit cannot stop it; ending its
    // render thread does (test/e2e/runaway-templates.test.ts).
    const runaway = '{% assign sorted = (1..4000000) | sort %}{{ sorted | first }}';
    let answered = false;
    const pending = r
      .api('POST', '/v1/workflows/preview', {
        workflow: {
          steps: [
            { type: 'email', subject: 'S', html: runaway },
            { type: 'sms', text: 'after' },
          ],
        },
        to: 'ann',
      })
      .finally(() => (answered = true));
    const health = await call(r.url + '/healthz', 'GET');
    expect(health.status).toBe(200);
    expect(answered).toBe(false);
    const res = await pending;
    expect(res.status, res.text).toBe(200);
    expect(res.body.steps[0]).toMatchObject({
      wouldRun: false,
      error: expect.stringMatching(/^render time limit exceeded/),
      reason: expect.stringMatching(/^template render failed: render time limit exceeded/),
    });
    expect(res.body.steps[1]).toMatchObject({ rendered: { text: 'after' } });
  });
});
