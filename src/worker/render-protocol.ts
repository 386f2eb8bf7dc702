import type { TemplateAssets } from '../core/template-assets.js';
import type { RenderContext, RenderOutcome } from '../core/templates.js';
import type { WorkflowStep } from '../core/types.js';

/**
 * Messages between the render pool (main thread) and its render threads. Each thread shares a
 * small progress array with the pool: which render of its batch it is on and when that render
 * started, so the pool can tell, without a message, that a render has run too long.
 */

/** What a render thread is started with (its workerData). */
export interface RenderThreadSetup {
  /** Liquid's cooperative time limit per step render, in milliseconds. */
  renderLimitMs: number;
  /** A SharedArrayBuffer viewed as an Int32Array; see PROGRESS_*. */
  progress: SharedArrayBuffer;
  /** For the `t` and `format_*` filters: the language and zone of a subscriber without a usable one. */
  defaultLocale: string;
  defaultTimeZone: string;
}

/** Index in the progress array: the render of the batch under way, -1 between renders (and while compiling). */
export const PROGRESS_INDEX = 0;
/** Index in the progress array: when that render started, in ms after the batch's `sentAt`. */
export const PROGRESS_STARTED = 1;
/** Index in the progress array: the thread's CPU ms when that render's batch started (modulo CPU_MS_MODULO). */
export const PROGRESS_CPU = 2;
export const PROGRESS_LENGTH = 3;

export interface RenderItem {
  versionId: string;
  stepIndex: number;
  context: RenderContext;
  /** The environment's template assets it renders with (given in this batch or before), by id. */
  assetsId?: string;
}

/** Pool → thread: renders to run in order. Renders of one trigger share its data object, cloned once. */
export interface RenderBatch {
  id: number;
  /** Date.now() when the pool sent it; progress times are relative to it. */
  sentAt: number;
  /** Workflow versions the thread has not been given yet (it compiles them on first use). */
  versions: [versionId: string, steps: WorkflowStep[]][];
  /** Versions the thread may forget: the pool keeps the same bounded set per thread. */
  forget: string[];
  /** Environments' template assets (one per revision) the thread has not been given yet. */
  assets: [assetsId: string, assets: TemplateAssets][];
  /** Assets the thread may forget, with what it compiled from them. */
  forgetAssets: string[];
  items: RenderItem[];
}

/** What a thread returns per render; never `refused`, which the pool decides before sending. */
export type ThreadResult = Exclude<RenderOutcome, { status: 'refused' }>;

/**
 * Thread → pool. A thread stops a batch at its first overrun: `results` may be shorter than the
 * batch's items, and the pool queues the rest again (the step is then suspect, see render-pool.ts).
 */
export type RenderThreadMessage =
  /** `tid`: the thread's kernel id, for reading its CPU time (null where unknown). */
  { ready: true; tid: number | null } | { id: number; results: ThreadResult[] };

/**
 * Marks `ids` as used by a thread, most recently last. Answers those it was not given yet, and
 * the least recently used ones past `limit` it may forget: never one of `ids`, which the batch
 * that brings them needs.
 */
export function give(given: Set<string>, ids: Iterable<string>, limit: number): { fresh: string[]; forget: string[] } {
  const used = new Set<string>();
  const fresh: string[] = [];
  for (const id of ids) {
    if (used.has(id)) continue;
    used.add(id);
    if (!given.delete(id)) fresh.push(id);
    given.add(id);
  }
  const forget: string[] = [];
  for (const id of given) {
    if (given.size - forget.length <= limit) break;
    if (!used.has(id)) forget.push(id);
  }
  for (const id of forget) given.delete(id);
  return { fresh, forget };
}
