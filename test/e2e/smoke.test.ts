import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

let sink: SmtpSink;
let h: TestHerald;
beforeAll(async () => {
  sink = await startSmtpSink({
    reject: (_id, attempt) => (attempt === 1 ? { code: 451, message: 'try later' } : undefined),
  });
  h = await startTestHerald({ 'smtp-url': sink.url, 'retry-schedule': '50ms,50ms' });
});
afterAll(async () => {
  await h.close();
  await sink.close();
});

it('delivers over SMTP after a 451', async () => {
  await h.api('PUT', '/v1/workflows/w', {
    steps: [{ type: 'email', subject: 'Héllo {{ subscriber.name }}', html: '<p>Hi</p>' }],
  });
  const res = await h.api('POST', '/v1/workflows/w/trigger', {
    to: { subscriberId: 'a', email: 'a@example.com', name: 'Zoë' },
  });
  expect(res.status).toBe(202);
  await waitFor(() => sink.received.length === 1);
  const mail = sink.received[0]!;
  expect(mail.parsed.subject).toBe('Héllo Zoë');
  const msg = await waitFor(async () => {
    const m = await h.api('GET', `/v1/messages/${res.body.messageIds[0]}`);
    return m.body.status === 'sent' ? m.body : undefined;
  });
  expect(msg.attempts.map((a: any) => a.outcome)).toEqual(['retry', 'sent']);
});
