import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { rendersInBoundedTime } from '../../src/core/templates.js';
import type { WorkflowStep } from '../../src/core/types.js';
import { IN_PLACE_MAX_CHARS } from '../../src/worker/render-in-place.js';
import { createRenderPool, type RenderPool } from '../../src/worker/render-pool.js';

// Steps whose templates are literal text and value outputs render on the caller's thread: the hop
// to a render thread costs more than they do, and they cannot run away. Anything else goes to a thread.

const email = (html: string, subject = 'Hi {{ subscriber.name }}'): WorkflowStep => ({ type: 'email', subject, html });

describe('rendersInBoundedTime', () => {
  it('takes literal text and outputs that only name a value', () => {
    expect(rendersInBoundedTime(email('<p>Hello {{ subscriber.name }}, order {{data.orders[0].id}}</p>'))).toBe(true);
    expect(rendersInBoundedTime(email('<p>{{- data.a -}} and {{ data.item-count }}</p>'))).toBe(true);
    expect(rendersInBoundedTime(email('no templates at all', 'static subject'))).toBe(true);
    expect(rendersInBoundedTime({ type: 'webhook', url: 'https://example.com/hook' })).toBe(true);
    expect(
      rendersInBoundedTime({
        type: 'webhook',
        body: { id: '{{ data.id }}', tags: ['a', '{{ subscriber.email }}'], n: 3 },
      }),
    ).toBe(true);
    // A condition is the run engine's, not the render's.
    expect(rendersInBoundedTime({ type: 'sms', text: 'Code {{ data.code }}', if: 'data.n > 1' })).toBe(true);
  });

  it('sends tags, filters, expressions and broken outputs to a thread', () => {
    expect(rendersInBoundedTime(email('{% for i in (1..100000000) %}x{% endfor %}'))).toBe(false);
    expect(rendersInBoundedTime(email('{{ data.items | sort | join: "," }}'))).toBe(false);
    expect(rendersInBoundedTime(email('{{ "x" }}'))).toBe(false);
    expect(rendersInBoundedTime(email('{{ data.a[data.b] }}'))).toBe(false);
    expect(rendersInBoundedTime(email('<p>{{ data.a </p>'))).toBe(false);
    expect(rendersInBoundedTime(email('<p>ok</p>', '{{ subscriber.name | upcase }}'))).toBe(false);
    expect(rendersInBoundedTime({ type: 'chat', text: 'x', blocks: [{ text: '{% if a %}y{% endif %}' }] })).toBe(false);
    expect(rendersInBoundedTime({ type: 'delay', for: '1h' })).toBe(false);
  });

  it('sends partials and CSS to inline to a thread; a layout named is not a template', () => {
    expect(rendersInBoundedTime(email("<p>{% render 'footer' %}</p>"))).toBe(false);
    expect(rendersInBoundedTime(email('<style>p { color: red }</style><p>{{ data.a }}</p>'))).toBe(false);
    expect(rendersInBoundedTime({ ...email('<p>{{ data.a }}</p>'), layout: 'brand' } as WorkflowStep)).toBe(true);
  });
});

describe('render pool', () => {
  let pool: RenderPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  const request = (steps: WorkflowStep[], versionId: string) => ({
    workflow: { versionId, key: 'w', name: 'W', steps },
    stepIndex: 0,
    context: { subscriber: { name: 'Ann <3' }, data: {}, workflow: { key: 'w', name: 'W' } },
    refusal: () => undefined,
  });

  it('renders a bounded step in place, starting no thread, with the same output a thread gives', async () => {
    pool = createRenderPool({ threads: 2, timeoutMs: 250, logger: pino({ level: 'silent' }) });
    const flat = await pool.render(request([email('<p>Hello {{ subscriber.name }}</p>')], 'v1'));
    expect(pool.stats().threads).toBe(0);
    const threaded = await pool.render(
      request([email('<p>Hello {{ subscriber.name }}</p>{% if true %}{% endif %}')], 'v2'),
    );
    expect(pool.stats().threads).toBe(2);
    expect(flat).toEqual({
      status: 'rendered',
      rendered: { type: 'email', subject: 'Hi Ann <3', html: '<p>Hello Ann &lt;3</p>', text: 'Hello Ann <3' },
    });
    expect(threaded).toEqual(flat);
  });

  it('sends a bounded step to a thread when its data or its template is large (it would hold the event loop)', async () => {
    pool = createRenderPool({ threads: 1, timeoutMs: 250, logger: pino({ level: 'silent' }) });
    const step = email('<p>{{ data.note }}</p>');
    const small = { ...request([step], 'v1'), context: { ...request([step], 'v1').context, data: { note: 'x' } } };
    expect(await pool.render(small)).toMatchObject({ status: 'rendered' });
    expect(pool.stats().threads).toBe(0);
    const note = 'y'.repeat(IN_PLACE_MAX_CHARS);
    const large = { ...small, context: { ...small.context, data: { note } } };
    expect(await pool.render(large)).toMatchObject({ status: 'rendered', rendered: { text: note } });
    expect(pool.stats().threads).toBe(1);

    await pool.close();
    pool = createRenderPool({ threads: 1, timeoutMs: 250, logger: pino({ level: 'silent' }) });
    const long = email(`<p>${'z'.repeat(IN_PLACE_MAX_CHARS)}</p>`);
    expect(await pool.render(request([long], 'v2'))).toMatchObject({ status: 'rendered' });
    expect(pool.stats().threads).toBe(1);
  });

  it('sends a bounded step with template assets to a thread, which renders it in its layout', async () => {
    pool = createRenderPool({ threads: 1, timeoutMs: 250, logger: pino({ level: 'silent' }) });
    const assets = {
      revision: '1',
      layouts: { frame: { html: '<div>{{ content }}{% render "sig" %}</div>', text: null, variables: {} } },
      defaultLayout: 'frame',
      partials: { sig: '<i>{{ subscriber.name }}</i>' },
      translations: {},
    };
    const framed = await pool.render({ ...request([email('<p>Hi</p>')], 'v1'), assets: { id: 'env#1', assets } });
    expect(pool.stats().threads).toBe(1);
    expect(framed).toEqual({
      status: 'rendered',
      rendered: {
        type: 'email',
        subject: 'Hi Ann <3',
        html: '<div><p>Hi</p><i>Ann &lt;3</i></div>',
        text: 'Hi\n\nAnn <3',
      },
    });
  });
});
