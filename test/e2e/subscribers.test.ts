import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald(); // no smtp-url: email goes to the dev mailbox
});
afterAll(async () => {
  await h.close();
});

describe('PUT /v1/subscribers/{id}', () => {
  it('creates a subscriber and answers it', async () => {
    const res = await h.api('PUT', '/v1/subscribers/create-1', {
      email: 'ada@example.com',
      name: 'Ada',
      phone: '+44 20 7946 0000',
      locale: 'en-GB',
      timezone: 'Europe/London',
      data: { plan: 'pro' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      subscriberId: 'create-1',
      email: 'ada@example.com',
      name: 'Ada',
      phone: '+44 20 7946 0000',
      locale: 'en-GB',
      timezone: 'Europe/London',
      data: { plan: 'pro' },
    });
    const got = await h.api('GET', '/v1/subscribers/create-1');
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('replaces the whole subscriber: fields not given are cleared', async () => {
    await h.api('PUT', '/v1/subscribers/replace-1', { email: 'old@example.com', name: 'Old', data: { a: 1 } });
    const res = await h.api('PUT', '/v1/subscribers/replace-1', { email: 'new@example.com' });
    expect(res.status).toBe(200);
    const got = await h.api('GET', '/v1/subscribers/replace-1');
    expect(got.body).toMatchObject({ email: 'new@example.com', name: null, data: null, phone: null });
    expect(got.body.createdAt).toBeLessThanOrEqual(got.body.updatedAt);
  });

  it('refuses an invalid email with 422 naming /email', async () => {
    const res = await h.api('PUT', '/v1/subscribers/bad-email', { email: 'not an address' });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    expect(res.body.errors.map((e: any) => e.path)).toContain('/email');
    expect((await h.api('GET', '/v1/subscribers/bad-email')).status).toBe(404);
  });

  it('accepts ids up to 255 characters, any script, and refuses longer ones with 400', async () => {
    for (const id of ['a'.repeat(255), '😀'.repeat(255), 'Zoë/ünïcode id']) {
      const path = `/v1/subscribers/${encodeURIComponent(id)}`;
      expect((await h.api('PUT', path, { name: 'Long' })).status).toBe(200);
      expect((await h.api('GET', path)).body.subscriberId).toBe(id);
    }
    const tooLong = await h.api('PUT', `/v1/subscribers/${'a'.repeat(256)}`, { name: 'Long' });
    expectProblem(tooLong, 400, 'INVALID_REQUEST');
  });

  it('refuses an unknown field with 422', async () => {
    const res = await h.api('PUT', '/v1/subscribers/unknown-field', { email: 'a@example.com', nickname: 'A' });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    expect(res.body.errors).toContainEqual({
      path: '/nickname',
      message: 'is not a known field; known fields: email, phone, name, locale, timezone, data, push, chat, webhookUrl',
    });
  });
});

describe('GET and DELETE /v1/subscribers/{id}', () => {
  it('answers 404 for an unknown subscriber', async () => {
    expectProblem(await h.api('GET', '/v1/subscribers/nobody'), 404, 'SUBSCRIBER_NOT_FOUND');
  });

  it('deletes with 204, after which GET answers 404', async () => {
    await h.api('PUT', '/v1/subscribers/delete-1', { email: 'd@example.com' });
    const res = await h.api('DELETE', '/v1/subscribers/delete-1');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectProblem(await h.api('GET', '/v1/subscribers/delete-1'), 404, 'SUBSCRIBER_NOT_FOUND');
  });

  it('answers 404 when deleting an unknown subscriber', async () => {
    expectProblem(await h.api('DELETE', '/v1/subscribers/never-existed'), 404, 'SUBSCRIBER_NOT_FOUND');
  });

  it.each([
    ['an empty body', 'application/json', ''],
    ['no body at all', 'application/json', undefined],
    ['an empty body', 'application/json; charset=utf-8', ''],
  ])('deletes when the client sends %s with Content-Type: %s', async (_name, type, body) => {
    // Clients that set the header on every call must still be able to erase a person.
    const id = `delete-json-${type.length}-${body === undefined}`;
    await h.api('PUT', `/v1/subscribers/${id}`, { email: 'dj@example.com' });
    expect((await h.api('DELETE', `/v1/subscribers/${id}`, body, { 'content-type': type })).status).toBe(204);
    expectProblem(await h.api('GET', `/v1/subscribers/${id}`), 404, 'SUBSCRIBER_NOT_FOUND');
  });

  it('still refuses an empty JSON body where the route needs one, and takes it where the body is optional', async () => {
    const empty = { 'content-type': 'application/json' };
    expectProblem(await h.api('PUT', '/v1/subscribers/empty-body', '', empty), 400, 'INVALID_JSON');
    expectProblem(await h.api('GET', '/v1/subscribers/empty-body'), 404, 'SUBSCRIBER_NOT_FOUND');
    await h.api('PUT', '/v1/subscribers/empty-body', { email: 'eb@example.com' });
    // The inbox token's body is optional: empty means the defaults (one hour).
    const token = await h.api('POST', '/v1/subscribers/empty-body/inbox-token', '', empty);
    expect(token.status).toBe(200);
    expect(token.body.token).toEqual(expect.any(String));
  });
});

describe('deleting a subscriber erases their personal data', () => {
  it('blanks the delivery log and removes captured dev mail', async () => {
    await h.api('PUT', '/v1/workflows/erase-me', {
      steps: [
        { type: 'email', subject: 'Hello {{ subscriber.name }}', html: '<p>Secret for {{ subscriber.email }}</p>' },
      ],
    });
    const trigger = await h.api('POST', '/v1/workflows/erase-me/trigger', {
      to: { subscriberId: 'erase-1', email: 'erase@example.com', name: 'Eve' },
    });
    expect(trigger.status).toBe(202);
    const messageId: string = trigger.body.messageIds[0];
    const sent = await waitFor(
      async () => {
        const m = await h.api('GET', `/v1/messages/${messageId}`);
        return m.body.status === 'sent' ? m.body : undefined;
      },
      { what: 'the message to be sent' },
    );
    expect(sent).toMatchObject({ recipient: 'erase@example.com', subject: 'Hello Eve' });
    const mailBefore = await h.api('GET', '/v1/dev/mail?limit=100');
    expect(mailBefore.body.items.map((m: any) => m.messageId)).toContain(messageId);

    expect((await h.api('DELETE', '/v1/subscribers/erase-1')).status).toBe(204);

    const erased = await h.api('GET', `/v1/messages/${messageId}`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ status: 'sent', recipient: null, subject: null, content: null });
    expect(erased.body.attempts.length).toBeGreaterThan(0);
    for (const attempt of erased.body.attempts) expect(attempt.detail).toBe('[erased]');
    const mailAfter = await h.api('GET', '/v1/dev/mail?limit=100');
    expect(mailAfter.body.items.map((m: any) => m.messageId)).not.toContain(messageId);
    expect(JSON.stringify(mailAfter.body)).not.toContain('erase@example.com');
  });

  it('also erases a message that was being sent when the subscriber was deleted', async () => {
    // An SMTP server that holds each message until released: the send is in flight meanwhile.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let receiving = false;
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          receiving = true;
          void released.then(() => callback());
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as { port: number }).port;
    const own = await startTestHerald({ 'smtp-url': `smtp://127.0.0.1:${port}` });
    try {
      await own.api('PUT', '/v1/workflows/w', {
        steps: [{ type: 'email', subject: 'For {{ subscriber.name }}', text: 'x' }],
      });
      const trigger = await own.api('POST', '/v1/workflows/w/trigger', {
        to: { subscriberId: 'in-flight', email: 'in-flight@example.com', name: 'Ivy' },
      });
      const messageId: string = trigger.body.messageIds[0];
      await waitFor(() => receiving, { what: 'the SMTP server to receive the message' });

      expect((await own.api('DELETE', '/v1/subscribers/in-flight')).status).toBe(204);
      release();

      const message = await waitFor(
        async () => {
          const m = await own.api('GET', `/v1/messages/${messageId}`);
          return m.body.status === 'sent' ? m.body : undefined;
        },
        { what: 'the held message to be sent' },
      );
      expect(message).toMatchObject({ recipient: null, subject: null });
      expect(message.attempts.map((a: any) => a.detail)).toEqual(['[erased]']);
    } finally {
      release();
      await own.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});

describe('GET /v1/subscribers', () => {
  const ids = (res: { body: { items: { subscriberId: string }[] } }) => res.body.items.map((s) => s.subscriberId);

  it('finds subscribers by id prefix, page by page in byte order, and by email prefix without case', async () => {
    for (const [id, email] of [
      ['list-b', 'Zed@Example.com'],
      ['list-a', 'zoe@example.com'],
      ['list-C', null],
      ['list-é', 'zed.two@example.com'],
    ] as const) {
      expect((await h.api('PUT', `/v1/subscribers/${encodeURIComponent(id)}`, { email })).status).toBe(200);
    }
    const first = await h.api('GET', '/v1/subscribers?prefix=list-&limit=2');
    expect(first.status).toBe(200);
    expect(ids(first)).toEqual(['list-C', 'list-a']);
    expect(first.body.items[0]).toMatchObject({ subscriberId: 'list-C', email: null, preferences: null });
    expect(first.body.items[0]).not.toHaveProperty('topics');
    const second = await h.api('GET', `/v1/subscribers?prefix=list-&limit=2&cursor=${first.body.nextCursor}`);
    expect(ids(second)).toEqual(['list-b', 'list-é']);
    expect(second.body.nextCursor).toBeNull();

    // By email, then id: "zed.two@" before "zed@" ('.' before '@').
    const byEmail = await h.api('GET', '/v1/subscribers?email=ZED&limit=1');
    expect(ids(byEmail)).toEqual(['list-é']);
    const next = await h.api('GET', `/v1/subscribers?email=ZED&limit=1&cursor=${byEmail.body.nextCursor}`);
    expect(ids(next)).toEqual(['list-b']);
    expect(next.body.nextCursor).toBeNull();
    expect(ids(await h.api('GET', '/v1/subscribers?email=nobody-has-this'))).toEqual([]);

    // Without a filter: every subscriber, by id.
    const all = await h.api('GET', '/v1/subscribers?limit=100');
    expect(ids(all)).toEqual([...ids(all)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(ids(all)).toEqual(expect.arrayContaining(['list-a', 'list-é']));
  });

  it('refuses prefix with email, a cursor not made by an email search, and bad limits with 400', async () => {
    expectProblem(await h.api('GET', '/v1/subscribers?prefix=a&email=a'), 400, 'INVALID_REQUEST');
    const cursor = await h.api('GET', '/v1/subscribers?email=zed&cursor=list-a');
    expectProblem(cursor, 400, 'INVALID_REQUEST');
    expect(cursor.body.detail).toMatch(/^cursor: /);
    expect((await h.api('GET', '/v1/subscribers?limit=0')).status).toBe(400);
    expect((await h.api('GET', '/v1/subscribers?email=')).status).toBe(400);
    expect((await h.api('GET', '/v1/subscribers?color=red')).status).toBe(400);
  });
});

describe('GET /v1/subscribers/{id}/inbox', () => {
  it("answers the subscriber's items as their inbox shows them, marking nothing; 404 for an unknown subscriber", async () => {
    const saved = await h.api('PUT', '/v1/workflows/inbox-note', {
      steps: [{ type: 'in_app', title: 'Hello {{ data.n }}', body: 'Note {{ data.n }}' }],
    });
    expect(saved.status, saved.text).toBe(200);
    const ids: string[] = [];
    for (const n of [1, 2]) {
      const res = await h.api('POST', '/v1/workflows/inbox-note/trigger', {
        to: { subscriberId: 'inbox-1' },
        data: { n },
      });
      expect(res.status, res.text).toBe(202);
      ids.push(res.body.messageIds[0]);
    }
    const page = await waitFor(
      async () => {
        const res = await h.api('GET', '/v1/subscribers/inbox-1/inbox?limit=1');
        return res.body.items?.length === 1 && res.body.nextCursor ? res.body : undefined;
      },
      { what: 'the inbox items' },
    );
    expect(page.items[0]).toMatchObject({ id: ids[1], title: 'Hello 2', body: 'Note 2', seenAt: null, readAt: null });
    const next = await h.api('GET', `/v1/subscribers/inbox-1/inbox?limit=1&cursor=${page.nextCursor}`);
    expect(next.body.items.map((item: { id: string }) => item.id)).toEqual([ids[0]]);
    // Reading as an operator leaves the subscriber's counts as they were.
    const again = await h.api('GET', '/v1/subscribers/inbox-1/inbox');
    expect(again.body.items.every((item: { seenAt: number | null }) => item.seenAt === null)).toBe(true);
    expectProblem(await h.api('GET', '/v1/subscribers/nobody-here/inbox'), 404, 'SUBSCRIBER_NOT_FOUND');
  });
});
