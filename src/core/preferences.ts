import type { FieldError } from './errors.js';

/**
 * Preferences: what a subscriber agreed to receive, per channel, category and workflow, over the
 * defaults a workflow sets. Checked when a step is about to send (core/deliver-job.ts), so a change
 * made while a run waits (a delay, a digest, a retry) takes effect.
 */

/**
 * The channels a preference names: every step type that sends (MESSAGE_CHANNELS in types.ts, which
 * imports this file; deliver-job.ts passes a message's channel here, so the compiler keeps them in step).
 */
export const PREFERENCE_CHANNELS = ['email', 'sms', 'push', 'chat', 'webhook', 'in_app'] as const;
export type PreferenceChannel = (typeof PREFERENCE_CHANNELS)[number];

/** Channel on (true) or off (false); a channel left out says nothing at this level. */
export type ChannelSwitches = Partial<Record<PreferenceChannel, boolean>>;

/** A rule for one category or one workflow. */
export interface ChannelRule {
  channels: ChannelSwitches;
}

/**
 * Hours, `HH:MM` to `HH:MM` (24-hour) in the subscriber's time zone, when non-critical sends to
 * them wait (core/send-times.ts); an end before the start is the next day (22:00–08:00).
 */
export interface QuietHours {
  start: string;
  end: string;
}

/**
 * A subscriber's preferences, one document stored with the subscriber (a PUT replaces it whole).
 * The most specific rule that names a channel decides: workflow, then category, then `channels`.
 */
export interface SubscriberPreferences {
  channels?: ChannelSwitches;
  /** By workflow category (a workflow's `category`). */
  categories?: Record<string, ChannelRule>;
  /** By workflow key. */
  workflows?: Record<string, ChannelRule>;
  /** Non-critical sends inside are deferred to the window's end (evaluated elsewhere). */
  quietHours?: QuietHours | null;
}

/** A workflow's defaults: which channels it sends on when the subscriber says nothing. */
export interface WorkflowPreferences {
  channels: ChannelSwitches;
}

/** What a workflow says about consent, saved with each of its versions. */
export interface WorkflowConsent {
  /** Groups workflows for subscribers' preferences, e.g. `billing`. */
  category?: string;
  /** Sent whatever the subscriber's preferences and quiet hours say (password resets, security alerts). */
  critical?: boolean;
  /** Channel defaults, for opt-in channels (`{channels: {sms: false}}`). */
  preferences?: WorkflowPreferences;
}

/** The document a subscriber without preferences has. */
export const NO_PREFERENCES: SubscriberPreferences = Object.freeze({});

/** Why a step does not send, or undefined when preferences let it. */
export function preferenceRefusal(
  workflow: WorkflowConsent & { key: string },
  preferences: SubscriberPreferences | null,
  channel: PreferenceChannel,
): string | undefined {
  if (workflow.critical) return undefined;
  const byWorkflow = preferences?.workflows?.[workflow.key]?.channels[channel];
  if (byWorkflow !== undefined) return byWorkflow ? undefined : `${channel} off for workflow ${workflow.key}`;
  if (workflow.category !== undefined) {
    const byCategory = preferences?.categories?.[workflow.category]?.channels[channel];
    if (byCategory !== undefined) return byCategory ? undefined : `${channel} off for category ${workflow.category}`;
  }
  const global = preferences?.channels?.[channel];
  if (global !== undefined) return global ? undefined : `${channel} off by the subscriber's channel preferences`;
  const byDefault = workflow.preferences?.channels[channel];
  if (byDefault === false) return `${channel} off by default for workflow ${workflow.key}`;
  return undefined;
}

/**
 * The preferences with one workflow's channel turned off (a one-click unsubscribe), everything
 * else kept. Returns a new document.
 */
export function withWorkflowChannelOff(
  preferences: SubscriberPreferences | null,
  workflowKey: string,
  channel: PreferenceChannel,
): SubscriberPreferences {
  const current = preferences ?? NO_PREFERENCES;
  const rule = current.workflows?.[workflowKey];
  return {
    ...current,
    workflows: {
      ...current.workflows,
      [workflowKey]: { ...rule, channels: { ...rule?.channels, [channel]: false } },
    },
  };
}

/** `HH:MM`, 00:00 to 23:59. */
export const TIME_OF_DAY = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

/**
 * The rules of a preferences document that a schema cannot state. Quiet hours that start when they
 * end would be a window of no time or of the whole day; neither is what anyone means.
 */
export function checkPreferences(preferences: SubscriberPreferences, at = ''): FieldError[] {
  const quiet = preferences.quietHours;
  if (quiet && quiet.start === quiet.end) {
    return [{ path: `${at}/quietHours/end`, message: 'must differ from start (quiet hours of no time, or all day?)' }];
  }
  return [];
}
