import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

// The same Herald, on PostgreSQL: `--database postgres://…?schema=…`. The server must be reachable
// (.ci/run starts it); an unreachable server fails this file rather than skipping it.
const DATABASE_URL = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `herald_e2e_${randomBytes(6).toString('hex')}`;
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });

let sink: SmtpSink;
let h: TestHerald;

beforeAll(async () => {
  sink = await startSmtpSink({
    reject: (_id, attempt) => (attempt === 1 ? { code: 451, message: '4.3.2 try again later' } : undefined),
  });
  h = await startTestHerald({
    database: `${DATABASE_URL}?schema=${schema}`,
    'smtp-url': sink.url,
    'retry-schedule': '50ms,50ms',
  });
});

afterAll(async () => {
  await h?.close();
  await sink?.close();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

it('is ready on PostgreSQL', async () => {
  expect((await h.api('GET', '/readyz')).status).toBe(200);
});

it('accepts triggers and delivers every message over SMTP, retrying the 451s', async () => {
  await h.api('PUT', '/v1/workflows/pg', {
    steps: [{ type: 'email', subject: 'Hi {{ subscriber.name }}', text: 'Order {{ data.order }}' }],
  });
  const to = Array.from({ length: 40 }, (_, i) => ({
    subscriberId: `pg-${i}`,
    email: `pg-${i}@example.com`,
    name: `N${i}`,
  }));
  const res = await h.api('POST', '/v1/workflows/pg/trigger', { to, data: { order: 7 } });
  expect(res.status).toBe(202);
  expect(res.body.messageIds).toHaveLength(40);

  await waitFor(() => sink.received.length >= 40, { what: '40 emails at the sink' });
  expect(new Set(sink.received.map((mail) => mail.heraldMessageId))).toEqual(new Set(res.body.messageIds));
  const message = await waitFor(async () => {
    const m = await h.api('GET', `/v1/messages/${res.body.messageIds[0]}`);
    return m.body.status === 'sent' ? m.body : undefined;
  });
  expect(message.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'sent']);
  expect(message.content).toEqual({ html: null, text: 'Order 7' });
  const sent = await waitFor(async () => {
    const page = await h.api('GET', `/v1/messages?triggerId=${res.body.triggerId}&status=sent&limit=100`);
    return page.body.items.length === 40 ? page.body.items : undefined;
  });
  expect(sent).toHaveLength(40);
});

it('replays an Idempotency-Key and refuses it with another body', async () => {
  const body = { to: { subscriberId: 'pg-idem', email: 'pg-idem@example.com' } };
  const first = await h.api('POST', '/v1/workflows/pg/trigger', body, { 'idempotency-key': 'pg-key' });
  const again = await h.api('POST', '/v1/workflows/pg/trigger', body, { 'idempotency-key': 'pg-key' });
  expect(again.body).toEqual(first.body);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  const other = await h.api('POST', '/v1/workflows/pg/trigger', { to: 'pg-0' }, { 'idempotency-key': 'pg-key' });
  expect(other.status).toBe(422);
});

it('refuses control characters in paths and query strings with 400 (PostgreSQL text cannot hold NUL)', async () => {
  for (const path of [
    '/v1/messages/a%00b',
    '/v1/messages?subscriberId=%00',
    '/v1/messages?cursor=%01',
    '/v1/dev/mail?cursor=%00',
  ]) {
    const res = await h.api('GET', path);
    expect(res.status, path).toBe(400);
    expect(res.body.code, path).toBe('INVALID_REQUEST');
  }
});
