import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { dropSchemas, ON_POSTGRES, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { testClock } from '../support/test-clock.js';
import { waitFor } from '../support/wait-for.js';
import { workflowCalls } from '../support/workflow-calls.js';

// A workflow's version history through the API: the list, one version, restoring one, and runs
// that keep the version their trigger saw. Time moves by a clock the test holds, so a run's delay
// ends when the test says.

const HOUR = 60 * 60_000;

let h: TestHerald;
const clock = testClock();

beforeAll(async () => {
  h = await startTestHerald({}, { clock });
});
afterAll(async () => {
  await h?.close();
});

const { trigger, message } = workflowCalls(() => h);

const email = (text: string) => ({ type: 'email', subject: text, text });

async function save(key: string, body: Record<string, unknown>) {
  const res = await h.api('PUT', `/v1/workflows/${key}`, body);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function version(key: string, n: number) {
  const res = await h.api('GET', `/v1/workflows/${key}/versions/${n}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function versionNumbers(key: string): Promise<number[]> {
  const res = await h.api('GET', `/v1/workflows/${key}/versions`);
  expect(res.status, res.text).toBe(200);
  return res.body.items.map((item: any) => item.version);
}

describe('GET /v1/workflows/{key}/versions', () => {
  it('lists every save newest first, one page at a time, each with its number, id, name, step count and time', async () => {
    const first = await save('history', { name: 'First', steps: [email('one')] });
    clock.advance(1000);
    const second = await save('history', {
      name: 'Second',
      steps: [{ type: 'in_app', body: 'two' }, { type: 'delay', for: '1m' }, email('two')],
    });
    clock.advance(1000);
    const third = await save('history', { steps: [email('three'), email('three again')] });

    const all = await h.api('GET', '/v1/workflows/history/versions');
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      items: [
        { version: 3, versionId: expect.any(String), name: 'history', stepCount: 2, createdAt: third.updatedAt },
        { version: 2, versionId: expect.any(String), name: 'Second', stepCount: 3, createdAt: second.updatedAt },
        { version: 1, versionId: expect.any(String), name: 'First', stepCount: 1, createdAt: first.updatedAt },
      ],
      nextCursor: null,
    });
    for (const item of all.body.items) expect((await version('history', item.version)).versionId).toBe(item.versionId);
    expect(new Set(all.body.items.map((item: any) => item.versionId)).size).toBe(3);

    const seen: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const res = await h.api('GET', `/v1/workflows/history/versions?limit=2${query}`);
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.items.map((item: any) => item.version));
      cursor = res.body.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual([3, 2, 1]);
  });

  it('refuses a malformed cursor or limit (400) and answers 404 for a key that never had a workflow', async () => {
    await save('paged', { steps: [email('x')] });
    expectProblem(await h.api('GET', '/v1/workflows/paged/versions?cursor=3'), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', '/v1/workflows/paged/versions?limit=0'), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', '/v1/workflows/paged/versions?limit=101'), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', '/v1/workflows/paged/versions?sort=asc'), 400, 'INVALID_REQUEST');
    const none = await h.api('GET', '/v1/workflows/never-saved/versions');
    expectProblem(none, 404, 'WORKFLOW_NOT_FOUND');
    expect(none.body.detail).toBe('No workflow with key "never-saved"');
  });
});

describe('GET /v1/workflows/{key}/versions/{n}', () => {
  it('reads one version in full, as it was saved, consent fields included', async () => {
    const consent = { category: 'billing', critical: true, preferences: { channels: { sms: false } } };
    const steps = [{ type: 'in_app', ref: 'bell', body: 'Invoice {{ data.n }}' }, email('Invoice')];
    const saved = await save('invoice', { name: 'Invoice', ...consent, steps });
    clock.advance(1000);
    await save('invoice', { steps: [email('Other')] });

    const first = await version('invoice', 1);
    expect(first).toEqual({
      key: 'invoice',
      name: 'Invoice',
      version: 1,
      versionId: expect.stringMatching(/^wfv_/),
      ...consent,
      steps,
      createdAt: saved.updatedAt,
    });
    const second = await version('invoice', 2);
    expect(second).toMatchObject({ name: 'invoice', version: 2, steps: [email('Other')] });
    expect(second).not.toHaveProperty('category');
    expect(second).not.toHaveProperty('critical');
    expect(second.versionId).not.toBe(first.versionId);
  });

  it('answers VERSION_NOT_FOUND for a number the workflow never had, 400 for one that is no number', async () => {
    await save('numbered', { steps: [email('x')] });
    const missing = await h.api('GET', '/v1/workflows/numbered/versions/2');
    expectProblem(missing, 404, 'VERSION_NOT_FOUND');
    expect(missing.body.detail).toContain('GET /v1/workflows/numbered/versions');
    expectProblem(await h.api('GET', '/v1/workflows/never-saved/versions/1'), 404, 'WORKFLOW_NOT_FOUND');
    for (const n of ['0', '-1', 'one', '1.5', '2147483648', '99999999999999999999']) {
      const res = await h.api('GET', `/v1/workflows/numbered/versions/${n}`);
      expectProblem(res, 400, 'INVALID_REQUEST');
      expect(res.body.errors, n).toEqual([{ path: '/n', message: expect.any(String) }]);
      expectProblem(await h.api('POST', `/v1/workflows/numbered/versions/${n}/restore`), 400, 'INVALID_REQUEST');
    }
  });
});

describe('a deleted workflow', () => {
  it('keeps its versions readable one by one, answers 404 for its list and restore, and numbers on when saved again', async () => {
    await save('retired', { name: 'Retired', steps: [email('one')] });
    await save('retired', { steps: [email('two')] });
    expect((await h.api('DELETE', '/v1/workflows/retired')).status).toBe(204);

    expect(await version('retired', 1)).toMatchObject({ name: 'Retired', version: 1, steps: [email('one')] });
    expect(await version('retired', 2)).toMatchObject({ version: 2, steps: [email('two')] });
    expectProblem(await h.api('GET', '/v1/workflows/retired/versions/3'), 404, 'VERSION_NOT_FOUND');
    const list = await h.api('GET', '/v1/workflows/retired/versions');
    expectProblem(list, 404, 'WORKFLOW_NOT_FOUND');
    expect(list.body.detail).toContain('was deleted');
    expectProblem(await h.api('POST', '/v1/workflows/retired/versions/1/restore'), 404, 'WORKFLOW_NOT_FOUND');
    expectProblem(await h.api('GET', '/v1/workflows/retired'), 404, 'WORKFLOW_NOT_FOUND');

    // Saved again, it goes on from its highest number: each number still names one version.
    const again = await save('retired', { steps: [email('three')] });
    expect(again.version).toBe(3);
    expect(await versionNumbers('retired')).toEqual([3, 2, 1]);
    expect(await version('retired', 1)).toMatchObject({ name: 'Retired', steps: [email('one')] });
  });
});

describe('POST /v1/workflows/{key}/versions/{n}/restore', () => {
  it('saves a new version equal to n, name and consent fields included, and leaves every earlier version as it was', async () => {
    const consent = { category: 'security', critical: true, preferences: { channels: { email: true } } };
    const steps = [{ type: 'in_app', body: 'Signed in from {{ data.city }}' }, email('New sign-in')];
    await save('sign-in', { name: 'Sign-in alert', ...consent, steps });
    await save('sign-in', { name: 'Changed', steps: [email('Changed')] });
    const before = [await version('sign-in', 1), await version('sign-in', 2)];

    const res = await h.api('POST', '/v1/workflows/sign-in/versions/1/restore');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      key: 'sign-in',
      name: 'Sign-in alert',
      version: 3,
      ...consent,
      steps,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    expect((await h.api('GET', '/v1/workflows/sign-in')).body).toEqual(res.body);
    expect([await version('sign-in', 1), await version('sign-in', 2)]).toEqual(before);
    const restored = await version('sign-in', 3);
    expect(restored).toEqual({
      ...before[0],
      version: 3,
      versionId: restored.versionId,
      createdAt: res.body.updatedAt,
    });
    expect(restored.versionId).not.toBe(before[0].versionId);
    expect(await versionNumbers('sign-in')).toEqual([3, 2, 1]);

    // Restoring the current version is a save too; a version without consent fields restores none.
    const again = await h.api('POST', '/v1/workflows/sign-in/versions/2/restore', '', {
      'content-type': 'application/json',
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ name: 'Changed', version: 4, steps: [email('Changed')] });
    expect(again.body).not.toHaveProperty('category');
    expect(again.body).not.toHaveProperty('critical');
  });

  it('answers VERSION_NOT_FOUND for a number the workflow never had, and saves nothing', async () => {
    await save('short-history', { steps: [email('x')] });
    expectProblem(await h.api('POST', '/v1/workflows/short-history/versions/5/restore'), 404, 'VERSION_NOT_FOUND');
    expectProblem(await h.api('POST', '/v1/workflows/never-saved/versions/1/restore'), 404, 'WORKFLOW_NOT_FOUND');
    expect(await versionNumbers('short-history')).toEqual([1]);
  });

  it('runs the checks of a save: a webhook URL refused since it was saved is refused on restore (422)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-versions-'));
    const schema = ON_POSTGRES ? testSchema() : undefined;
    const start = (allow: string) =>
      startTestHerald({
        'data-dir': dir,
        'allow-private-networks': allow,
        ...(schema && { database: testDatabaseUrl(schema) }),
      });
    try {
      const open = await start('127.0.0.0/8');
      try {
        const saved = await open.api('PUT', '/v1/workflows/inward', {
          steps: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
        });
        expect(saved.status, saved.text).toBe(200);
        expect((await open.api('PUT', '/v1/workflows/inward', { steps: [email('x')] })).status).toBe(200);
      } finally {
        await open.close();
      }

      const closed = await start('');
      try {
        const res = await closed.api('POST', '/v1/workflows/inward/versions/1/restore');
        expectProblem(res, 422, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual([
          { path: '/steps/0/url', message: expect.stringMatching(/^refused: .*HERALD_ALLOW_PRIVATE_NETWORKS/) },
        ]);
        const list = await closed.api('GET', '/v1/workflows/inward/versions');
        expect(list.body.items.map((item: any) => item.version)).toEqual([2, 1]);
        expect((await closed.api('GET', '/v1/workflows/inward')).body.version).toBe(2);
      } finally {
        await closed.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (schema) await dropSchemas(schema);
    }
  });
});

describe('runs keep the version their trigger saw', () => {
  it('renders B for the run triggered under version 2, though version 1 (A) was restored as version 3 before it sent', async () => {
    const steps = (text: string) => [{ type: 'delay', for: '1h' }, email(text)];
    await save('versioned-run', { steps: steps('A') });
    const underOne = await trigger('versioned-run', { to: { subscriberId: 'vr-1', email: 'vr-1@example.com' } });
    await save('versioned-run', { steps: steps('B') });
    const underTwo = await trigger('versioned-run', { to: { subscriberId: 'vr-2', email: 'vr-2@example.com' } });
    const restored = await h.api('POST', '/v1/workflows/versioned-run/versions/1/restore');
    expect(restored.body, restored.text).toMatchObject({ version: 3, steps: steps('A') });
    const underThree = await trigger('versioned-run', { to: { subscriberId: 'vr-3', email: 'vr-3@example.com' } });

    // Every run sleeps in its delay before the clock moves (a run that entered it later would
    // sleep an hour from then); none has rendered anything yet.
    const triggers = [underOne, underTwo, underThree];
    await waitFor(
      async () => {
        const runs = await Promise.all(
          triggers.map(async (t) => (await h.api('GET', `/v1/triggers/${t.triggerId}`)).body.runs[0]),
        );
        return runs.every((run) => run?.state === 'waiting' && run.step === 'delay_1');
      },
      { what: 'the three runs to wait in their delay' },
    );
    const seen = await Promise.all(
      triggers.map(async (t) => (await h.api('GET', `/v1/triggers/${t.triggerId}`)).body.workflowVersionId),
    );
    expect(seen).toEqual([
      (await version('versioned-run', 1)).versionId,
      (await version('versioned-run', 2)).versionId,
      (await version('versioned-run', 3)).versionId,
    ]);
    const ids = triggers.map((t) => t.messageIds[0]!);
    for (const id of ids) expect((await message(id)).status).toBe('pending');

    clock.advance(HOUR + 1000);
    const sent = await waitFor(
      async () => {
        const messages = await Promise.all(ids.map((id) => message(id)));
        return messages.every((m) => m.status === 'sent') ? messages : undefined;
      },
      { what: 'the three runs to send', timeoutMs: 15_000 },
    );
    expect(sent.map((m) => m.subject)).toEqual(['A', 'B', 'A']);
    const mail = (await h.api('GET', '/v1/dev/mail?limit=100')).body.items as any[];
    const textOf = (id: string) => mail.find((m) => m.messageId === id)?.text.trim();
    expect(ids.map(textOf)).toEqual(['A', 'B', 'A']);
  });
});
