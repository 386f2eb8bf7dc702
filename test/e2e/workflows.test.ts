import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const emailStep = (fields: Record<string, string>) => ({ type: 'email', subject: 'Subject', ...fields });

/** Triggers `key` for one fresh subscriber and waits until its message is final. */
async function deliverOnce(key: string, data: Record<string, unknown> = {}, subscriber: Record<string, unknown> = {}) {
  const subscriberId = `${key}-${Math.random().toString(36).slice(2)}`;
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, {
    to: { subscriberId, email: `${subscriberId}@example.com`, ...subscriber },
    data,
  });
  expect(res.status).toBe(202);
  const messageId: string = res.body.messageIds[0];
  const message = await waitFor(
    async () => {
      const m = await h.api('GET', `/v1/messages/${messageId}`);
      return ['sent', 'failed', 'skipped'].includes(m.body.status) ? m.body : undefined;
    },
    { what: `message ${messageId} to finish` },
  );
  const mail = await h.api('GET', '/v1/dev/mail?limit=100');
  return { message, mail: mail.body.items.find((m: any) => m.messageId === messageId) };
}

/** Saves a workflow with one step and expects a 422 TEMPLATE_INVALID; returns its field errors. */
async function templateErrors(step: Record<string, string>) {
  const res = await h.api('PUT', '/v1/workflows/broken', { steps: [emailStep(step)] });
  expectProblem(res, 422, 'TEMPLATE_INVALID');
  return res.body.errors as { path: string; message: string }[];
}

describe('workflow CRUD', () => {
  it('creates, reads and re-saves with an increasing version', async () => {
    const first = await h.api('PUT', '/v1/workflows/welcome', {
      name: 'Welcome',
      steps: [emailStep({ html: '<p>Hi</p>' })],
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ key: 'welcome', name: 'Welcome', version: 1 });
    expect(first.body.steps).toEqual([emailStep({ html: '<p>Hi</p>' })]);

    const got = await h.api('GET', '/v1/workflows/welcome');
    expect(got.status).toBe(200);
    expect(got.body).toEqual(first.body);

    const second = await h.api('PUT', '/v1/workflows/welcome', { steps: [emailStep({ text: 'Hi again' })] });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ key: 'welcome', name: 'welcome', version: 2, createdAt: first.body.createdAt });
    expect((await h.api('GET', '/v1/workflows/welcome')).body.steps).toEqual([emailStep({ text: 'Hi again' })]);
  });

  it('deletes with 204, then GET and DELETE answer 404', async () => {
    await h.api('PUT', '/v1/workflows/short-lived', { steps: [emailStep({ text: 'x' })] });
    const res = await h.api('DELETE', '/v1/workflows/short-lived');
    expect(res.status).toBe(204);
    expectProblem(await h.api('GET', '/v1/workflows/short-lived'), 404, 'WORKFLOW_NOT_FOUND');
    expectProblem(await h.api('DELETE', '/v1/workflows/short-lived'), 404, 'WORKFLOW_NOT_FOUND');
  });

  it('still delivers messages accepted before the workflow was deleted or changed', async () => {
    await h.api('PUT', '/v1/workflows/doomed', { steps: [emailStep({ subject: 'Version one', text: 'x' })] });
    const res = await h.api('POST', '/v1/workflows/doomed/trigger', {
      to: { subscriberId: 'doomed-1', email: 'doomed-1@example.com' },
    });
    expect(res.status).toBe(202);
    await h.api('PUT', '/v1/workflows/doomed', { steps: [emailStep({ subject: 'Version two', text: 'x' })] });
    expect((await h.api('DELETE', '/v1/workflows/doomed')).status).toBe(204);
    const message = await waitFor(async () => {
      const m = await h.api('GET', `/v1/messages/${res.body.messageIds[0]}`);
      return m.body.status === 'sent' ? m.body : undefined;
    });
    expect(message.subject).toBe('Version one');
    expectProblem(await h.api('POST', '/v1/workflows/doomed/trigger', { to: 'doomed-1' }), 404, 'WORKFLOW_NOT_FOUND');
  });

  it('lists workflows ordered by key, one page at a time', async () => {
    const own = await startTestHerald();
    try {
      for (const key of ['charlie', 'alpha', 'bravo']) {
        expect((await own.api('PUT', `/v1/workflows/${key}`, { steps: [emailStep({ text: key })] })).status).toBe(200);
      }
      const keys: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const res = await own.api('GET', `/v1/workflows?limit=1${query}`);
        expect(res.status).toBe(200);
        expect(res.body.items).toHaveLength(1);
        keys.push(res.body.items[0].key);
        cursor = res.body.nextCursor;
        if (cursor === null) break;
      }
      expect(keys).toEqual(['alpha', 'bravo', 'charlie']);
      const all = await own.api('GET', '/v1/workflows');
      expect(all.body.items.map((w: any) => w.key)).toEqual(['alpha', 'bravo', 'charlie']);
      expect(all.body.nextCursor).toBeNull();
    } finally {
      await own.close();
    }
  });
});

describe('validation on save', () => {
  it('refuses a step without html and text, naming /steps/0', async () => {
    const res = await h.api('PUT', '/v1/workflows/no-body', { steps: [{ type: 'email', subject: 'Hi' }] });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    expect(res.body.errors.map((e: any) => e.path)).toEqual(['/steps/0']);
    expectProblem(await h.api('GET', '/v1/workflows/no-body'), 404);
  });

  it('refuses a Liquid syntax error in the subject, naming field and line', async () => {
    const errors = await templateErrors({ subject: '{% if %}', html: '<p>ok</p>' });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('/steps/0/subject');
    expect(errors[0]!.message).toMatch(/line 1\b/);
  });

  it('refuses an unknown filter in the html', async () => {
    const errors = await templateErrors({ html: '<p>{{ x | no_such_filter }}</p>' });
    expect(errors[0]).toMatchObject({ path: '/steps/0/html', message: expect.stringMatching(/line 1\b/) });
  });

  it('reports the line of an error in a multi-line template', async () => {
    const errors = await templateErrors({ text: 'Hello,\n\n{% if subscriber.name %}\nbye' });
    expect(errors[0]).toMatchObject({ path: '/steps/0/text', message: expect.stringMatching(/line 3\b/) });
    const unclosed = await templateErrors({ html: '<p>\n<b>\n{{ data.x </b>\n</p>' });
    expect(unclosed[0]).toMatchObject({ path: '/steps/0/html', message: expect.stringMatching(/line 3\b/) });
  });

  it('names every broken field of every step', async () => {
    const res = await h.api('PUT', '/v1/workflows/broken', {
      steps: [emailStep({ html: 'ok' }), emailStep({ subject: '{% endif %}', text: '{{ a | nope }}' })],
    });
    expectProblem(res, 422, 'TEMPLATE_INVALID');
    expect(res.body.errors.map((e: any) => e.path)).toEqual(['/steps/1/subject', '/steps/1/text']);
  });
});

describe('template sandbox', () => {
  it('reads only own properties of the context', async () => {
    await h.api('PUT', '/v1/workflows/own-props', {
      steps: [
        emailStep({
          subject: '[{{ data.constructor }}][{{ subscriber.__proto__ }}][{{ data.x.constructor.name }}][{{ data.x }}]',
          text: '{{ subscriber.toString }}|{{ data.hasOwnProperty }}|{{ subscriber.email }}',
        }),
      ],
    });
    const { message, mail } = await deliverOnce('own-props', { x: 'plain' });
    expect(message.status).toBe('sent');
    expect(mail.subject).toBe('[][][][plain]');
    expect(mail.text).toBe(`||${mail.to}`);
  });

  it('refuses tags that load files when the workflow is saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-include-'));
    const secret = join(dir, 'secret.liquid');
    writeFileSync(secret, 'TOP-SECRET-FILE-CONTENT');
    try {
      for (const tag of [`include '${secret}'`, `layout '${secret}'`, 'render data.file', `render '{{ data.file }}'`]) {
        const saved = await h.api('PUT', '/v1/workflows/includer', {
          steps: [emailStep({ html: `<p>ok</p>\n<p>{% ${tag} %}</p>` })],
        });
        expectProblem(saved, 422, 'TEMPLATE_INVALID');
        expect(saved.body.errors).toEqual([
          { path: '/steps/0/html', message: expect.stringMatching(/^line 2: .*(not available|key in quotes)/) },
        ]);
        expect(saved.text).not.toContain('TOP-SECRET');
      }
      // {% render %} reads the environment's stored partials, never files: a path names no partial.
      const saved = await h.api('PUT', '/v1/workflows/includer', {
        steps: [emailStep({ html: `<p>{% render '${secret}' %}</p>` })],
      });
      expectProblem(saved, 422, 'UNKNOWN_PARTIALS');
      expect(saved.text).not.toContain('TOP-SECRET');
      expectProblem(await h.api('GET', '/v1/workflows/includer'), 404, 'WORKFLOW_NOT_FOUND');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops a runaway template at the render limits and fails the message', async () => {
    await h.api('PUT', '/v1/workflows/runaway', {
      // 10^8 loop turns: seconds at least, whatever the machine, against a 250 ms limit.
      steps: [
        emailStep({
          text:
            '{% assign ten = "0,1,2,3,4,5,6,7,8,9" | split: "," %}' +
            '{% for a in ten %}{% for b in ten %}{% for c in ten %}{% for d in ten %}' +
            '{% for e in ten %}{% for f in ten %}{% for g in ten %}{% for h in ten %}x' +
            '{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}',
        }),
      ],
    });
    const { message, mail } = await deliverOnce('runaway');
    expect(message.status).toBe('failed');
    expect(message.reason).toMatch(/^template render failed: render time limit exceeded: stopped after \d+ ms/);
    expect(mail).toBeUndefined();
  });

  it('escapes HTML output by default and derives the text part from the html', async () => {
    await h.api('PUT', '/v1/workflows/escaping', {
      steps: [emailStep({ subject: 'For {{ data.x }}', html: '<p>Hi {{ data.x }}</p><p>Bye &amp; <b>thanks</b></p>' })],
    });
    const { message, mail } = await deliverOnce('escaping', { x: '<script>alert(1)</script>' });
    expect(message.status).toBe('sent');
    expect(mail.html).toBe('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p><p>Bye &amp; <b>thanks</b></p>');
    expect(mail.text).toBe('Hi <script>alert(1)</script>\n\nBye & thanks');
    expect(mail.subject).toBe('For <script>alert(1)</script>'); // a subject is text, not HTML
  });

  it('sends only the text part when only text is given', async () => {
    await h.api('PUT', '/v1/workflows/text-only', { steps: [emailStep({ text: 'Plain {{ data.x }}' })] });
    const { mail } = await deliverOnce('text-only', { x: '<b>' });
    expect(mail.html).toBeNull();
    expect(mail.text).toBe('Plain <b>');
  });
});

describe('validation errors name the fix', () => {
  /** The field errors of a workflow Herald refuses with 422 VALIDATION_FAILED (and does not save). */
  async function refused(steps: unknown) {
    const res = await h.api('PUT', '/v1/workflows/refused', { steps });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    expectProblem(await h.api('GET', '/v1/workflows/refused'), 404);
    return { errors: res.body.errors, detail: res.body.detail };
  }
  const TYPES = 'email, sms, push, chat, webhook, in_app, delay, digest, throttle';

  it('answers an unknown step type with one error listing the types', async () => {
    const { errors, detail } = await refused([{ type: 'mail', subject: 'Hi', text: 'x' }]);
    expect(errors).toEqual([{ path: '/steps/0/type', message: `must be one of ${TYPES}` }]);
    expect(detail).toBe(`Invalid body: /steps/0/type must be one of ${TYPES}`);
    expect((await refused([{ type: 5 }])).errors).toEqual([
      { path: '/steps/0/type', message: `must be one of ${TYPES}` },
    ]);
  });

  it('answers a step without a type with one error listing the types', async () => {
    expect((await refused([{ subject: 'Hi', text: 'x' }])).errors).toEqual([
      { path: '/steps/0/type', message: `is required: one of ${TYPES}` },
    ]);
  });

  it("answers a step of a known type with that type's errors only", async () => {
    expect((await refused([{ type: 'sms' }])).errors).toEqual([{ path: '/steps/0/text', message: 'is required' }]);
    expect((await refused([{ type: 'email', subject: '', htm: '<p>x</p>' }])).errors).toEqual([
      {
        path: '/steps/0/htm',
        message: 'is not a known field; known fields: type, ref, if, subject, html, text, layout, window',
      },
      { path: '/steps/0/subject', message: 'must not be empty' },
    ]);
    expect((await refused([{ type: 'push', title: 'T', body: 'B', data: { n: 1 } }])).errors).toEqual([
      { path: '/steps/0/data/n', message: 'must be a string' },
    ]);
  });

  it('answers each step on its own, in order', async () => {
    const { errors } = await refused([
      { type: 'sms', text: 'ok' },
      5,
      { type: 'fax' },
      { type: 'in_app', body: 'x'.repeat(10_001) },
    ]);
    expect(errors).toEqual([
      { path: '/steps/1', message: 'must be an object' },
      { path: '/steps/2/type', message: `must be one of ${TYPES}` },
      { path: '/steps/3/body', message: 'must be at most 10000 characters long' },
    ]);
    expect((await refused([])).errors).toEqual([{ path: '/steps', message: 'must have at least 1 item' }]);
  });

  it('names the known fields and what a key may be', async () => {
    const res = await h.api('PUT', '/v1/workflows/refused', { steps: [emailStep({ text: 'x' })], title: 'T' });
    expect(res.body.errors).toEqual([
      { path: '/title', message: 'is not a known field; known fields: name, category, critical, preferences, steps' },
    ]);
    const badKey = await h.api('GET', '/v1/workflows/-dash');
    expectProblem(badKey, 400, 'INVALID_REQUEST');
    expect(badKey.body.errors).toEqual([
      {
        path: '/key',
        message: 'must be up to 100 letters, digits, ".", "_" or "-", starting with a letter or digit',
      },
    ]);
    const list = await h.api('GET', '/v1/workflows?limit=0&order=key');
    expectProblem(list, 400, 'INVALID_REQUEST');
    expect(list.body.errors).toEqual([
      { path: '/order', message: 'is not a known field; known fields: limit, cursor' },
      { path: '/limit', message: 'must be at least 1' },
    ]);
  });
});
