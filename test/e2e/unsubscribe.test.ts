import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHANNEL_TEST_SETTINGS,
  integrationsPerTest,
  putSubscriber,
  settledMessage,
} from '../support/channel-delivery.js';
import { expectProblem } from '../support/expect-problem.js';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerMailgun, MAILGUN_ACCOUNT } from '../support/fakes/mailgun-fake.js';
import { answerPostmark, POSTMARK_SERVER_TOKEN } from '../support/fakes/postmark-fake.js';
import { createResendFake, RESEND_API_KEY } from '../support/fakes/resend-fake.js';
import { answerSendgrid, SENDGRID_API_KEY } from '../support/fakes/sendgrid-fake.js';
import { answerSes, AWS_EXAMPLE_CREDENTIALS, SES_REGION } from '../support/fakes/ses-fake.js';
import { call, startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

// One-click unsubscribe (RFC 8058) through the public interface: the headers every non-critical
// email carries, read back by a real MIME parser from a real SMTP server; the link's POST (no
// credentials, no cookies) and GET; and links that were tampered with.

/** Where Herald says it is reached from outside: the links name it, the tests call Herald itself. */
const PUBLIC_URL = 'https://notify.example.com/herald';

let h: TestHerald;
let sink: SmtpSink;
const fakes: Record<'ses' | 'sendgrid' | 'postmark' | 'resend' | 'mailgun', FakeHttp> = {} as never;

beforeAll(async () => {
  [h, sink, fakes.ses, fakes.sendgrid, fakes.postmark, fakes.resend, fakes.mailgun] = await Promise.all([
    startTestHerald({ ...CHANNEL_TEST_SETTINGS, 'public-url': `${PUBLIC_URL}/` }),
    startSmtpSink(),
    startFakeHttp(answerSes),
    startFakeHttp(answerSendgrid),
    startFakeHttp(answerPostmark),
    startFakeHttp(createResendFake().handle),
    startFakeHttp(answerMailgun),
  ]);
  for (const [key, critical] of [
    ['unsub-digest', false],
    ['unsub-reset', true],
  ] as const) {
    const saved = await h.api('PUT', `/v1/workflows/${key}`, {
      name: critical ? 'Password reset' : 'Weekly digest',
      critical,
      steps: [{ type: 'email', subject: 'Hello', text: 'Hi {{ subscriber.name }}' }],
    });
    expect(saved.status, saved.text).toBe(200);
  }
});
afterAll(async () => {
  await h?.close(); // first: the SMTP sink waits for Herald's pooled connections to end
  await Promise.all([sink?.close(), ...Object.values(fakes).map((fake) => fake?.close())]);
});

const putIntegration = integrationsPerTest(() => h);

let n = 0;
async function person(): Promise<{ id: string; email: string }> {
  const id = `reader-${++n}`;
  const email = `${id}@example.com`;
  await putSubscriber(h, id, { email, name: `Reader ${n}` });
  return { id, email };
}

/** Triggers the workflow for one subscriber; answers the settled message. */
async function send(key: string, subscriberId: string, status = 'sent'): Promise<any> {
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, { to: subscriberId });
  expect(res.status, res.text).toBe(202);
  return settledMessage(h, res.body.messageIds[0], status);
}

/** The unsubscribe link the dev mailbox captured for one message. */
async function devMailLink(messageId: string): Promise<string> {
  const mail = ((await h.api('GET', '/v1/dev/mail?limit=100')).body.items as any[]).find(
    (item) => item.messageId === messageId,
  );
  expect(mail, `dev mail of ${messageId}`).toBeDefined();
  expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  const link = /^<(.+)>$/.exec(mail.headers['List-Unsubscribe'])?.[1];
  expect(link).toBeDefined();
  return link!;
}

/** The link called on Herald itself (its public URL is a name for it that the test cannot reach). */
const onHerald = (link: string) => {
  expect(link.startsWith(`${PUBLIC_URL}/v1/unsubscribe/`)).toBe(true);
  return h.url + link.slice(PUBLIC_URL.length);
};

const preferencesOf = async (id: string) => (await h.api('GET', `/v1/subscribers/${id}/preferences`)).body;

describe('the headers of a non-critical email', () => {
  it('carry List-Unsubscribe and List-Unsubscribe-Post, as a MIME parser reads them off SMTP', async () => {
    await putIntegration('unsub-smtp', { channel: 'email', provider: 'smtp', config: { url: sink.url } });
    const reader = await person();
    const message = await send('unsub-digest', reader.id);
    const received = sink.received.find((mail) => mail.heraldMessageId === message.id);
    expect(received).toBeDefined();
    // Parsed again from the raw bytes, not from the sink's bookkeeping.
    const parsed = await simpleParser(received!.raw);
    // mailparser reads the List-* headers into one structure (RFC 2369 names).
    const list = parsed.headers.get('list') as {
      unsubscribe?: { url?: string };
      'unsubscribe-post'?: { name?: string };
    };
    const url = list.unsubscribe?.url ?? '';
    expect(url).toMatch(
      new RegExp(`^${PUBLIC_URL.replace(/[./]/g, '\\$&')}/v1/unsubscribe/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}$`),
    );
    expect(list['unsubscribe-post']?.name).toBe('List-Unsubscribe=One-Click');
    // One line each, as written: nothing folded into the URL.
    expect(parsed.headerLines.filter((line) => line.key.startsWith('list-')).map((line) => line.line)).toEqual([
      `List-Unsubscribe: <${url}>`,
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]);

    // The link works: a POST turns this workflow's email off for this reader, and the next is skipped.
    const res = await call(onHerald(url), 'POST', 'List-Unsubscribe=One-Click', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status, res.text).toBe(200);
    expect(await preferencesOf(reader.id)).toEqual({ workflows: { 'unsub-digest': { channels: { email: false } } } });
    const next = await send('unsub-digest', reader.id, 'skipped');
    expect(next.reason).toBe('email off for workflow unsub-digest');
  });

  it('are absent from a critical workflow’s emails', async () => {
    await putIntegration('unsub-smtp', { channel: 'email', provider: 'smtp', config: { url: sink.url } });
    const reader = await person();
    const message = await send('unsub-reset', reader.id);
    const parsed = await simpleParser(sink.received.find((mail) => mail.heraldMessageId === message.id)!.raw);
    expect(parsed.headers.has('list')).toBe(false);
    expect(parsed.headerLines.filter((line) => line.key.startsWith('list-'))).toEqual([]);
  });

  it('reach the dev mailbox too', async () => {
    const reader = await person();
    const link = await devMailLink((await send('unsub-digest', reader.id)).id);
    expect(link.startsWith(`${PUBLIC_URL}/v1/unsubscribe/`)).toBe(true);
  });

  it('go to every email API as custom headers: SES, SendGrid, Postmark, Resend and Mailgun', async () => {
    const reader = await person();
    const configs = {
      ses: { region: SES_REGION, ...AWS_EXAMPLE_CREDENTIALS, baseUrl: fakes.ses.url },
      sendgrid: { apiKey: SENDGRID_API_KEY, from: 'noreply@example.com', baseUrl: fakes.sendgrid.url },
      postmark: { serverToken: POSTMARK_SERVER_TOKEN, baseUrl: fakes.postmark.url },
      resend: { apiKey: RESEND_API_KEY, from: 'alerts@example.org', baseUrl: fakes.resend.url },
      mailgun: { ...MAILGUN_ACCOUNT, baseUrl: fakes.mailgun.url },
    };
    const headersSent: Record<string, Record<string, string>> = {};
    for (const [provider, config] of Object.entries(configs)) {
      await putIntegration(`unsub-${provider}`, { channel: 'email', provider, config });
      await send('unsub-digest', reader.id);
      await h.api('DELETE', `/v1/integrations/unsub-${provider}`);
      const body = fakes[provider as keyof typeof fakes].requests.at(-1)!.body;
      headersSent[provider] =
        provider === 'mailgun'
          ? Object.fromEntries(
              [...new URLSearchParams(body)].filter(([name]) => name.startsWith('h:')).map(([k, v]) => [k.slice(2), v]),
            )
          : provider === 'ses' || provider === 'postmark'
            ? Object.fromEntries(
                (
                  (provider === 'ses' ? JSON.parse(body).Content.Simple.Headers : JSON.parse(body).Headers) as any[]
                ).map((header) => [header.Name, header.Value]),
              )
            : JSON.parse(body).headers;
    }
    for (const [provider, headers] of Object.entries(headersSent)) {
      expect(headers['List-Unsubscribe'], provider).toMatch(new RegExp(`^<${PUBLIC_URL}/v1/unsubscribe/[^>]+>$`));
      expect(headers['List-Unsubscribe-Post'], provider).toBe('List-Unsubscribe=One-Click');
      expect(headers['X-Herald-Message-Id'], provider).toMatch(/^msg_/);
    }
  });
});

describe('POST /v1/unsubscribe/{token}', () => {
  it('takes an empty body and no credentials, keeps the rest of the preferences, and repeats harmlessly', async () => {
    const reader = await person();
    const others = { channels: { sms: false }, workflows: { 'unsub-reset': { channels: { push: false } } } };
    await h.api('PUT', `/v1/subscribers/${reader.id}/preferences`, others);
    const link = onHerald(await devMailLink((await send('unsub-digest', reader.id)).id));
    const expected = {
      ...others,
      workflows: { ...others.workflows, 'unsub-digest': { channels: { email: false } } },
    };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(link, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('You will no longer receive emails about “Weekly digest”');
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await preferencesOf(reader.id)).toEqual(expected);
    }
  });

  it('takes the one-click body as multipart/form-data too', async () => {
    const reader = await person();
    const link = onHerald(await devMailLink((await send('unsub-digest', reader.id)).id));
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const res = await fetch(link, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect((await preferencesOf(reader.id)).workflows['unsub-digest'].channels.email).toBe(false);
  });

  it('refuses a forged, altered or cut token and changes nothing', async () => {
    const reader = await person();
    const link = onHerald(await devMailLink((await send('unsub-digest', reader.id)).id));
    const token = link.slice(link.lastIndexOf('/') + 1);
    const [payload, signature] = token.split('.') as [string, string];
    const other = Buffer.from(
      Buffer.from(payload, 'base64url').toString('utf8').replace(reader.id, 'reader-other'),
    ).toString('base64url');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const base = link.slice(0, link.lastIndexOf('/') + 1);
    for (const forged of [
      `${other}.${signature}`, // another subscriber under this signature
      `${flip(payload, 3)}.${signature}`,
      `${payload}.${flip(signature, 5)}`,
      `${payload}.${signature.slice(0, -1)}`,
      payload,
      'not-a-token',
    ]) {
      const res = await call(base + forged, 'POST', 'List-Unsubscribe=One-Click', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expectProblem(res, 404, 'UNSUBSCRIBE_LINK_INVALID');
    }
    expect(await preferencesOf(reader.id)).toEqual({});
    // A person's browser gets a page saying so, with the same status.
    const page = await fetch(`${base}${payload}.${flip(signature, 5)}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('This link does not work');
  });

  it('refuses other body types, and bodies larger than the one-click form', async () => {
    const reader = await person();
    const link = onHerald(await devMailLink((await send('unsub-digest', reader.id)).id));
    expect((await call(link, 'POST', 'List-Unsubscribe=One-Click', { 'content-type': 'text/plain' })).status).toBe(415);
    const big = `List-Unsubscribe=One-Click&pad=${'x'.repeat(10_000)}`;
    const tooLarge = await call(link, 'POST', big, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(tooLarge.status).toBe(413);
    expect(await preferencesOf(reader.id)).toEqual({});
    // Form bodies are for these routes alone: the rest of the API still takes JSON only.
    const form = await h.api('PUT', `/v1/subscribers/${reader.id}/preferences`, 'channels=none', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expectProblem(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a link to a subscriber deleted since as done: nothing is sent to them anyway', async () => {
    const reader = await person();
    const link = onHerald(await devMailLink((await send('unsub-digest', reader.id)).id));
    expect((await h.api('DELETE', `/v1/subscribers/${reader.id}`)).status).toBe(204);
    expect((await fetch(link, { method: 'POST' })).status).toBe(200);
    expect((await h.api('GET', `/v1/subscribers/${reader.id}`)).status).toBe(404);
  });
});

describe('GET /v1/unsubscribe/{token}', () => {
  it('shows a page with a confirm button that posts, under a strict CSP, and changes nothing', async () => {
    const reader = await person();
    const link = onHerald(await devMailLink((await send('unsub-digest', reader.id)).id));
    for (let i = 0; i < 3; i++) {
      const res = await fetch(link); // mail scanners fetch links, sometimes more than once
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html).toContain('<form method="post">');
      expect(html).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
      expect(html).toContain('<button type="submit">Unsubscribe</button>');
      expect(html).toContain('“Weekly digest”');
      expect(html).not.toMatch(/<script/i);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect(await preferencesOf(reader.id)).toEqual({});
    // And the button's post is the one-click POST.
    const confirm = await call(link, 'POST', 'List-Unsubscribe=One-Click', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(confirm.status).toBe(200);
    expect((await preferencesOf(reader.id)).workflows['unsub-digest'].channels.email).toBe(false);
  });
});

describe('without --public-url', () => {
  it('sends emails without List-Unsubscribe (there is no address to link to), and still honours links made with its key', async () => {
    const plain = await startTestHerald(CHANNEL_TEST_SETTINGS);
    try {
      await plain.api('PUT', '/v1/workflows/unsub-digest', {
        steps: [{ type: 'email', subject: 'Hello', text: 'Hi' }],
      });
      await plain.api('PUT', '/v1/subscribers/plain-reader', { email: 'plain@example.com' });
      const res = await plain.api('POST', '/v1/workflows/unsub-digest/trigger', { to: 'plain-reader' });
      const message = await settledMessage(plain, res.body.messageIds[0], 'sent');
      const mail = ((await plain.api('GET', '/v1/dev/mail')).body.items as any[]).find(
        (item) => item.messageId === message.id,
      );
      expect(mail.headers).toHaveProperty('X-Herald-Message-Id', message.id);
      expect(mail.headers).not.toHaveProperty('List-Unsubscribe');
      expect(mail.headers).not.toHaveProperty('List-Unsubscribe-Post');
      // A link made by another process with the same secret key (one that has a public URL) works here.
      await putSubscriber(h, 'plain-reader', { email: 'plain@example.com' });
      const link = await devMailLink((await send('unsub-digest', 'plain-reader')).id);
      const unsubscribed = await fetch(plain.url + link.slice(PUBLIC_URL.length), { method: 'POST' });
      expect(unsubscribed.status).toBe(200);
      expect((await plain.api('GET', '/v1/subscribers/plain-reader/preferences')).body).toEqual({
        workflows: { 'unsub-digest': { channels: { email: false } } },
      });
    } finally {
      await plain.close();
    }
  });
});
