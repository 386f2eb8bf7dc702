import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

let h: TestHerald;
/** Message ids of every trigger made in beforeAll, oldest trigger first. */
const triggers: { triggerId: string; messageIds: string[] }[] = [];

beforeAll(async () => {
  h = await startTestHerald(); // no smtp-url: email goes to the dev mailbox
  await h.api('PUT', '/v1/workflows/log', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
  await h.api('PUT', '/v1/workflows/log-broken', {
    // Parses, but exceeds the render limits at send time.
    steps: [
      {
        type: 'email',
        subject: 'Hi',
        text: '{% for i in (1..1000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}',
      },
    ],
  });
  // Two channels, for ?channel=: an email and an inbox item per recipient.
  await h.api('PUT', '/v1/workflows/log-multi', {
    steps: [
      { type: 'email', subject: 'Hi', text: 'Hello' },
      { type: 'in_app', body: 'Hello' },
    ],
  });
  const bodies: [string, unknown][] = [
    ['log', { to: { subscriberId: 'alice', email: 'alice@example.com' } }],
    ['log', { to: [{ subscriberId: 'bob' }, { subscriberId: 'carol', email: 'carol@example.com' }] }],
    ['log-broken', { to: 'alice' }], // render fails
    ['log-multi', { to: [{ subscriberId: 'erin', email: 'erin@example.com' }, { subscriberId: 'frank' }] }], // frank: no email
    ['log', { to: ['alice', 'bob', 'carol', { subscriberId: 'dave' }] }], // bob and dave have no email: skipped
    ['log', { to: 'carol' }],
  ];
  for (const [key, body] of bodies) {
    const res = await h.api('POST', `/v1/workflows/${key}/trigger`, body);
    expect(res.status).toBe(202);
    triggers.push(res.body);
    // The next trigger gets a later millisecond, so "newest first" has one right answer.
    const { createdAt } = (await h.api('GET', `/v1/messages/${res.body.messageIds[0]}`)).body;
    await waitFor(() => Date.now() > createdAt);
  }
  await waitFor(
    async () => {
      const res = await h.api('GET', '/v1/messages?limit=100');
      return res.body.items.every((m: any) => ['sent', 'failed', 'skipped'].includes(m.status));
    },
    { what: 'every message to finish' },
  );
});
afterAll(async () => {
  await h.close();
});

const allMessageIds = () => triggers.flatMap((t) => t.messageIds);

/** Follows nextCursor from the first page to the last. */
async function walk(query: string, limit: number): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await h.api('GET', `/v1/messages?limit=${limit}${query}${page}`);
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) return items;
  }
  throw new Error('pagination did not end');
}

describe('GET /v1/messages', () => {
  it('lists every message, newest first', async () => {
    const res = await h.api('GET', '/v1/messages');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const items: any[] = res.body.items;
    expect(items.map((m) => m.id).sort()).toEqual(allMessageIds().sort());
    const triggerOrder = [...new Set(items.map((m) => m.triggerId))];
    expect(triggerOrder).toEqual(triggers.map((t) => t.triggerId).reverse());
    const createdAt = items.map((m) => m.createdAt);
    expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
  });

  it('filters by trigger, subscriber and status', async () => {
    const byTrigger = await h.api('GET', `/v1/messages?triggerId=${triggers[1]!.triggerId}`);
    expect(byTrigger.body.items.map((m: any) => m.id).sort()).toEqual([...triggers[1]!.messageIds].sort());

    const bySubscriber = await h.api('GET', '/v1/messages?subscriberId=alice');
    expect(bySubscriber.body.items).toHaveLength(3);
    expect(bySubscriber.body.items.every((m: any) => m.subscriberId === 'alice')).toBe(true);

    const skipped = await h.api('GET', '/v1/messages?status=skipped');
    expect(skipped.body.items.map((m: any) => m.subscriberId).sort()).toEqual(['bob', 'bob', 'dave', 'frank']);
    const failed = await h.api('GET', '/v1/messages?status=failed');
    expect(failed.body.items.map((m: any) => m.id)).toEqual(triggers[2]!.messageIds);
    expect(failed.body.items[0].reason).toMatch(/^template render failed/);

    const combined = await h.api('GET', '/v1/messages?subscriberId=carol&status=sent');
    expect(combined.body.items).toHaveLength(3);
    const none = await h.api('GET', '/v1/messages?subscriberId=nobody');
    expect(none.body).toEqual({ items: [], nextCursor: null });
  });

  it('walks every message once with limit and cursor', async () => {
    for (const limit of [1, 2, 3, 100]) {
      const items = await walk('', limit);
      const ids = items.map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(allMessageIds().sort());
    }
    const carol = await walk('&subscriberId=carol', 1);
    expect(carol.map((m) => m.subscriberId)).toEqual(['carol', 'carol', 'carol']);
  });

  it.each(['status=bogus', 'limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'unknown=1'])(
    'answers 400 for ?%s',
    async (query) => {
      expectProblem(await h.api('GET', `/v1/messages?${query}`), 400, 'INVALID_REQUEST');
    },
  );
});

describe('GET /v1/messages?workflow=&channel=', () => {
  /** Every message, newest first: what each filtered list must be a subsequence of. */
  const everyMessage = async (): Promise<any[]> => (await h.api('GET', '/v1/messages?limit=100')).body.items;
  const ids = (items: any[]) => items.map((m) => m.id);
  const list = async (query: string): Promise<any[]> => {
    const res = await h.api('GET', `/v1/messages?${query}`);
    expect(res.status).toBe(200);
    return res.body.items;
  };

  it('filters by workflow key, newest first', async () => {
    const all = await everyMessage();
    for (const key of ['log', 'log-broken', 'log-multi']) {
      const items = await list(`workflow=${key}`);
      expect(ids(items)).toEqual(ids(all.filter((m) => m.workflowKey === key)));
    }
    expect((await list('workflow=log-multi')).map((m) => m.id).sort()).toEqual([...triggers[3]!.messageIds].sort());
    expect(await list('workflow=nothing-here')).toEqual([]);
  });

  it('filters by channel, newest first', async () => {
    const all = await everyMessage();
    const inApp = await list('channel=in_app');
    expect(inApp.map((m) => m.subscriberId).sort()).toEqual(['erin', 'frank']);
    expect(ids(inApp)).toEqual(ids(all.filter((m) => m.channel === 'in_app')));
    expect(ids(await list('channel=email'))).toEqual(ids(all.filter((m) => m.channel === 'email')));
    for (const channel of ['sms', 'push', 'chat', 'webhook']) expect(await list(`channel=${channel}`)).toEqual([]);
  });

  it('combines with status', async () => {
    const subscribers = async (query: string) => (await list(query)).map((m) => m.subscriberId).sort();
    expect(await subscribers('workflow=log&status=skipped')).toEqual(['bob', 'bob', 'dave']);
    expect(await subscribers('workflow=log-multi&status=skipped')).toEqual(['frank']);
    expect(ids(await list('workflow=log-broken&status=failed'))).toEqual(triggers[2]!.messageIds);
    expect(await list('workflow=log-broken&status=sent')).toEqual([]);
    expect(await subscribers('channel=email&status=skipped')).toEqual(['bob', 'bob', 'dave', 'frank']);
    expect(await subscribers('channel=in_app&status=sent')).toEqual(['erin', 'frank']);
    expect(await list('channel=in_app&status=skipped')).toEqual([]);
  });

  it('combines with subscriberId, and with each other', async () => {
    const alice = await list('workflow=log&subscriberId=alice');
    expect(alice).toHaveLength(2);
    expect(alice.every((m) => m.workflowKey === 'log' && m.subscriberId === 'alice')).toBe(true);
    expect(ids(await list('workflow=log-broken&subscriberId=alice'))).toEqual(triggers[2]!.messageIds);
    expect(await list('workflow=log-multi&subscriberId=alice')).toEqual([]);

    const [erinInApp, ...more] = await list('channel=in_app&subscriberId=erin');
    expect(more).toEqual([]);
    expect(erinInApp).toMatchObject({ channel: 'in_app', subscriberId: 'erin', status: 'sent' });
    expect(await list('channel=email&subscriberId=frank')).toEqual([
      expect.objectContaining({ channel: 'email', subscriberId: 'frank', status: 'skipped' }),
    ]);
    expect(await list('channel=in_app&subscriberId=alice')).toEqual([]);

    expect((await list('workflow=log-multi&channel=in_app')).map((m) => m.subscriberId).sort()).toEqual([
      'erin',
      'frank',
    ]);
    expect(await list('workflow=log&channel=in_app')).toEqual([]);
    const everything = `workflow=log-multi&channel=email&status=sent&subscriberId=erin&triggerId=${triggers[3]!.triggerId}`;
    expect(await list(everything)).toEqual([expect.objectContaining({ subscriberId: 'erin', channel: 'email' })]);
  });

  it('pages across pages with the cursor, each message once, newest first', async () => {
    const all = await everyMessage();
    const cases: [string, (m: any) => boolean][] = [
      ['&workflow=log', (m) => m.workflowKey === 'log'],
      ['&channel=email', (m) => m.channel === 'email'],
      ['&workflow=log&status=sent', (m) => m.workflowKey === 'log' && m.status === 'sent'],
      ['&channel=email&subscriberId=carol', (m) => m.channel === 'email' && m.subscriberId === 'carol'],
    ];
    for (const [query, wanted] of cases) {
      const expected = ids(all.filter(wanted));
      expect(expected.length).toBeGreaterThan(2); // so that limit=1 and 2 make several pages
      for (const limit of [1, 2]) expect(ids(await walk(query, limit))).toEqual(expected);
    }
  });

  it('answers 400 listing the channels for an unknown channel', async () => {
    const res = await h.api('GET', '/v1/messages?channel=fax');
    expectProblem(res, 400, 'INVALID_REQUEST');
    expect(res.body.errors).toEqual([
      { path: '/channel', message: 'must be one of email, sms, push, chat, webhook, in_app' },
    ]);
  });

  it('answers 400 for a workflow key no workflow can have', async () => {
    const res = await h.api('GET', `/v1/messages?workflow=${encodeURIComponent('no spaces')}`);
    expectProblem(res, 400, 'INVALID_REQUEST');
    expect(res.body.errors).toEqual([{ path: '/workflow', message: expect.stringMatching(/letters, digits/) }]);
  });

  it.each([
    ['since=0&workflow=log', /since cannot be combined with workflow:/],
    ['since=now&channel=email', /since cannot be combined with channel:/],
    ['since=3&status=sent&workflow=log&channel=in_app', /since cannot be combined with status, workflow, channel:/],
  ])('answers 400 for ?%s', async (query, detail) => {
    const res = await h.api('GET', `/v1/messages?${query}`);
    expectProblem(res, 400, 'INVALID_REQUEST');
    expect(res.body.detail).toMatch(detail);
  });
});

describe('GET /v1/messages/{id}', () => {
  it('answers 404 for an unknown message', async () => {
    expectProblem(await h.api('GET', '/v1/messages/msg_unknown'), 404, 'MESSAGE_NOT_FOUND');
  });

  it('shows a sent message with its attempt', async () => {
    const res = await h.api('GET', `/v1/messages/${triggers[0]!.messageIds[0]}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'sent',
      recipient: 'alice@example.com',
      subject: 'Hi',
      attemptCount: 1,
      providerMessageId: expect.stringMatching(/^mail_/),
      sentAt: expect.any(Number),
    });
    expect(res.body.attempts).toEqual([
      {
        at: expect.any(Number),
        outcome: 'sent',
        detail: expect.any(String),
        durationMs: expect.any(Number),
        integrationId: null, // no email integration: the dev mailbox
        provider: 'dev-mailbox',
      },
    ]);
    // The rendered bodies are kept with the message: the log says exactly what was sent.
    const mail = (await h.api('GET', '/v1/dev/mail?limit=100')).body.items.find(
      (m: any) => m.messageId === triggers[0]!.messageIds[0],
    );
    expect(res.body.content).toEqual({ html: mail.html, text: mail.text });
  });

  it('lists every attempt in order, retries included', async () => {
    const sink = await startSmtpSink({
      reject: (_id, attempt) => (attempt < 3 ? { code: 451, message: `busy ${attempt}` } : undefined),
    });
    const smtp = await startTestHerald({ 'smtp-url': sink.url, 'retry-schedule': '20ms,20ms,20ms' });
    try {
      await smtp.api('PUT', '/v1/workflows/w', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
      const res = await smtp.api('POST', '/v1/workflows/w/trigger', { to: { subscriberId: 'a', email: 'a@x.org' } });
      const message = await waitFor(
        async () => {
          const m = await smtp.api('GET', `/v1/messages/${res.body.messageIds[0]}`);
          return m.body.status === 'sent' ? m.body : undefined;
        },
        { what: 'the message to be sent after two retries' },
      );
      expect(message.attemptCount).toBe(3);
      expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'retry', 'sent']);
      expect(message.attempts[0].detail).toMatch(/busy 1/);
      expect(message.attempts[1].detail).toMatch(/busy 2/);
      const times = message.attempts.map((a: any) => a.at);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    } finally {
      await smtp.close();
      await sink.close();
    }
  });
});
