import { describe, expect, it } from 'vitest';
import { createRunawayGuard, type RenderKey } from '../../src/core/runaway-guard.js';

/** A guard on a clock the test moves. */
function guardAt(start = 1_000_000) {
  const clock = { at: start };
  const guard = createRunawayGuard({ now: () => clock.at });
  return { guard, clock };
}

const render = (triggerId: string, versionId = 'ver_1', stepIndex = 0): RenderKey => ({
  triggerId,
  versionId,
  stepIndex,
});

describe('createRunawayGuard, per trigger', () => {
  it("refuses a trigger's step after three overruns in a row, saying why", () => {
    const { guard } = guardAt();
    guard.record(render('trg_1'), true);
    guard.record(render('trg_1'), true);
    expect(guard.refusal(render('trg_1'))).toBeUndefined();
    guard.record(render('trg_1'), true);
    expect(guard.refusal(render('trg_1'))).toBe(
      "not rendered: this step's template ran past the render limit for 3 other recipients of this trigger",
    );
    // Asking changes nothing.
    expect(guard.refusal(render('trg_1'))).toBe(guard.refusal(render('trg_1')));
  });

  it('keeps other steps and other triggers apart', () => {
    const { guard } = guardAt();
    for (let i = 0; i < 3; i++) guard.record(render('trg_1'), true);
    expect(guard.refusal(render('trg_1', 'ver_1', 1))).toBeUndefined();
    expect(guard.refusal(render('trg_2'))).toBeUndefined();
  });

  it('starts over when a render of the step finishes in time (the runaway depends on the recipient)', () => {
    const { guard } = guardAt();
    guard.record(render('trg_1'), true);
    guard.record(render('trg_1'), true);
    guard.record(render('trg_1'), false);
    guard.record(render('trg_1'), true);
    guard.record(render('trg_1'), true);
    expect(guard.refusal(render('trg_1'))).toBeUndefined();
  });

  it('forgets the trigger steps that overran longest ago past its capacity', () => {
    const clock = { at: 0 };
    const guard = createRunawayGuard({ now: () => clock.at, perTrigger: 1, perVersion: 100, capacity: 2 });
    guard.record(render('old'), true);
    guard.record(render('mid'), true);
    guard.record(render('old'), true); // overran again: now the most recent
    guard.record(render('new'), true);
    expect(guard.refusal(render('mid'))).toBeUndefined();
    expect(guard.refusal(render('old'))).toBeDefined();
    expect(guard.refusal(render('new'))).toBeDefined();
  });
});

describe('createRunawayGuard, per workflow version', () => {
  /** Ten single-recipient triggers of one version, each overrunning once. */
  function tenOverruns(guard: ReturnType<typeof guardAt>['guard']) {
    for (let i = 0; i < 10; i++) guard.record(render(`trg_${i}`), true);
  }

  it("refuses a version's step for 30 s after ten overruns in a row, across triggers", () => {
    const { guard, clock } = guardAt();
    for (let i = 0; i < 9; i++) guard.record(render(`trg_${i}`), true);
    expect(guard.refusal(render('trg_next'))).toBeUndefined();
    guard.record(render('trg_9'), true);
    expect(guard.refusal(render('trg_next'))).toBe(
      "not rendered: this workflow version's step ran past the render limit 10 times in a row; " +
        'it is tried again in 30 s (a saved fix is a new version, tried at once)',
    );
    // Another version of the workflow (a fix), or another step, renders.
    expect(guard.refusal(render('trg_next', 'ver_2'))).toBeUndefined();
    expect(guard.refusal(render('trg_next', 'ver_1', 1))).toBeUndefined();
    clock.at += 29_500;
    expect(guard.refusal(render('trg_next'))).toMatch(/tried again in 1 s/);
    clock.at += 500;
    expect(guard.refusal(render('trg_next'))).toBeUndefined();
  });

  it('after the cooldown, one more overrun refuses again; a render in time ends it', () => {
    const { guard, clock } = guardAt();
    tenOverruns(guard);
    clock.at += 30_000;
    guard.record(render('trg_probation'), true);
    expect(guard.refusal(render('trg_next'))).toMatch(/ran past the render limit 11 times in a row/);

    clock.at += 30_000;
    guard.record(render('trg_fine'), false);
    tenOverruns(guard);
    expect(guard.refusal(render('trg_next'))).toMatch(/10 times in a row/);
    clock.at += 30_000;
    guard.record(render('trg_fine'), false);
    guard.record(render('trg_again'), true);
    expect(guard.refusal(render('trg_next'))).toBeUndefined();
  });
});
