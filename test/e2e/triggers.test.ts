import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald(); // no smtp-url: email goes to the dev mailbox
  await h.api('PUT', '/v1/workflows/one-step', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
  await h.api('PUT', '/v1/workflows/two-steps', {
    steps: [
      { type: 'email', subject: 'First', text: 'one' },
      { type: 'email', subject: 'Second', html: '<p>two</p>' },
    ],
  });
});
afterAll(async () => {
  await h.close();
});

const trigger = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  h.api('POST', `/v1/workflows/${key}/trigger`, body, headers);

/** Every message of a trigger, from the delivery log. */
async function messagesOf(triggerId: string): Promise<any[]> {
  const res = await h.api('GET', `/v1/messages?triggerId=${triggerId}&limit=100`);
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  return res.body.items;
}

let unique = 0;
const uniqueId = (prefix: string) => `${prefix}-${++unique}`;

/** A new subscriber, created through the API; a bare id in `to` must name one. */
async function subscriber(prefix: string, fields: object = {}): Promise<string> {
  const id = uniqueId(prefix);
  expect((await h.api('PUT', `/v1/subscribers/${id}`, fields)).status).toBe(200);
  return id;
}

/** The end of the message log: moves only when a trigger commits. */
const logHead = async (): Promise<number> => (await h.api('GET', '/v1/messages?since=now')).body.nextSince;

describe('POST /v1/workflows/{key}/trigger', () => {
  it('answers 202 with the trigger id and one message id per recipient', async () => {
    const res = await trigger('one-step', { to: { subscriberId: uniqueId('plain') }, data: { any: ['json', 1] } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      triggerId: expect.stringMatching(/^trg_/),
      messageIds: [expect.stringMatching(/^msg_/)],
    });
    const messages = await messagesOf(res.body.triggerId);
    expect(messages.map((m) => m.id)).toEqual(res.body.messageIds);
    expect(messages[0]).toMatchObject({ workflowKey: 'one-step', channel: 'email', stepIndex: 0 });
  });

  it('accepts `to` as the subscriberId of an existing subscriber, leaving them as they are', async () => {
    const id = await subscriber('by-string', { email: 'kept@example.com', name: 'Kept' });
    const before = (await h.api('GET', `/v1/subscribers/${id}`)).body;
    expect((await trigger('one-step', { to: id })).status).toBe(202);
    expect((await h.api('GET', `/v1/subscribers/${id}`)).body).toEqual(before);
  });

  it('upserts an inline subscriber object, merging with the stored fields', async () => {
    const id = uniqueId('inline');
    await h.api('PUT', `/v1/subscribers/${id}`, { email: 'old@example.com', name: 'Kept Name', data: { tier: 1 } });
    const res = await trigger('one-step', { to: { subscriberId: id, email: 'new@example.com' } });
    expect(res.status).toBe(202);
    const subscriber = await h.api('GET', `/v1/subscribers/${id}`);
    expect(subscriber.body).toMatchObject({ email: 'new@example.com', name: 'Kept Name', data: { tier: 1 } });

    const fresh = uniqueId('inline-new');
    expect((await trigger('one-step', { to: { subscriberId: fresh, name: 'Fresh' } })).status).toBe(202);
    expect((await h.api('GET', `/v1/subscribers/${fresh}`)).body).toMatchObject({ name: 'Fresh', email: null });
  });

  it('accepts an array mixing strings and objects', async () => {
    const [a, b, c] = [await subscriber('mixed'), uniqueId('mixed'), await subscriber('mixed')];
    const res = await trigger('one-step', { to: [a, { subscriberId: b, email: `${b}@example.com` }, c] });
    expect(res.status).toBe(202);
    expect(res.body.messageIds).toHaveLength(3);
    const messages = await messagesOf(res.body.triggerId);
    expect(messages.map((m) => m.subscriberId).sort()).toEqual([a, b, c].sort());
  });

  it('sends one message per step to a subscriber named several times', async () => {
    const id = uniqueId('dup');
    const res = await trigger('two-steps', {
      to: [id, { subscriberId: id, email: `${id}@example.com` }, id, { subscriberId: id, name: 'Dup' }],
    });
    expect(res.status).toBe(202);
    expect(res.body.messageIds).toHaveLength(2);
    const messages = await messagesOf(res.body.triggerId);
    expect(messages.map((m) => [m.subscriberId, m.stepIndex]).sort()).toEqual([
      [id, 0],
      [id, 1],
    ]);
    // The fields given in several entries merge.
    expect((await h.api('GET', `/v1/subscribers/${id}`)).body).toMatchObject({
      email: `${id}@example.com`,
      name: 'Dup',
    });
  });

  it('creates one message per step and recipient for a multi-step workflow, and delivers them', async () => {
    const [a, b] = [uniqueId('multi'), uniqueId('multi')];
    const res = await trigger('two-steps', {
      to: [
        { subscriberId: a, email: `${a}@example.com` },
        { subscriberId: b, email: `${b}@example.com` },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.messageIds).toHaveLength(4);
    const sent = await waitFor(
      async () => {
        const messages = await messagesOf(res.body.triggerId);
        return messages.every((m) => m.status === 'sent') ? messages : undefined;
      },
      { what: 'all four messages to be sent' },
    );
    expect(sent.map((m) => `${m.subscriberId}/${m.stepIndex}/${m.subject}`).sort()).toEqual(
      [`${a}/0/First`, `${a}/1/Second`, `${b}/0/First`, `${b}/1/Second`].sort(),
    );
  });

  it('accepts 1,000 recipients and refuses 1,001', async () => {
    const recipients = (n: number) => Array.from({ length: n }, (_, i) => ({ subscriberId: `bulk-${i}` }));
    const accepted = await trigger('one-step', { to: recipients(1000) });
    expect(accepted.status).toBe(202);
    expect(new Set(accepted.body.messageIds).size).toBe(1000);

    const refused = await trigger('one-step', { to: recipients(1001) });
    expectProblem(refused, 422, 'VALIDATION_FAILED');
    expect(refused.body.errors.map((e: any) => e.path)).toContain('/to');
  });

  it('answers 404 WORKFLOW_NOT_FOUND for an unknown workflow', async () => {
    const res = await trigger('no-such-workflow', { to: 'someone' });
    expectProblem(res, 404, 'WORKFLOW_NOT_FOUND');
  });

  it('skips a recipient without an email address, with a reason', async () => {
    const res = await trigger('one-step', { to: await subscriber('no-email') });
    const message = await waitFor(
      async () => {
        const m = await h.api('GET', `/v1/messages/${res.body.messageIds[0]}`);
        return m.body.status === 'skipped' ? m.body : undefined;
      },
      { what: 'the message to be skipped' },
    );
    expect(message.reason).toMatch(/no email/);
    expect(message.attempts).toEqual([]);
  });
});

describe('recipients that name no subscriber', () => {
  it('refuses bare ids of no subscriber with 422 listing them, and commits nothing of the trigger', async () => {
    const known = await subscriber('known', { email: 'known@example.com' });
    const [ghost1, ghost2, inline] = [uniqueId('ghost'), uniqueId('ghost'), uniqueId('inline')];
    const head = await logHead();
    const res = await trigger('one-step', {
      to: [known, ghost1, { subscriberId: inline, email: 'inline@example.com' }, ghost2, ghost1],
    });
    expectProblem(res, 422, 'UNKNOWN_SUBSCRIBERS');
    expect(res.body.errors).toEqual([
      { path: '/to', message: `no subscriber "${ghost1}"` },
      { path: '/to', message: `no subscriber "${ghost2}"` },
    ]);
    expect(res.body.detail).toContain(`No subscriber "${ghost1}", "${ghost2}"; nothing was sent.`);
    expect(res.body.detail).toContain('PUT /v1/subscribers/{subscriberId}');
    // Not the known one's message, not the inline subscriber, not the unknown ones.
    expect(await logHead()).toBe(head);
    expect((await h.api('GET', `/v1/messages?subscriberId=${known}`)).body.items).toEqual([]);
    for (const id of [inline, ghost1, ghost2]) expect((await h.api('GET', `/v1/subscribers/${id}`)).status).toBe(404);
  });

  it('creates subscribers named as objects, with or without fields', async () => {
    const [bare, withFields] = [uniqueId('object'), uniqueId('object')];
    const res = await trigger('one-step', { to: [{ subscriberId: bare }, { subscriberId: withFields, name: 'N' }] });
    expect(res.status).toBe(202);
    expect((await h.api('GET', `/v1/subscribers/${bare}`)).body).toMatchObject({ subscriberId: bare, name: null });
    expect((await h.api('GET', `/v1/subscribers/${withFields}`)).body).toMatchObject({ name: 'N' });
  });

  it('checks 1,000 bare ids at once and names every unknown one', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `many-${i}`);
    const created = await trigger('one-step', { to: ids.slice(0, 400).map((subscriberId) => ({ subscriberId })) });
    expect(created.status).toBe(202);
    const res = await trigger('one-step', { to: ids });
    expectProblem(res, 422, 'UNKNOWN_SUBSCRIBERS');
    expect(res.body.errors.map((e: any) => e.message)).toEqual(ids.slice(400).map((id) => `no subscriber "${id}"`));
    expect(res.body.detail).toMatch(/^No subscriber "many-400", .*"many-409" and 590 more; nothing was sent/);
    const known = await trigger('one-step', { to: ids.slice(0, 400) });
    expect(known.status).toBe(202);
    expect(known.body.messageIds).toHaveLength(400);
  });

  it('does not hold the Idempotency-Key of a refused trigger', async () => {
    const key = uniqueId('idem-unknown');
    const id = uniqueId('later');
    expectProblem(await trigger('one-step', { to: id }, { 'idempotency-key': key }), 422, 'UNKNOWN_SUBSCRIBERS');
    await h.api('PUT', `/v1/subscribers/${id}`, { email: 'later@example.com' });
    const res = await trigger('one-step', { to: id }, { 'idempotency-key': key });
    expect(res.status).toBe(202);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('never brings back a subscriber deleted while a trigger names them', async () => {
    for (let round = 0; round < 15; round++) {
      const id = await subscriber('deleted', { email: 'gone@example.com' });
      const [res, deleted] = await Promise.all([
        trigger('one-step', { to: id }),
        h.api('DELETE', `/v1/subscribers/${id}`),
      ]);
      expect(deleted.status).toBe(204);
      // Refused if the deletion came first; otherwise accepted, and the message resolved at send time.
      expect([202, 422], res.text).toContain(res.status);
      expect((await h.api('GET', `/v1/subscribers/${id}`)).status, `round ${round}`).toBe(404);
      if (res.status === 202) {
        const message = await waitFor(async () => {
          const m = (await h.api('GET', `/v1/messages/${res.body.messageIds[0]}`)).body;
          return ['sent', 'skipped'].includes(m.status) ? m : undefined;
        });
        if (message.status === 'skipped') expect(message.reason).toBe('subscriber was deleted');
      }
      expect((await h.api('GET', `/v1/subscribers/${id}`)).status).toBe(404);
    }
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, sending nothing new', async () => {
    const key = uniqueId('idem-replay');
    const body = { to: [await subscriber('idem'), await subscriber('idem')], data: { n: 1 } };
    const first = await trigger('one-step', body, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const second = await trigger('one-step', body, { 'idempotency-key': key });
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect((await messagesOf(first.body.triggerId)).map((m) => m.id).sort()).toEqual([...first.body.messageIds].sort());
  });

  it('treats a body with its keys in another order as the same body', async () => {
    const key = uniqueId('idem-order');
    const to = await subscriber('idem');
    const first = await trigger('one-step', { to, data: { a: 1, b: { c: 2, d: 3 } } }, { 'idempotency-key': key });
    const second = await trigger('one-step', { data: { b: { d: 3, c: 2 }, a: 1 }, to }, { 'idempotency-key': key });
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
  });

  it('refuses the same key with a different body', async () => {
    const key = uniqueId('idem-reuse');
    const to = await subscriber('idem');
    expect((await trigger('one-step', { to }, { 'idempotency-key': key })).status).toBe(202);
    const res = await trigger('one-step', { to, data: { changed: true } }, { 'idempotency-key': key });
    expectProblem(res, 422, 'IDEMPOTENCY_KEY_REUSED');
    const otherWorkflow = await trigger('two-steps', { to }, { 'idempotency-key': key });
    expectProblem(otherWorkflow, 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('accepts exactly one of 20 concurrent requests with the same key and body', async () => {
    const key = uniqueId('idem-race');
    const body = { to: [{ subscriberId: uniqueId('race') }, { subscriberId: uniqueId('race') }] };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => trigger('one-step', body, { 'idempotency-key': key })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    const triggerIds = new Set(answers.map((a) => a.body.triggerId));
    expect(triggerIds.size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    const [triggerId] = [...triggerIds];
    expect(await messagesOf(triggerId!)).toHaveLength(2);
    for (const answer of answers) expect(answer.body).toEqual(answers[0]!.body);
  });

  it('does not hold a key when the first request was refused', async () => {
    const key = uniqueId('idem-after-404');
    expectProblem(await trigger('not-yet', { to: 'x' }, { 'idempotency-key': key }), 404);
    await h.api('PUT', '/v1/workflows/not-yet', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
    const res = await trigger('not-yet', { to: { subscriberId: 'x' } }, { 'idempotency-key': key });
    expect(res.status).toBe(202);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('refuses a key longer than 255 characters with 400', async () => {
    const res = await trigger('one-step', { to: 'x' }, { 'idempotency-key': 'k'.repeat(256) });
    expectProblem(res, 400);
    const longest = await trigger(
      'one-step',
      { to: { subscriberId: 'x' } },
      { 'idempotency-key': uniqueId('k'.repeat(240)) },
    );
    expect(longest.status).toBe(202);
  });
});

describe('validation errors name the fix', () => {
  const errorsOf = async (body: unknown) => {
    const res = await trigger('one-step', body);
    expectProblem(res, 422, 'VALIDATION_FAILED');
    return res.body.errors;
  };

  it('answers a `to` of no accepted shape with one error saying what is accepted', async () => {
    const expected =
      'must be a subscriberId, an object with a subscriberId, {"topic": key}, or an array of up to 1000 of these';
    for (const to of [5, null, true]) expect(await errorsOf({ to })).toEqual([{ path: '/to', message: expected }]);
  });

  it("answers a recipient of an accepted shape with that shape's errors", async () => {
    expect(await errorsOf({ to: [{ email: 'ada@example.com' }, 7, 'tab\there'] })).toEqual([
      { path: '/to/0/subscriberId', message: 'is required' },
      { path: '/to/1', message: 'must be a subscriberId, an object with a subscriberId, or {"topic": key}' },
      { path: '/to/2', message: 'must be text without control characters' },
    ]);
    expect(await errorsOf({ to: { subscriberId: 'ada', email: 'nope', locale: 5, phone: 'call me' } })).toEqual([
      { path: '/to/email', message: 'must be an email address' },
      { path: '/to/phone', message: 'must be a phone number: digits, spaces and ( ) . / -, with an optional +' },
      { path: '/to/locale', message: 'must be a locale such as en or pt-BR, or null' },
    ]);
    // An object answers for the shape whose fields it uses.
    expect(await errorsOf({ to: [{ topic: 'no spaces' }, { subscriberId: 'ada', topic: 'x' }] })).toEqual([
      {
        path: '/to/0/topic',
        message: 'must be up to 100 letters, digits, ".", "_" or "-", starting with a letter or digit',
      },
      { path: '/to/1/topic', message: expect.stringMatching(/^is not a known field; known fields: subscriberId, /) },
    ]);
    expect(await errorsOf({ to: [] })).toEqual([{ path: '/to', message: 'must have at least 1 item' }]);
    expect(await errorsOf({ to: 'ada', data: [1] })).toEqual([{ path: '/data', message: 'must be an object' }]);
  });
});
