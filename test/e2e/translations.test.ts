import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledMessage } from '../support/channel-delivery.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

// Translations as a send renders them: stored through the API, picked by the subscriber's locale
// with its fallbacks, plural forms by CLDR rule, dates in the subscriber's time zone, and a missing
// key rendered as the key and reported in the delivery log and the preview.

let h: TestHerald;

beforeAll(async () => {
  h = await startTestHerald({ 'default-locale': 'en' });
  const saved = [
    await h.api('PUT', '/v1/translations/en', {
      messages: {
        order: {
          shipped: 'Your order {{ id }} has shipped',
          items: { one: '{{ count }} item', other: '{{ count }} items' },
        },
        only: { english: 'only in English' },
      },
    }),
    await h.api('PUT', '/v1/translations/fr', {
      messages: {
        order: {
          shipped: 'Votre commande {{ id }} est partie',
          items: { one: '{{ count }} article', other: '{{ count }} articles' },
        },
      },
    }),
    await h.api('PUT', '/v1/translations/ru', {
      messages: {
        order: {
          items: { one: '{{ count }} товар', few: '{{ count }} товара', many: '{{ count }} товаров', other: '?' },
        },
      },
    }),
  ];
  for (const res of saved) expect(res.status, res.text).toBe(201);
  const workflow = await h.api('PUT', '/v1/workflows/shipped', {
    steps: [
      {
        type: 'in_app',
        title: '{{ "order.shipped" | t: id: data.order }}',
        body:
          '{{ "order.items" | t: count: data.count }} · {{ "only.english" | t }} · ' +
          '{{ data.at | format_date: "long" }} · {{ "no.such.key" | t }}',
      },
    ],
  });
  expect(workflow.status, workflow.text).toBe(200);
});
afterAll(() => h?.close());

let n = 0;
/** Sends the workflow to a new subscriber with `fields` and answers its settled message. */
async function sendTo(fields: Record<string, unknown>, data: Record<string, unknown>): Promise<any> {
  const res = await h.api('POST', '/v1/workflows/shipped/trigger', {
    to: { subscriberId: `reader-${++n}`, ...fields },
    data,
  });
  expect(res.status, res.text).toBe(202);
  return settledMessage(h, res.body.messageIds[0], 'sent');
}

// 23:30 UTC on 10 March 2027: still the 10th in New York, already the 11th in Berlin.
const AT = '2027-03-10T23:30:00Z';

describe('translations in sends', () => {
  it('picks the locale, falling back fr-CA → fr, with plural forms and dates in the subscriber’s zone', async () => {
    const message = await sendTo({ locale: 'fr-CA', timezone: 'Europe/Berlin' }, { order: 'A-17', count: 1, at: AT });
    expect(message.subject).toBe('Votre commande A-17 est partie');
    // fr has no only.english: the default locale's message; the date is the 11th in Berlin.
    expect(message.content.text).toBe('1 article · only in English · 11 mars 2027 · no.such.key');
  });

  it('falls back to the default locale, and uses the CLDR plural rule of the locale the key was found in', async () => {
    const english = await sendTo({ locale: 'de-AT', timezone: 'America/New_York' }, { order: 'B-2', count: 0, at: AT });
    expect(english.subject).toBe('Your order B-2 has shipped');
    // The text falls back to English; dates stay in the subscriber's own language and zone.
    expect(english.content.text).toBe('0 items · only in English · 10. März 2027 · no.such.key');

    const russian = await sendTo({ locale: 'ru' }, { order: 'C-3', count: 22, at: AT });
    expect(russian.content.text).toMatch(/^22 товара · /);
    const many = await sendTo({ locale: 'ru' }, { order: 'C-4', count: 5, at: AT });
    expect(many.content.text).toMatch(/^5 товаров · /);
  });

  it('renders a missing key as the key, never blank, and says so in the delivery log', async () => {
    const message = await sendTo({ locale: 'fr' }, { order: 'D-1', count: 2, at: AT });
    expect(message.content.text).toContain('no.such.key');
    expect(message.content.warnings).toEqual([expect.stringMatching(/missing translation "no\.such\.key" \(fr, en\)/)]);
  });

  it('a message with nothing to warn of carries no warnings', async () => {
    const saved = await h.api('PUT', '/v1/workflows/clean', {
      steps: [{ type: 'in_app', body: '{{ "order.shipped" | t: id: data.order }}' }],
    });
    expect(saved.status, saved.text).toBe(200);
    const res = await h.api('POST', '/v1/workflows/clean/trigger', {
      to: { subscriberId: 'clean-1' },
      data: { order: 'E' },
    });
    const message = await settledMessage(h, res.body.messageIds[0], 'sent');
    expect(message.content).toEqual({ html: null, text: 'Your order E has shipped' });
  });

  it('the preview shows the translation for the locale asked and warns of the missing key', async () => {
    const res = await h.api('POST', '/v1/workflows/shipped/preview', {
      subscriber: { subscriberId: 'preview-1', timezone: 'Europe/Berlin' },
      data: { order: 'P-1', count: 3, at: AT },
      locale: 'fr',
    });
    expect(res.status, res.text).toBe(200);
    const [step] = res.body.steps;
    expect(step.rendered).toMatchObject({ title: 'Votre commande P-1 est partie' });
    expect(step.rendered.body).toMatch(/^3 articles · /);
    expect(step.warnings).toContainEqual(expect.stringMatching(/missing translation "no\.such\.key"/));
  });

  it('a translation changed applies to the next send (assets are read as they are when a message renders)', async () => {
    const changed = await h.api('PUT', '/v1/translations/fr', {
      messages: { order: { shipped: 'Commande {{ id }} expédiée', items: { one: '1', other: 'n' } } },
    });
    expect(changed.status, changed.text).toBe(200);
    const message = await sendTo({ locale: 'fr' }, { order: 'F-1', count: 1, at: AT });
    expect(message.subject).toBe('Commande F-1 expédiée');
  });
});
