import { expect } from 'vitest';
import type { TestHerald } from './herald.js';

/**
 * The calls a workflow test makes most, against the Herald `herald()` returns (set in beforeAll):
 * save a workflow's steps (200), trigger it (202), read a message.
 */
export function workflowCalls(herald: () => TestHerald) {
  return {
    async saveWorkflow(key: string, steps: unknown[]): Promise<void> {
      const res = await herald().api('PUT', `/v1/workflows/${key}`, { steps });
      expect(res.status, res.text).toBe(200);
    },
    async trigger(key: string, body: Record<string, unknown>): Promise<{ triggerId: string; messageIds: string[] }> {
      const res = await herald().api('POST', `/v1/workflows/${key}/trigger`, body);
      expect(res.status, res.text).toBe(202);
      return res.body as { triggerId: string; messageIds: string[] };
    },
    async message(id: string): Promise<any> {
      return (await herald().api('GET', `/v1/messages/${id}`)).body;
    },
  };
}
