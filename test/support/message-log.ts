import { expect } from 'vitest';
import type { ApiResponse } from './herald.js';

/** Calls one Herald process with an API key. */
export type Caller = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

/**
 * Tails the message log as a consumer would: reads `?since=` pages, follows `nextSince`, and once
 * `until()` is true reads until a page comes back empty. Returns every item read, repeats included.
 */
export async function followLog(
  call: Caller,
  { since, until, limit = 100 }: { since: number; until: () => boolean; limit?: number },
): Promise<{ id: string; seq: number }[]> {
  const seen: { id: string; seq: number }[] = [];
  for (;;) {
    const last = until();
    const res = await call('GET', `/v1/messages?since=${since}&limit=${limit}`);
    expect(res.status, res.text).toBe(200);
    seen.push(...res.body.items.map((m: { id: string; seq: number }) => ({ id: m.id, seq: m.seq })));
    since = res.body.nextSince;
    if (last && res.body.items.length === 0) return seen;
    // A consumer polls; a short pause keeps this one from spinning while nothing is new.
    if (res.body.items.length < limit) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * `clients` concurrent clients, each sending `triggers` triggers one after another (client i to
 * `callers[i % callers.length]`), each to two new subscribers named inline. Returns the ids of
 * every message accepted.
 */
export async function triggerConcurrently(
  callers: Caller[],
  { clients, triggers, workflow, tag = 'tail' }: { clients: number; triggers: number; workflow: string; tag?: string },
): Promise<string[]> {
  const accepted: string[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const call = callers[c % callers.length]!;
      for (let i = 0; i < triggers; i++) {
        const to = [0, 1].map((r) => ({
          subscriberId: `${tag}-${c}-${i}-${r}`,
          email: `${tag}${c}.${i}.${r}@example.com`,
        }));
        const res = await call('POST', `/v1/workflows/${workflow}/trigger`, { to });
        expect(res.status, res.text).toBe(202);
        accepted.push(...res.body.messageIds);
      }
    }),
  );
  return accepted;
}
