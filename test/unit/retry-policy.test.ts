import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextStep, type RetryPolicy } from '../../src/core/retry-policy.js';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
const policy: RetryPolicy = { schedule: [1000, 5000, 60_000], jitter: 0.2 };
const transient = { status: 'retry', reason: 'SMTP 451: try later' } as const;

describe('nextStep', () => {
  it('ends a sent message with no reason', () => {
    expect(nextStep({ status: 'sent', providerMessageId: 'p1' }, 0, NOW, policy, 0.5)).toEqual({
      kind: 'done',
      status: 'sent',
      reason: null,
    });
  });

  it('fails a permanent rejection at once, whatever the schedule still allows', () => {
    expect(nextStep({ status: 'failed', reason: 'SMTP 550: no such user' }, 0, NOW, policy, 0.5)).toEqual({
      kind: 'done',
      status: 'failed',
      reason: 'SMTP 550: no such user',
    });
  });

  it('puts a message that waited for a busy destination back for the time given, even past the schedule', () => {
    const waiting = { status: 'retry', reason: 'waiting for hooks', retryAfterMs: 2_000, deferred: true } as const;
    expect(nextStep(waiting, 0, NOW, policy, 0.5)).toEqual({
      kind: 'retry',
      runAt: NOW + 2_000,
      reason: 'waiting for hooks',
      deferred: true,
    });
    // Not a failed attempt: a message whose schedule is used up still waits, it does not fail.
    expect(nextStep(waiting, policy.schedule.length, NOW, policy, 0)).toMatchObject({
      kind: 'retry',
      runAt: NOW + 1_600,
    });
    expect(nextStep({ ...waiting, retryAfterMs: 100 * HOUR }, 0, NOW, policy, 0.5)).toMatchObject({
      runAt: NOW + 24 * HOUR,
    });
  });

  it('picks the delay by the number of earlier failed attempts', () => {
    expect(nextStep(transient, 0, NOW, policy, 0.5)).toEqual({
      kind: 'retry',
      runAt: NOW + 1000,
      reason: transient.reason,
    });
    expect(nextStep(transient, 1, NOW, policy, 0.5)).toMatchObject({ kind: 'retry', runAt: NOW + 5000 });
    expect(nextStep(transient, 2, NOW, policy, 0.5)).toMatchObject({ kind: 'retry', runAt: NOW + 60_000 });
  });

  it('scales the delay by 1 - jitter at random 0 and by 1 + jitter at random 1', () => {
    expect(nextStep(transient, 0, NOW, policy, 0)).toMatchObject({ runAt: NOW + 800 });
    expect(nextStep(transient, 0, NOW, policy, 1)).toMatchObject({ runAt: NOW + 1200 });
    expect(nextStep(transient, 1, NOW, { ...policy, jitter: 0 }, 0.99)).toMatchObject({ runAt: NOW + 5000 });
  });

  it('keeps every jittered delay within the bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (failedAttempts, random) => {
          const step = nextStep(transient, failedAttempts, NOW, policy, random);
          const base = policy.schedule[failedAttempts]!;
          expect(step.kind).toBe('retry');
          if (step.kind !== 'retry') return;
          expect(step.runAt - NOW).toBeGreaterThanOrEqual(Math.round(base * 0.8));
          expect(step.runAt - NOW).toBeLessThanOrEqual(Math.round(base * 1.2));
        },
      ),
    );
  });

  it('fails with the attempt count and the last reason once the schedule is exhausted', () => {
    expect(nextStep(transient, 3, NOW, policy, 0.5)).toEqual({
      kind: 'done',
      status: 'failed',
      reason: 'gave up after 4 attempts: SMTP 451: try later',
    });
  });

  it('fails the first transient error when there is no schedule at all', () => {
    expect(nextStep(transient, 0, NOW, { schedule: [], jitter: 0.2 }, 0.5)).toEqual({
      kind: 'done',
      status: 'failed',
      reason: 'gave up after 1 attempt: SMTP 451: try later',
    });
  });

  it('waits as long as the provider asks when that is longer than the schedule', () => {
    const slowDown = { ...transient, retryAfterMs: 30_000 };
    expect(nextStep(slowDown, 0, NOW, policy, 1)).toMatchObject({ kind: 'retry', runAt: NOW + 30_000 });
  });

  it('keeps the scheduled delay when the provider asks for less', () => {
    const soon = { ...transient, retryAfterMs: 10 };
    expect(nextStep(soon, 1, NOW, policy, 0.5)).toMatchObject({ kind: 'retry', runAt: NOW + 5000 });
  });

  it('clamps a provider asking for more than a day to one day', () => {
    const aYear = { ...transient, retryAfterMs: 365 * 24 * HOUR };
    expect(nextStep(aYear, 0, NOW, policy, 0.5)).toMatchObject({ kind: 'retry', runAt: NOW + 24 * HOUR });
  });

  it('still gives up after the schedule when the provider keeps asking to wait', () => {
    const slowDown = { ...transient, retryAfterMs: 30_000 };
    expect(nextStep(slowDown, 3, NOW, policy, 0.5)).toMatchObject({ kind: 'done', status: 'failed' });
  });
});
