import { describe, expect, it } from 'vitest';
import {
  checkPreferences,
  preferenceRefusal,
  withWorkflowChannelOff,
  type SubscriberPreferences,
  type WorkflowConsent,
} from '../../src/core/preferences.js';

// The resolution of preferences as a matrix: for one channel, each level says on, off or nothing,
// and the most specific level that says something decides; a critical workflow ignores them all.

type Say = boolean | undefined;
const LEVELS = [true, false, undefined] as const;

/** A workflow `digest` in category `news`, with a default for email when `byDefault` says one. */
function workflow(byDefault: Say, critical = false): WorkflowConsent & { key: string } {
  return {
    key: 'digest',
    category: 'news',
    ...(critical && { critical }),
    ...(byDefault !== undefined && { preferences: { channels: { email: byDefault } } }),
  };
}

function preferences(byWorkflow: Say, byCategory: Say, global: Say): SubscriberPreferences {
  const rule = (say: Say) => (say === undefined ? { channels: {} } : { channels: { email: say } });
  return {
    workflows: { digest: rule(byWorkflow), other: { channels: { email: !byWorkflow } } },
    categories: { news: rule(byCategory), billing: { channels: { email: false } } },
    channels: global === undefined ? { sms: false } : { email: global, sms: !global },
  };
}

/** The rule of resolution, written out: the first level that says something decides. */
function expected(byWorkflow: Say, byCategory: Say, global: Say, byDefault: Say): string | undefined {
  if (byWorkflow !== undefined) return byWorkflow ? undefined : 'email off for workflow digest';
  if (byCategory !== undefined) return byCategory ? undefined : 'email off for category news';
  if (global !== undefined) return global ? undefined : "email off by the subscriber's channel preferences";
  if (byDefault === false) return 'email off by default for workflow digest';
  return undefined;
}

const MATRIX = LEVELS.flatMap((w) =>
  LEVELS.flatMap((c) => LEVELS.flatMap((g) => LEVELS.map((d) => [w, c, g, d] as const))),
);

describe('preferenceRefusal', () => {
  it.each(MATRIX)('workflow %s, category %s, global %s, default %s', (w, c, g, d) => {
    expect(preferenceRefusal(workflow(d), preferences(w, c, g), 'email')).toBe(expected(w, c, g, d));
  });

  it.each(MATRIX)(
    'lets a critical workflow through whatever: workflow %s, category %s, global %s, default %s',
    (w, c, g, d) => {
      expect(preferenceRefusal(workflow(d, true), preferences(w, c, g), 'email')).toBeUndefined();
    },
  );

  it('sends on every channel to a subscriber without preferences, but for a default that is off', () => {
    expect(preferenceRefusal(workflow(undefined), null, 'email')).toBeUndefined();
    expect(preferenceRefusal(workflow(true), null, 'email')).toBeUndefined();
    expect(preferenceRefusal(workflow(false), null, 'email')).toBe('email off by default for workflow digest');
    expect(preferenceRefusal(workflow(false), {}, 'in_app')).toBeUndefined();
  });

  it('reads only the channel asked about, and a category only of the workflow it belongs to', () => {
    const prefs: SubscriberPreferences = {
      channels: { in_app: false },
      categories: { billing: { channels: { sms: false } } },
    };
    expect(preferenceRefusal(workflow(undefined), prefs, 'email')).toBeUndefined();
    expect(preferenceRefusal(workflow(undefined), prefs, 'in_app')).toBe(
      "in_app off by the subscriber's channel preferences",
    );
    expect(preferenceRefusal(workflow(undefined), prefs, 'sms')).toBeUndefined();
    expect(preferenceRefusal({ key: 'invoice', category: 'billing' }, prefs, 'sms')).toBe(
      'sms off for category billing',
    );
    // A workflow with no category is not governed by category rules.
    expect(preferenceRefusal({ key: 'invoice' }, prefs, 'sms')).toBeUndefined();
  });
});

describe('withWorkflowChannelOff', () => {
  it('turns one channel of one workflow off and keeps everything else', () => {
    const before: SubscriberPreferences = {
      channels: { push: false },
      workflows: { digest: { channels: { sms: true } }, other: { channels: { email: true } } },
      quietHours: { start: '22:00', end: '07:00' },
    };
    const after = withWorkflowChannelOff(before, 'digest', 'email');
    expect(after).toEqual({
      channels: { push: false },
      workflows: { digest: { channels: { sms: true, email: false } }, other: { channels: { email: true } } },
      quietHours: { start: '22:00', end: '07:00' },
    });
    expect(before.workflows!.digest!.channels).toEqual({ sms: true }); // a new document, the old one untouched
    expect(withWorkflowChannelOff(null, 'digest', 'email')).toEqual({
      workflows: { digest: { channels: { email: false } } },
    });
  });
});

describe('checkPreferences', () => {
  it('refuses quiet hours that start when they end, naming the field', () => {
    expect(checkPreferences({ quietHours: { start: '22:00', end: '22:00' } })).toEqual([
      { path: '/quietHours/end', message: expect.stringContaining('must differ from start') },
    ]);
    expect(checkPreferences({ quietHours: { start: '22:00', end: '06:00' } })).toEqual([]);
    expect(checkPreferences({ quietHours: null })).toEqual([]);
  });
});
