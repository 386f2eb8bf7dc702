import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/core/audit.js';
import { newId } from '../../../src/core/ids.js';
import { T0, type OpenStore } from './fixtures.js';

const event = (at: number, environmentId: string | null, action: string, actor: AuditEvent['actor']): AuditEvent => ({
  id: newId('aud', at),
  environmentId,
  at,
  actor,
  action,
  target: { key: action.length.toString() },
  status: 200,
});

/** The audit log (AuditStore). */
export function describeAuditContract(name: string, open: OpenStore) {
  describe(`${name} store: audit log`, () => {
    it("lists an environment's events and the instance-wide ones, newest first, by cursor and filters", async () => {
      const { store, environmentId, close } = await open();
      const key = { type: 'api_key', id: 'key_1' } as const;
      const user = { type: 'user', id: 'usr_1', email: 'ann@example.com' } as const;
      const events = [
        event(T0, environmentId, 'PUT /v1/topics/{key}', key),
        event(T0 + 1, null, 'POST /dashboard/api/login', user),
        event(T0 + 2, 'env_other', 'PUT /v1/topics/{key}', key),
        event(T0 + 3, environmentId, 'DELETE /v1/topics/{key}', user),
        event(T0 + 4, null, 'herald users create', { type: 'cli' }),
      ];
      await store.addAuditEvents(events);
      const all = await store.listAuditEvents(environmentId, { limit: 10 });
      expect(all.items).toEqual([events[4], events[3], events[1], events[0]]);
      expect(all.nextCursor).toBeNull();
      const first = await store.listAuditEvents(environmentId, { limit: 2 });
      expect(first.items).toEqual([events[4], events[3]]);
      const next = await store.listAuditEvents(environmentId, { limit: 2, cursor: first.nextCursor! });
      expect(next.items).toEqual([events[1], events[0]]);
      expect((await store.listAuditEvents(environmentId, { limit: 10, actor: 'usr_1' })).items).toEqual([
        events[3],
        events[1],
      ]);
      expect((await store.listAuditEvents(environmentId, { limit: 10, actor: 'ANN@example.com' })).items).toHaveLength(
        2,
      );
      expect((await store.listAuditEvents(environmentId, { limit: 10, action: 'PUT /v1/topics/{key}' })).items).toEqual(
        [events[0]],
      );
      await close();
    });

    it('prunes events recorded before a time, a batch at a time', async () => {
      const { store, environmentId, close } = await open();
      await store.addAuditEvents(
        [1, 2, 3, 10].map((n) => event(T0 + n * 1000, environmentId, `a${n}`, { type: 'cli' })),
      );
      expect(await store.pruneAuditEvents(T0 + 5000, 2)).toBe(2);
      expect(await store.pruneAuditEvents(T0 + 5000, 2)).toBe(1);
      expect((await store.listAuditEvents(environmentId, { limit: 10 })).items.map((e) => e.action)).toEqual(['a10']);
      await close();
    });
  });
}
