import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type ApiResponse, type TestHerald } from '../support/herald.js';

// Layouts, partials and translations through the API: what each route answers, the checks made on
// save (slots, templates, partials that exist, no cycles, locales, messages) and on delete (in
// use), and what a workflow save checks of the partials and layouts its steps use.

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald();
});
afterAll(async () => {
  await h?.close();
});

const put = (path: string, body: unknown) => h.api('PUT', path, body);
const email = (step: Record<string, unknown>) => ({ steps: [{ type: 'email', subject: 'Hi', ...step }] });

/** Every item of a list, page by page with `limit`, checking each page's size and cursor. */
async function listAll(path: string, limit: number): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: ApiResponse = await h.api(
      'GET',
      `${path}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    if (res.body.nextCursor !== null) expect(res.body.items.length).toBe(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor !== null);
  return items;
}

describe('layouts', () => {
  it('are created (201), replaced (200), read, listed by key in pages and deleted', async () => {
    const created = await put('/v1/layouts/crud-b', {
      html: '<main>{{ content }}</main>',
      text: '{{ content }}\n-- ACME',
      variables: { colour: '#ff0000', width: 600, dark: false },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({
      key: 'crud-b',
      name: 'crud-b',
      html: '<main>{{ content }}</main>',
      text: '{{ content }}\n-- ACME',
      variables: { colour: '#ff0000', width: 600, dark: false },
      default: false,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    const replaced = await put('/v1/layouts/crud-b', { name: 'Brand', html: '<div>{{- content -}}</div>' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      name: 'Brand',
      text: null,
      variables: {},
      createdAt: created.body.createdAt,
    });
    expect((await h.api('GET', '/v1/layouts/crud-b')).body).toEqual(replaced.body);
    for (const key of ['crud-a', 'crud-c'])
      expect((await put(`/v1/layouts/${key}`, { html: '{{content}}' })).status).toBe(201);
    const keys = (await listAll('/v1/layouts', 2)).map((layout) => layout.key).filter((key) => key.startsWith('crud-'));
    expect(keys).toEqual(['crud-a', 'crud-b', 'crud-c']);
    expect((await h.api('DELETE', '/v1/layouts/crud-a')).status).toBe(204);
    expectProblem(await h.api('GET', '/v1/layouts/crud-a'), 404, 'LAYOUT_NOT_FOUND');
    expectProblem(await h.api('DELETE', '/v1/layouts/crud-a'), 404, 'LAYOUT_NOT_FOUND');
    expectProblem(await h.api('GET', '/v1/layouts?cursor=%20x'), 400, 'INVALID_REQUEST');
    expectProblem(await put('/v1/layouts/bad%20key', { html: '{{ content }}' }), 400, 'INVALID_REQUEST');
  });

  it('need the {{ content }} slot once in each part, templates that parse and partials that exist', async () => {
    const none = await put('/v1/layouts/slotless', { html: '<main>{{ body }}</main>' });
    expectProblem(none, 422, 'VALIDATION_FAILED');
    expect(none.body.errors).toEqual([
      {
        path: '/html',
        message: expect.stringMatching(/^must hold the \{\{ content \}\} slot exactly once.*it has none$/),
      },
    ]);
    const twice = await put('/v1/layouts/slotless', { html: '{{ content }}{{content}}', text: 'no slot' });
    expect(twice.body.errors).toEqual([
      { path: '/html', message: expect.stringMatching(/it has 2$/) },
      { path: '/text', message: expect.stringMatching(/where the email's text goes; it has none$/) },
    ]);
    const broken = await put('/v1/layouts/slotless', { html: '{{ content }}\n{% if x %}' });
    expectProblem(broken, 422, 'TEMPLATE_INVALID');
    expect(broken.body.errors).toEqual([{ path: '/html', message: expect.stringMatching(/^line 2: /) }]);
    const unknown = await put('/v1/layouts/slotless', { html: "{{ content }}{% render 'no-such-partial' %}" });
    expectProblem(unknown, 422, 'UNKNOWN_PARTIALS');
    expect(unknown.body.errors).toEqual([
      { path: '/html', message: expect.stringContaining('"no-such-partial", which does not exist') },
    ]);
    const variables = await put('/v1/layouts/slotless', { html: '{{ content }}', variables: { 'no-dash': 1, ok: [] } });
    expectProblem(variables, 422, 'VALIDATION_FAILED');
    expectProblem(await h.api('GET', '/v1/layouts/slotless'), 404, 'LAYOUT_NOT_FOUND');
  });

  it('have one default at most: setting one clears the other, false clears it, left out keeps it', async () => {
    const defaults = async () => (await listAll('/v1/layouts', 100)).filter((l) => l.default).map((l) => l.key);
    expect((await put('/v1/layouts/default-a', { html: '{{ content }}', default: true })).body.default).toBe(true);
    expect((await put('/v1/layouts/default-b', { html: '{{ content }}' })).body.default).toBe(false);
    expect(await defaults()).toEqual(['default-a']);
    await put('/v1/layouts/default-b', { html: '{{ content }}', default: true });
    expect(await defaults()).toEqual(['default-b']);
    expect((await h.api('GET', '/v1/layouts/default-a')).body.default).toBe(false);
    expect((await put('/v1/layouts/default-b', { html: '<p>{{ content }}</p>' })).body.default).toBe(true);
    await put('/v1/layouts/default-b', { html: '{{ content }}', default: false });
    expect(await defaults()).toEqual([]);
    await h.api('DELETE', '/v1/layouts/default-a');
    await h.api('DELETE', '/v1/layouts/default-b');
  });

  it('named by a workflow must exist, and cannot be deleted while a workflow names it', async () => {
    const unknown = await put('/v1/workflows/named-layout', email({ html: '<p>x</p>', layout: 'inuse-layout' }));
    expectProblem(unknown, 422, 'UNKNOWN_LAYOUT');
    expect(unknown.body.errors).toEqual([
      { path: '/steps/0/layout', message: expect.stringContaining('no layout "inuse-layout"') },
    ]);
    expectProblem(
      await put('/v1/workflows/named-layout', email({ html: 'x', layout: true })),
      422,
      'VALIDATION_FAILED',
    );
    await put('/v1/layouts/inuse-layout', { html: '{{ content }}' });
    expect((await put('/v1/workflows/named-layout', email({ html: '<p>x</p>', layout: 'inuse-layout' }))).status).toBe(
      200,
    );
    const refused = await h.api('DELETE', '/v1/layouts/inuse-layout');
    expectProblem(refused, 409, 'TEMPLATE_IN_USE');
    expect(refused.body.detail).toContain('workflow "named-layout" (/steps/0/layout)');
    // Its current version decides: once it names no layout, the layout may go.
    expect((await put('/v1/workflows/named-layout', email({ html: '<p>x</p>', layout: false }))).status).toBe(200);
    expect((await h.api('DELETE', '/v1/layouts/inuse-layout')).status).toBe(204);
  });
});

describe('partials', () => {
  it('are created (201), replaced (200), read, listed by key in pages and deleted', async () => {
    const created = await put('/v1/partials/crud-2', { template: '<b>{{ label }}</b>' });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({
      key: 'crud-2',
      name: 'crud-2',
      template: '<b>{{ label }}</b>',
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    const replaced = await put('/v1/partials/crud-2', { name: 'Bold', template: '<strong>{{ label }}</strong>' });
    expect(replaced.status).toBe(200);
    expect((await h.api('GET', '/v1/partials/crud-2')).body).toEqual(replaced.body);
    await put('/v1/partials/crud-1', { template: 'one' });
    await put('/v1/partials/crud-3', { template: 'three' });
    const keys = (await listAll('/v1/partials', 2)).map((p) => p.key).filter((key) => key.startsWith('crud-'));
    expect(keys).toEqual(['crud-1', 'crud-2', 'crud-3']);
    expect((await h.api('DELETE', '/v1/partials/crud-1')).status).toBe(204);
    expectProblem(await h.api('GET', '/v1/partials/crud-1'), 404, 'PARTIAL_NOT_FOUND');
    expectProblem(await h.api('DELETE', '/v1/partials/crud-1'), 404, 'PARTIAL_NOT_FOUND');
  });

  it('must parse, render only partials that exist, by a quoted key, and never themselves', async () => {
    const broken = await put('/v1/partials/checked', { template: 'ok\n{% for %}' });
    expectProblem(broken, 422, 'TEMPLATE_INVALID');
    expect(broken.body.errors).toEqual([{ path: '/template', message: expect.stringMatching(/^line 2: /) }]);
    const dynamic = await put('/v1/partials/checked', { template: '{% render data.which %}' });
    expectProblem(dynamic, 422, 'TEMPLATE_INVALID');
    expect(dynamic.body.errors[0].message).toMatch(/key in quotes/);
    for (const tag of ["include 'x'", "layout 'x'"]) {
      expectProblem(await put('/v1/partials/checked', { template: `{% ${tag} %}` }), 422, 'TEMPLATE_INVALID');
    }
    const unknown = await put('/v1/partials/checked', {
      template: "{% render 'ghost-1' %}{% render 'ghost-2', x: 1 %}",
    });
    expectProblem(unknown, 422, 'UNKNOWN_PARTIALS');
    expect(unknown.body.detail).toContain('"ghost-1", "ghost-2"');
    expect(unknown.body.errors.map((e: any) => e.path)).toEqual(['/template', '/template']);

    const self = await put('/v1/partials/loop-a', { template: "again: {% render 'loop-a' %}" });
    expectProblem(self, 422, 'PARTIAL_CYCLE');
    expect(self.body.detail).toContain('loop-a → loop-a');
    expect((await put('/v1/partials/loop-a', { template: 'a' })).status).toBe(201);
    expect((await put('/v1/partials/loop-b', { template: "b {% render 'loop-a' %}" })).status).toBe(201);
    const cycle = await put('/v1/partials/loop-a', { template: "a {% render 'loop-b' %}" });
    expectProblem(cycle, 422, 'PARTIAL_CYCLE');
    expect(cycle.body.detail).toContain('loop-a → loop-b → loop-a');
    expect(cycle.body.errors).toEqual([
      { path: '/template', message: expect.stringContaining('loop-a → loop-b → loop-a') },
    ]);
    expect((await h.api('GET', '/v1/partials/loop-a')).body.template).toBe('a');
  });

  it('rendered by a workflow must exist, and cannot be deleted while anything renders them', async () => {
    const steps = [
      { type: 'sms', text: 'fine' },
      { type: 'email', subject: 'S', html: "<p>{% render 'used-leaf', n: 1 %}</p>", text: "{% render 'nowhere' %}" },
    ];
    const missing = await put('/v1/workflows/uses-partials', { steps });
    expectProblem(missing, 422, 'UNKNOWN_PARTIALS');
    expect(missing.body.errors).toEqual([
      { path: '/steps/1/html', message: expect.stringContaining('"used-leaf", which does not exist') },
      { path: '/steps/1/text', message: expect.stringContaining('"nowhere", which does not exist') },
    ]);
    await put('/v1/partials/used-leaf', { template: '{{ n }}' });
    await put('/v1/partials/used-branch', { template: "[{% render 'used-leaf', n: 2 %}]" });
    await put('/v1/partials/nowhere', { template: '-' });
    expect((await put('/v1/workflows/uses-partials', { steps })).status).toBe(200);
    const saved = await put('/v1/workflows/uses-partials', {
      steps: [{ type: 'in_app', body: "{% render 'used-leaf', n: 3 %}" }],
    });
    expect(saved.status, saved.text).toBe(200);
    await put('/v1/layouts/uses-leaf', { html: "{{ content }}{% render 'used-leaf', n: 4 %}" });

    const refused = await h.api('DELETE', '/v1/partials/used-leaf');
    expectProblem(refused, 409, 'TEMPLATE_IN_USE');
    expect(refused.body.detail).toContain('partial "used-branch"');
    expect(refused.body.detail).toContain('layout "uses-leaf"');
    expect(refused.body.detail).toContain('workflow "uses-partials" (/steps/0/body)');
    await h.api('DELETE', '/v1/partials/used-branch');
    await h.api('DELETE', '/v1/layouts/uses-leaf');
    await put('/v1/workflows/uses-partials', { steps: [{ type: 'in_app', body: 'plain' }] });
    expect((await h.api('DELETE', '/v1/partials/used-leaf')).status).toBe(204);
  });
});

describe('translations', () => {
  const messages = {
    welcome: { title: 'Bienvenue {{ name }}', items: { one: '1 article', other: '{{ count }} articles' } },
    bye: 'Au revoir',
  };

  it('are stored under the canonical locale, read, listed in pages and deleted', async () => {
    const created = await put('/v1/translations/fr-ca', { messages });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({
      locale: 'fr-CA',
      messages,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    expect((await put('/v1/translations/FR-CA', { messages: { bye: 'Salut' } })).status).toBe(200);
    expect((await h.api('GET', '/v1/translations/fr-CA')).body.messages).toEqual({ bye: 'Salut' });
    expect((await h.api('GET', '/v1/translations/fr-ca')).body.locale).toBe('fr-CA');
    await put('/v1/translations/de', { messages: { bye: 'Tschüss' } });
    await put('/v1/translations/pt-br', { messages: { bye: 'Tchau' } });
    expect((await listAll('/v1/translations', 2)).map((t) => t.locale)).toEqual(['de', 'fr-CA', 'pt-BR']);
    expect((await h.api('DELETE', '/v1/translations/de')).status).toBe(204);
    expectProblem(await h.api('GET', '/v1/translations/de'), 404, 'TRANSLATION_NOT_FOUND');
    expectProblem(await h.api('DELETE', '/v1/translations/de'), 404, 'TRANSLATION_NOT_FOUND');
  });

  it('refuse a locale that is not one, and messages that are not nested texts', async () => {
    const locale = await put('/v1/translations/1234', { messages });
    expectProblem(locale, 400, 'INVALID_REQUEST');
    expect(locale.body.errors).toEqual([{ path: '/locale', message: expect.stringContaining('BCP 47') }]);
    expectProblem(await h.api('GET', '/v1/translations/en_US'), 400, 'INVALID_REQUEST');

    const wrong = await put('/v1/translations/it', { messages: { a: 1, b: { c: ['x'] }, d: { e: null } } });
    expectProblem(wrong, 422, 'VALIDATION_FAILED');
    expect(wrong.body.errors.map((e: any) => e.path)).toEqual(['/messages/a', '/messages/b/c', '/messages/d/e']);
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 8; i++) deep = { level: deep };
    const tooDeep = await put('/v1/translations/it', { messages: deep });
    expectProblem(tooDeep, 422, 'VALIDATION_FAILED');
    expect(tooDeep.body.errors[0].message).toMatch(/deeper than 8 levels/);
    const large = await put('/v1/translations/it', { messages: { big: 'x'.repeat(300 * 1024) } });
    expectProblem(large, 422, 'VALIDATION_FAILED');
    expect(large.body.errors).toEqual([{ path: '/messages', message: expect.stringMatching(/over the 256 KB/) }]);
    expectProblem(await h.api('GET', '/v1/translations/it'), 404, 'TRANSLATION_NOT_FOUND');
  });
});
