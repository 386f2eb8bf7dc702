import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledMessage } from '../support/channel-delivery.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait-for.js';

// Layouts and partials as they reach a mailbox: workflows saved and triggered through the API,
// sent over real SMTP, and the received MIME read back with mailparser.

const PUBLIC_URL = 'https://notify.example.com';

let h: TestHerald;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  h = await startTestHerald({ 'smtp-url': sink.url, 'public-url': PUBLIC_URL, 'retry-schedule': '50ms' });
  const saved = [
    await h.api('PUT', '/v1/partials/social', {
      template: '<a href="https://social.example.com/{{ handle }}">@{{ handle }}</a>',
    }),
    await h.api('PUT', '/v1/partials/footer', {
      template: "<footer>Sent to {{ subscriber.name }} · {% render 'social', handle: 'acme' %}</footer>",
    }),
    await h.api('PUT', '/v1/partials/button', {
      template: '<a class="button" href="{{ url }}">{{ label }}</a>',
    }),
    await h.api('PUT', '/v1/layouts/brand', {
      name: 'ACME brand',
      html:
        '<html><head><style>.button { color: {{ layout.colour }}; } p { margin: 0; } ' +
        '@media (max-width: 600px) { p { margin: 4px; } }</style></head>' +
        '<body><header>{{ layout.company }}</header><main>{{ content }}</main>' +
        "{% render 'footer' %}" +
        '{% if unsubscribeUrl %}<a id="unsubscribe" href="{{ unsubscribeUrl }}">Unsubscribe</a>{% endif %}' +
        '</body></html>',
      text: '{{ layout.company }}\n\n{{ content }}\n\n-- \nUnsubscribe: {{ unsubscribeUrl | default: "none" }}',
      variables: { colour: '#ff0000', company: 'ACME Inc.' },
    }),
  ];
  for (const res of saved) expect(res.status, res.text).toBe(201);
});
afterAll(async () => {
  await h?.close(); // first: the SMTP sink waits for Herald's pooled connections to end
  await sink?.close();
});

let n = 0;
/** Saves the workflow, triggers it for a new subscriber, and answers the settled message and the mail. */
async function send(
  workflow: Record<string, unknown>,
  data: Record<string, unknown> = {},
  status = 'sent',
): Promise<{ message: any; mail: ParsedMail | undefined; key: string }> {
  const key = `tpl-${++n}`;
  const saved = await h.api('PUT', `/v1/workflows/${key}`, workflow);
  expect(saved.status, saved.text).toBe(200);
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, {
    to: { subscriberId: `reader-${n}`, email: `reader-${n}@example.com`, name: 'Ada <Lovelace>' },
    data,
  });
  expect(res.status, res.text).toBe(202);
  const message = await settledMessage(h, res.body.messageIds[0], status);
  const mail =
    status === 'sent'
      ? await waitFor(() => sink.received.find((m) => m.heraldMessageId === message.id)?.parsed, {
          what: `the email of ${message.id}`,
        })
      : undefined;
  return { message, mail, key };
}

const email = (step: Record<string, unknown>) => ({
  steps: [{ type: 'email', subject: 'Order {{ data.id }}', ...step }],
});

describe('an email in a layout, with partials', () => {
  it('wraps the content, renders partials with arguments and nested, inlines CSS and links the unsubscribe URL', async () => {
    const { mail } = await send(
      email({
        layout: 'brand',
        html: "<p>Your order {{ data.id }} shipped.</p>{% render 'button', label: data.cta, url: data.url %}",
        text: 'Your order {{ data.id }} shipped: {{ data.url }}',
      }),
      { id: 'A-1', cta: 'Track <it>', url: 'https://shop.example.com/t/A-1' },
    );
    const html = mail!.html as string;
    const unsubscribe = (mail!.headers.get('list') as { unsubscribe?: { url?: string } }).unsubscribe?.url ?? '';
    expect(unsubscribe).toMatch(new RegExp(`^${PUBLIC_URL}/v1/unsubscribe/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}$`));
    // The layout around the content; the step's HTML inside it as rendered (escaped once, not re-parsed).
    expect(html).toContain('<header>ACME Inc.</header><main><p style="margin: 0;">Your order A-1 shipped.</p>');
    // A partial with arguments, its output escaped like any HTML output; CSS from <style> inlined.
    expect(html).toContain(
      '<a class="button" href="https://shop.example.com/t/A-1" style="color: #ff0000;">Track &lt;it&gt;</a></main>',
    );
    // A partial that sees the render's globals (the subscriber) and renders another partial.
    expect(html).toContain(
      '<footer>Sent to Ada &lt;Lovelace&gt; · <a href="https://social.example.com/acme">@acme</a></footer>',
    );
    expect(html).toContain(`<a id="unsubscribe" href="${unsubscribe}">Unsubscribe</a>`);
    // Rules inlined and their <style> gone; a media query stays in one, for the clients that read it.
    expect(html).not.toContain('.button {');
    expect(html).toMatch(/<style>\s*@media \(max-width: 600px\)/);
    expect(mail!.text).toBe(
      `ACME Inc.\n\nYour order A-1 shipped: https://shop.example.com/t/A-1\n\n-- \nUnsubscribe: ${unsubscribe}`,
    );
  });

  it('puts the text derived from the step HTML in the layout text when the step has no text', async () => {
    const { mail } = await send(email({ layout: 'brand', html: '<p>Hello <b>{{ data.who }}</b></p>' }), { who: 'you' });
    expect(mail!.text).toMatch(/^ACME Inc\.\n\nHello you\n\n-- \nUnsubscribe: https:/);
  });

  it('derives the text from the final HTML when the layout has none and the step has none', async () => {
    await h.api('PUT', '/v1/layouts/html-only', {
      html: "<div>Top</div>{{ content }}<div>{% render 'social', handle: 'h' %}</div>",
    });
    const { mail } = await send(email({ layout: 'html-only', html: '<p>Middle</p>' }));
    expect(mail!.html).toBe('<div>Top</div><p>Middle</p><div><a href="https://social.example.com/h">@h</a></div>');
    expect(mail!.text).toBe('Top\n\nMiddle\n\n@h (https://social.example.com/h)');
    // The step's own text part stays when the layout has no text.
    const own = await send(email({ layout: 'html-only', html: '<p>Middle</p>', text: 'Just this' }));
    expect(own.mail!.text).toBe('Just this');
  });

  it('renders in the default layout unless the step says layout: false; none at all when there is no default', async () => {
    const step = email({ html: '<p>Plain {{ data.id }}</p>', text: 'Plain {{ data.id }}' });
    const before = await send(step, { id: 1 });
    expect(before.mail!.html).toBe('<p>Plain 1</p>');
    expect(before.mail!.text).toBe('Plain 1');

    const made = await h.api('PUT', '/v1/layouts/default-frame', {
      html: '<section>{{ content }}</section>',
      text: '[{{ content }}]',
      default: true,
    });
    expect(made.status, made.text).toBe(201);
    try {
      const framed = await send(step, { id: 2 });
      expect(framed.mail!.html).toBe('<section><p>Plain 2</p></section>');
      expect(framed.mail!.text).toBe('[Plain 2]');
      const unframed = await send(email({ html: '<p>Plain {{ data.id }}</p>', layout: false }), { id: 3 });
      expect(unframed.mail!.html).toBe('<p>Plain 3</p>');
      expect(unframed.mail!.text).toBe('Plain 3');
    } finally {
      await h.api('PUT', '/v1/layouts/default-frame', { html: '{{ content }}', default: false });
    }
    expect((await send(step, { id: 4 })).mail!.html).toBe('<p>Plain 4</p>');
  });

  it('inlines the CSS of an email without a layout', async () => {
    const { mail } = await send(email({ html: '<style>b { color: blue }</style><p><b>{{ data.x }}</b></p>' }), {
      x: 'X',
    });
    expect(mail!.html).toBe('<p><b style="color: blue;">X</b></p>');
  });

  it('applies layouts and partials as they are when the message renders, the workflow version as triggered', async () => {
    await h.api('PUT', '/v1/partials/greeting', { template: 'Hello v1' });
    await h.api('PUT', '/v1/layouts/changing', { html: '<i>v1</i>{{ content }}' });
    const workflow = email({ layout: 'changing', html: "<p>{% render 'greeting' %}</p>" });
    const first = await send(workflow);
    expect(first.mail!.html).toBe('<i>v1</i><p>Hello v1</p>');
    await h.api('PUT', '/v1/partials/greeting', { template: 'Hello v2' });
    await h.api('PUT', '/v1/layouts/changing', { html: '<i>v2</i>{{ content }}' });
    const second = await send(workflow);
    expect(second.mail!.html).toBe('<i>v2</i><p>Hello v2</p>');
  });

  it('leaves the unsubscribe URL out of the templates of a critical workflow', async () => {
    const { mail } = await send({ critical: true, ...email({ layout: 'brand', html: '<p>Reset</p>', text: 'Reset' }) });
    expect(mail!.headers.get('list')).toBeUndefined();
    expect(mail!.html).not.toContain('id="unsubscribe"');
    expect(mail!.text).toMatch(/Unsubscribe: none$/);
  });
});

describe('partials and layouts gone or running away', () => {
  it('fails a send whose partial or layout was deleted after the workflow was saved, with the reason', async () => {
    await h.api('PUT', '/v1/partials/doomed', { template: 'soon gone' });
    await h.api('PUT', '/v1/layouts/doomed-layout', { html: '<u>{{ content }}</u>' });
    const env = await h.herald.store.defaultEnvironmentId();
    // As if deleted by another process between the save's check and the send: past the API's check.
    const partialKey = `tpl-${n + 1}`;
    const saved = await h.api('PUT', `/v1/workflows/${partialKey}`, email({ html: "<p>{% render 'doomed' %}</p>" }));
    expect(saved.status).toBe(200);
    await h.herald.store.deletePartial(env, 'doomed');
    n++;
    const res = await h.api('POST', `/v1/workflows/${partialKey}/trigger`, {
      to: { subscriberId: 'gone-1', email: 'g1@example.com' },
    });
    const failed = await settledMessage(h, res.body.messageIds[0], 'failed');
    expect(failed.reason).toMatch(/^template render failed: there is no partial "doomed"/);

    const layoutKey = `tpl-${++n}`;
    expect(
      (await h.api('PUT', `/v1/workflows/${layoutKey}`, email({ html: '<p>x</p>', layout: 'doomed-layout' }))).status,
    ).toBe(200);
    await h.herald.store.deleteLayout(env, 'doomed-layout');
    const res2 = await h.api('POST', `/v1/workflows/${layoutKey}/trigger`, {
      to: { subscriberId: 'gone-2', email: 'g2@example.com' },
    });
    const failed2 = await settledMessage(h, res2.body.messageIds[0], 'failed');
    expect(failed2.reason).toBe(
      'template render failed: the email cannot render in its layout: there is no layout "doomed-layout" (deleted after this workflow was saved?)',
    );
  });

  it("stops a partial that runs away, at Liquid's limit and at the hard one, like a step template", async () => {
    const loops =
      '{% assign ten = "0,1,2,3,4,5,6,7,8,9" | split: "," %}' +
      Array.from({ length: 8 }, (_, i) => `{% for l${i} in ten %}`).join('') +
      '.' +
      '{% endfor %}'.repeat(8);
    await h.api('PUT', '/v1/partials/spinner', { template: loops });
    await h.api('PUT', '/v1/partials/sorter', { template: '{% assign s = (1..4000000) | sort %}{{ s | first }}' });
    const spun = await send(email({ html: "<p>{% render 'spinner' %}</p>" }), {}, 'failed');
    expect(spun.message.reason).toMatch(/^template render failed: render time limit exceeded: stopped after \d+ ms/);
    const sorted = await send(email({ html: "<p>{% render 'sorter' %}</p>" }), {}, 'failed');
    expect(sorted.message.reason).toMatch(/^template render failed: render time limit exceeded/);
    // The threads that were ended are replaced: the next email renders.
    const after = await send(email({ html: "<p>{% render 'social', handle: 'ok' %}</p>" }));
    expect(after.mail!.html).toContain('@ok');
  });
});
