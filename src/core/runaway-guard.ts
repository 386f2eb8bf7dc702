/**
 * Fails renders that would run away, without running them, once a template has shown it does.
 *
 * A render that runs past the limit costs a render thread for the whole limit and holds a
 * delivery slot while it waits for one. Jobs are claimed in order, so a stream of such renders
 * would hold up every message queued behind them. Two rules, each keyed by one step of one
 * workflow version (the version a trigger saw never changes):
 *
 * - **Per trigger.** The recipients of one trigger render the same template with the same trigger
 *   data; only the subscriber differs. After `perTrigger` overruns in a row of one trigger's step
 *   (no render of it in between finished in time), its remaining renders fail at once.
 * - **Per workflow version.** After `perVersion` overruns in a row of one version's step, across
 *   triggers, its renders fail at once for `cooldownMs`. Then they run again on probation: one
 *   more overrun refuses them for another cooldown, a render in time ends the rule. Saving a
 *   corrected workflow makes a new version, which starts clean.
 *
 * A render that finishes in time resets both counts: a template that runs away only for some
 * data or some recipients keeps rendering for the others.
 */
export interface RunawayGuard {
  /** Why a render of this step should not run, or undefined to run it. Changes nothing: ask freely. */
  refusal(render: RenderKey): string | undefined;
  /** How a render that ran ended: past a limit (`overran`) or not. */
  record(render: RenderKey, overran: boolean): void;
}

export interface RenderKey {
  triggerId: string;
  versionId: string;
  stepIndex: number;
}

export interface RunawayGuardOptions {
  now(): number;
  /** Overruns in a row of one trigger's step after which its other renders are refused. */
  perTrigger?: number;
  /** Overruns in a row of one workflow version's step after which its renders are refused a while. */
  perVersion?: number;
  /** How long a workflow version's step is refused before one render is tried again. */
  cooldownMs?: number;
  /** Trigger and version steps remembered at most; the oldest are forgotten first. */
  capacity?: number;
}

export const RUNAWAYS_PER_TRIGGER = 3;
export const RUNAWAYS_PER_VERSION = 10;
export const RUNAWAY_COOLDOWN_MS = 30_000;

interface VersionState {
  /** Overruns in a row; kept past the cooldown, so the next overrun refuses again at once. */
  overruns: number;
  /** Renders are refused until then. */
  refusedUntil?: number;
}

export function createRunawayGuard(options: RunawayGuardOptions): RunawayGuard {
  const perTrigger = options.perTrigger ?? RUNAWAYS_PER_TRIGGER;
  const perVersion = options.perVersion ?? RUNAWAYS_PER_VERSION;
  const cooldownMs = options.cooldownMs ?? RUNAWAY_COOLDOWN_MS;
  const capacity = options.capacity ?? 10_000;
  const triggers = new Map<string, number>();
  const versions = new Map<string, VersionState>();
  const triggerSlot = (key: RenderKey) => `${key.triggerId}#${key.stepIndex}`;
  const versionSlot = (key: RenderKey) => `${key.versionId}#${key.stepIndex}`;

  /** Sets a map entry as the most recent one, forgetting the oldest past the capacity. */
  function touch<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > capacity) map.delete(map.keys().next().value!);
  }

  return {
    refusal(key) {
      const overruns = triggers.get(triggerSlot(key)) ?? 0;
      if (overruns >= perTrigger) {
        return `not rendered: this step's template ran past the render limit for ${overruns} other recipients of this trigger`;
      }
      const version = versions.get(versionSlot(key));
      const now = options.now();
      if (version?.refusedUntil === undefined || now >= version.refusedUntil) return undefined;
      return (
        `not rendered: this workflow version's step ran past the render limit ${version.overruns} times in a row; ` +
        `it is tried again in ${Math.ceil((version.refusedUntil - now) / 1000)} s (a saved fix is a new version, tried at once)`
      );
    },
    record(key, overran) {
      if (!overran) {
        triggers.delete(triggerSlot(key));
        versions.delete(versionSlot(key));
        return;
      }
      const trigger = triggerSlot(key);
      touch(triggers, trigger, (triggers.get(trigger) ?? 0) + 1);
      const slot = versionSlot(key);
      const version = versions.get(slot) ?? { overruns: 0 };
      version.overruns++;
      if (version.overruns >= perVersion) version.refusedUntil = options.now() + cooldownMs;
      touch(versions, slot, version);
    },
  };
}
