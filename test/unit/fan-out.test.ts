import { describe, expect, it } from 'vitest';
import { FANOUT_PAGE_SIZE, planFanoutPage } from '../../src/core/fan-out.js';
import type { ClaimedFanout } from '../../src/core/runs.js';
import type { WorkflowVersion } from '../../src/core/store.js';
import type { WorkflowStep } from '../../src/core/types.js';

// The rules of one fan-out page (core/fan-out.ts), as plain functions.

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const HOUR = 3_600_000;

const version = (steps: WorkflowStep[]): WorkflowVersion => ({ versionId: 'wfv_1', key: 'wf', name: 'W', steps });
const email: WorkflowStep = { type: 'email', subject: 's', text: 't' };
const ids = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `m${String(from + i).padStart(5, '0')}`);

function fanout(members: string[], over: Partial<ClaimedFanout> = {}): ClaimedFanout {
  return {
    kind: 'fanout',
    timerId: 'trg_1',
    triggerId: 'trg_1',
    environmentId: 'env',
    workflowKey: 'wf',
    workflowVersionId: 'wfv_1',
    sendAt: null,
    actorId: null,
    cursor: '',
    members,
    ...over,
  };
}

describe('a fan-out page', () => {
  it('plans each member as a trigger plans a direct recipient, and moves the cursor past the page', () => {
    const page = planFanoutPage(
      fanout(ids(FANOUT_PAGE_SIZE)),
      version([email, { type: 'delay', for: '1h' }, email]),
      'w1',
      NOW,
    );
    expect(page).toMatchObject({ triggerId: 'trg_1', workerId: 'w1', fromCursor: '', done: false });
    expect(page.cursor).toBe(ids(1, FANOUT_PAGE_SIZE - 1)[0]);
    expect(page.start).toEqual({ state: 'active', stepIndex: 1, dueAt: NOW });
    expect(page.runs.map((run) => run.subscriberId)).toEqual(ids(FANOUT_PAGE_SIZE));
    expect(new Set(page.runs.map((run) => run.id)).size).toBe(FANOUT_PAGE_SIZE);
    // The step before the delay goes out with the page; the one after waits for the run.
    expect(page.messages.filter((m) => m.subscriberId === 'm00000')).toEqual([
      { id: expect.stringMatching(/^msg_/), subscriberId: 'm00000', stepIndex: 0, channel: 'email', status: 'queued' },
      { id: expect.stringMatching(/^msg_/), subscriberId: 'm00000', stepIndex: 2, channel: 'email', status: 'pending' },
    ]);
  });

  it('is the last when it has fewer members than a page, or none', () => {
    const last = planFanoutPage(fanout(ids(3), { cursor: 'l' }), version([email]), 'w1', NOW);
    expect(last).toMatchObject({ fromCursor: 'l', cursor: 'm00002', done: true });
    expect(last.start).toEqual({ state: 'completed', stepIndex: 1, dueAt: null });
    const empty = planFanoutPage(fanout([], { cursor: 'm00002' }), version([email]), 'w1', NOW);
    expect(empty).toMatchObject({ cursor: 'm00002', done: true, runs: [], messages: [] });
  });

  it('leaves the actor out, and still moves the cursor past them', () => {
    const page = planFanoutPage(fanout(['ann', 'bob', 'cy'], { actorId: 'cy' }), version([email]), 'w1', NOW);
    expect(page.runs.map((run) => run.subscriberId)).toEqual(['ann', 'bob']);
    expect(page.messages.map((m) => m.subscriberId)).toEqual(['ann', 'bob']);
    expect(page.cursor).toBe('cy');
  });

  it("starts the runs at the trigger's sendAt while it is ahead, and at once after it", () => {
    const early = planFanoutPage(fanout(['ann'], { sendAt: NOW + HOUR }), version([email]), 'w1', NOW);
    expect(early.start).toEqual({ state: 'scheduled', stepIndex: 0, dueAt: NOW + HOUR });
    expect(early.messages[0]?.status).toBe('pending');
    const late = planFanoutPage(fanout(['ann'], { sendAt: NOW - HOUR }), version([email]), 'w1', NOW);
    expect(late.messages[0]?.status).toBe('queued');
  });

  it('ends a fan-out whose workflow version is gone, starting no one', () => {
    const page = planFanoutPage(fanout(ids(FANOUT_PAGE_SIZE)), undefined, 'w1', NOW);
    expect(page).toMatchObject({ done: true, runs: [], messages: [] });
  });
});
