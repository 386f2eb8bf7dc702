import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import type { WorkflowStep } from '../../../src/core/types.js';
import { T0, type OpenedStore, type OpenStore } from './fixtures.js';

const steps = (subject: string): WorkflowStep[] => [{ type: 'email', subject, text: 't' }];

/** Workflows and their immutable versions (WorkflowStore). */
export function describeWorkflowsContract(name: string, open: OpenStore) {
  describe(`${name} store: workflows`, () => {
    it('saves successive versions, reads, pages and deletes workflows, and keeps every version', async () => {
      const { store, environmentId: env, close } = await open();
      const first = await store.putWorkflow(
        env,
        { key: 'b', name: 'B', steps: steps('one'), versionId: newId('wfv', T0) },
        T0,
      );
      expect(first).toMatchObject({ key: 'b', name: 'B', version: 1, createdAt: T0, updatedAt: T0 });
      const second = await store.putWorkflow(
        env,
        { key: 'b', name: 'B2', steps: steps('two'), versionId: newId('wfv', T0 + 1) },
        T0 + 1,
      );
      expect(second).toMatchObject({ name: 'B2', version: 2, createdAt: T0, updatedAt: T0 + 1 });
      expect(await store.getWorkflow(env, 'b')).toEqual(second);
      expect(await store.getWorkflow('env_other', 'b')).toBeUndefined();

      for (const key of ['a', 'c']) {
        await store.putWorkflow(env, { key, name: key, steps: steps(key), versionId: newId('wfv', T0) }, T0);
      }
      const firstPage = await store.listWorkflows(env, 2);
      expect(firstPage.items.map((w) => w.key)).toEqual(['a', 'b']);
      expect(firstPage.items[1]).toEqual(second);
      const secondPage = await store.listWorkflows(env, 2, firstPage.nextCursor!);
      expect(secondPage).toMatchObject({ items: [{ key: 'c' }], nextCursor: null });
      expect((await store.listWorkflows('env_other', 10)).items).toEqual([]);

      expect(await store.deleteWorkflow('env_other', 'b')).toBe(false);
      expect(await store.deleteWorkflow(env, 'b')).toBe(true);
      expect(await store.deleteWorkflow(env, 'b')).toBe(false);
      expect(await store.getWorkflow(env, 'b')).toBeUndefined();
      // Messages already accepted render the version they were planned with: versions outlive it.
      const versions = await store.getWorkflowVersions([first.versionId, second.versionId, 'wfv_none']);
      expect(versions.sort((x, y) => (x.versionId < y.versionId ? -1 : 1))).toEqual([
        { versionId: first.versionId, key: 'b', name: 'B', steps: steps('one') },
        { versionId: second.versionId, key: 'b', name: 'B2', steps: steps('two') },
      ]);
      await close();
    });

    it("keeps each version's category, critical flag and channel defaults, and none when it set none", async () => {
      const { store, environmentId: env, close } = await open();
      const consent = { category: 'billing', critical: true, preferences: { channels: { sms: false } } };
      const first = await store.putWorkflow(
        env,
        { key: 'invoice', name: 'Invoice', steps: steps('one'), versionId: newId('wfv', T0), ...consent },
        T0,
      );
      expect(first).toMatchObject(consent);
      expect(await store.getWorkflow(env, 'invoice')).toEqual(first);
      const second = await store.putWorkflow(
        env,
        { key: 'invoice', name: 'Invoice', steps: steps('two'), versionId: newId('wfv', T0 + 1) },
        T0 + 1,
      );
      const read = await store.getWorkflow(env, 'invoice');
      expect(read).toEqual(second);
      expect(read).not.toHaveProperty('category');
      expect(read).not.toHaveProperty('critical');
      expect((await store.listWorkflows(env, 10)).items).toEqual([second]);
      const versions = await store.getWorkflowVersions([first.versionId, second.versionId]);
      expect(versions.find((v) => v.versionId === first.versionId)).toEqual({
        versionId: first.versionId,
        key: 'invoice',
        name: 'Invoice',
        steps: steps('one'),
        ...consent,
      });
      expect(versions.find((v) => v.versionId === second.versionId)).not.toHaveProperty('category');
      await close();
    });

    it('numbers versions on across a delete, lists them highest first a page at a time, and reads one by number', async () => {
      const { store, environmentId: env, close } = await open();
      const consent = { category: 'billing', critical: true, preferences: { channels: { sms: false } } };
      const two: WorkflowStep[] = [...steps('one'), { type: 'in_app', body: 'b' }];
      const first = await store.putWorkflow(
        env,
        { key: 'h', name: 'H', steps: two, versionId: newId('wfv', T0), ...consent },
        T0,
      );
      const second = await store.putWorkflow(
        env,
        { key: 'h', name: 'H2', steps: steps('two'), versionId: newId('wfv', T0 + 1) },
        T0 + 1,
      );
      await store.putWorkflow(env, { key: 'other', name: 'O', steps: steps('o'), versionId: newId('wfv', T0) }, T0);
      expect(await store.deleteWorkflow(env, 'h')).toBe(true);
      // Saved again after a delete: the numbers go on, so each names one version of the key.
      const third = await store.putWorkflow(
        env,
        { key: 'h', name: 'H3', steps: steps('three'), versionId: newId('wfv', T0 + 2) },
        T0 + 2,
      );
      expect(third).toMatchObject({ version: 3, createdAt: T0 + 2, updatedAt: T0 + 2 });

      const firstPage = await store.listWorkflowVersions(env, 'h', 2);
      expect(firstPage).toEqual({
        items: [
          { version: 3, versionId: third.versionId, name: 'H3', stepCount: 1, createdAt: T0 + 2 },
          { version: 2, versionId: second.versionId, name: 'H2', stepCount: 1, createdAt: T0 + 1 },
        ],
        nextCursor: second.versionId,
      });
      expect(await store.listWorkflowVersions(env, 'h', 2, firstPage.nextCursor!)).toEqual({
        items: [{ version: 1, versionId: first.versionId, name: 'H', stepCount: 2, createdAt: T0 }],
        nextCursor: null,
      });
      expect((await store.listWorkflowVersions(env, 'h', 3)).nextCursor).toBeNull();
      expect((await store.listWorkflowVersions(env, 'none', 10)).items).toEqual([]);
      expect((await store.listWorkflowVersions('env_other', 'h', 10)).items).toEqual([]);
      // A cursor of another key's version reads nothing, not the list from the start.
      const otherVersion = (await store.getWorkflow(env, 'other'))!.versionId;
      expect(await store.listWorkflowVersions(env, 'h', 10, otherVersion)).toEqual({ items: [], nextCursor: null });

      expect(await store.getWorkflowVersionByNumber(env, 'h', 1)).toEqual({
        versionId: first.versionId,
        key: 'h',
        name: 'H',
        steps: two,
        ...consent,
        version: 1,
        createdAt: T0,
      });
      const read = await store.getWorkflowVersionByNumber(env, 'h', 2);
      expect(read).toEqual({
        versionId: second.versionId,
        key: 'h',
        name: 'H2',
        steps: steps('two'),
        version: 2,
        createdAt: T0 + 1,
      });
      expect(await store.getWorkflowVersionByNumber(env, 'h', 4)).toBeUndefined();
      expect(await store.getWorkflowVersionByNumber(env, 'other', 2)).toBeUndefined();
      expect(await store.getWorkflowVersionByNumber('env_other', 'h', 1)).toBeUndefined();
      await close();
    });

    it('gives concurrent saves successive numbers, after a delete too', async () => {
      const { store, environmentId: env, close } = await open();
      const save = (i: number) =>
        store.putWorkflow(env, { key: 'busy', name: `n${i}`, steps: steps(`s${i}`), versionId: newId('wfv', T0) }, T0);
      const numbers = async (count: number) =>
        (await Promise.all(Array.from({ length: count }, (_, i) => save(i)))).map((w) => w.version);
      expect((await numbers(6)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      await store.deleteWorkflow(env, 'busy');
      expect((await numbers(6)).sort((a, b) => a - b)).toEqual([7, 8, 9, 10, 11, 12]);
      const current = await store.getWorkflow(env, 'busy');
      expect(current?.version).toBe(12);
      const listed = await store.listWorkflowVersions(env, 'busy', 100);
      expect(listed.items.map((v) => v.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(listed.items[0]!.versionId).toBe(current!.versionId);
      await close();
    });
  });
}

/** A workflow_versions row written behind the store's back, as an older Herald left it. */
export interface RawVersionRow {
  id: string;
  environmentId: string;
  key: string;
  name: string;
  version: number;
  steps: string;
  createdAt: number;
}

/**
 * Before numbers went on across a delete, a workflow deleted and saved again started again at 1,
 * so an older database may hold one number twice for a key. `insert` writes such a row directly.
 */
export function describeRepeatedVersionNumbers<Opened extends OpenedStore>(
  name: string,
  open: () => Promise<Opened>,
  insert: (opened: Opened, row: RawVersionRow) => Promise<void>,
) {
  describe(`${name} store: version numbers an older Herald saved twice`, () => {
    it('lists both, the later save first, pages through them, reads the later by number and saves past both', async () => {
      const opened = await open();
      const { store, environmentId: env, close } = opened;
      const first = await store.putWorkflow(
        env,
        { key: 'old', name: 'one', steps: steps('one'), versionId: newId('wfv', T0) },
        T0,
      );
      const second = await store.putWorkflow(
        env,
        { key: 'old', name: 'two', steps: steps('two'), versionId: newId('wfv', T0 + 1) },
        T0 + 1,
      );
      await store.deleteWorkflow(env, 'old');
      // Saved again by an older Herald: version 1 again, made current.
      const again = newId('wfv', T0 + 2);
      await insert(opened, {
        id: again,
        environmentId: env,
        key: 'old',
        name: 'again',
        version: 1,
        steps: JSON.stringify(steps('again')),
        createdAt: T0 + 2,
      });

      const listed = await store.listWorkflowVersions(env, 'old', 10);
      expect(listed.items.map((v) => [v.version, v.versionId])).toEqual([
        [2, second.versionId],
        [1, again],
        [1, first.versionId],
      ]);
      const paged: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 5; i++) {
        const page = await store.listWorkflowVersions(env, 'old', 1, cursor);
        paged.push(...page.items.map((v) => v.versionId));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(paged).toEqual([second.versionId, again, first.versionId]);
      expect(await store.getWorkflowVersionByNumber(env, 'old', 1)).toMatchObject({ versionId: again, name: 'again' });

      const next = await store.putWorkflow(
        env,
        { key: 'old', name: 'three', steps: steps('three'), versionId: newId('wfv', T0 + 3) },
        T0 + 3,
      );
      expect(next.version).toBe(3);
      await close();
    });
  });
}
