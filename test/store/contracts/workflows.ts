import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import type { WorkflowStep } from '../../../src/core/types.js';
import { T0, type OpenStore } from './fixtures.js';

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
  });
}
