import { planRuns, startOfRuns } from './run-engine.js';
import type { ClaimedFanout, FanoutAdvance } from './runs.js';
import type { WorkflowVersion } from './store.js';

/**
 * Topic fan-out: a trigger whose `to` names topics is answered once it, its direct recipients'
 * runs and a fan-out are committed; the members' runs are then started page by page, as durable
 * work a worker claims like a run timer (worker/runner.ts):
 *
 * - a claim hands over the next FANOUT_PAGE_SIZE members of the topics after the fan-out's cursor
 *   (by subscriber id, each once however many of the topics they are in);
 * - the page's runs, messages and jobs are committed in one transaction with the advanced cursor
 *   (RunStore.advanceFanouts), so a crash resumes from the last committed page and no page is
 *   written twice; runs_by_trigger, unique, is the belt: a member named directly in `to` too
 *   keeps the one run the trigger gave them;
 * - a page that is not the last makes the fan-out due again behind the timers already due, so
 *   other triggers' work goes on between pages; memory holds one page, never the audience.
 */

/**
 * Members one page of a fan-out starts. A page is one transaction: larger pages write faster in
 * total, smaller ones let other work in sooner; at 1,000, a page of a one-step workflow is a few
 * tens of milliseconds of SQLite's writer (bench/README.md, the fan-out bench).
 */
export const FANOUT_PAGE_SIZE = 1000;

/**
 * The next page of a claimed fan-out: the runs and messages of its members, as the trigger would
 * have planned them for direct recipients now (startOfRuns, planRuns), leaving out the actor. The
 * cursor moves past every member read, the actor included.
 */
export function planFanoutPage(
  fanout: ClaimedFanout,
  version: WorkflowVersion | undefined,
  workerId: string,
  now: number,
): FanoutAdvance {
  const done = fanout.members.length < FANOUT_PAGE_SIZE;
  const cursor = fanout.members.at(-1) ?? fanout.cursor;
  const steps = version?.steps ?? [];
  const { start, sendsAtOnce } = startOfRuns(steps, now, fanout.sendAt);
  // A version that does not exist cannot be started: the fan-out ends with no more runs.
  const audience = version === undefined ? [] : fanout.members.filter((id) => id !== fanout.actorId);
  const { runs, messages } = planRuns(steps, audience, sendsAtOnce, now);
  return {
    triggerId: fanout.triggerId,
    environmentId: fanout.environmentId,
    workflowKey: fanout.workflowKey,
    workflowVersionId: fanout.workflowVersionId,
    workerId,
    fromCursor: fanout.cursor,
    cursor,
    done: done || version === undefined,
    runs,
    messages,
    start,
  };
}
