import { Type, type Static, type TSchema } from 'typebox';
import { TIME_OF_DAY, type ChannelRule, type PreferenceChannel } from '../core/preferences.js';
import { component, KEY_EXPECTED, KEY_PATTERN, PatternString } from './components.js';

// Preferences: a subscriber's (GET/PUT /v1/subscribers/{id}/preferences, /v1/inbox/preferences) and
// a workflow's category, critical flag and channel defaults (core/preferences.ts).

export const ChannelSwitches = component(
  'ChannelSwitches',
  Type.Object(
    {
      email: Type.Optional(Type.Boolean()),
      sms: Type.Optional(Type.Boolean()),
      push: Type.Optional(Type.Boolean()),
      chat: Type.Optional(Type.Boolean()),
      webhook: Type.Optional(Type.Boolean()),
      in_app: Type.Optional(Type.Boolean()),
    } satisfies Record<PreferenceChannel, unknown>,
    {
      additionalProperties: false,
      description: 'A channel on (true) or off (false); a channel left out says nothing at this level',
    },
  ),
);

const ChannelRuleSchema = Type.Object({ channels: ChannelSwitches }, { additionalProperties: false });

/** An object whose keys are workflow keys or categories, each holding a channel rule. */
const RulesByKey = (what: string, maxProperties: number) =>
  Type.Unsafe<Record<string, ChannelRule>>({
    type: 'object',
    additionalProperties: ChannelRuleSchema,
    propertyNames: { type: 'string', pattern: KEY_PATTERN, 'x-expected': KEY_EXPECTED },
    maxProperties,
    description: `By ${what}: {"<${what}>": {"channels": {"email": false}}}`,
  });

const Nullable = <T extends TSchema>(schema: T, options: Record<string, unknown> = {}) =>
  Type.Union([schema, Type.Null()], options);

const TimeOfDay = PatternString(TIME_OF_DAY, 'a time of day as HH:MM, 00:00 to 23:59');

const PREFERENCES = Type.Object(
  {
    channels: Type.Optional(ChannelSwitches),
    categories: Type.Optional(RulesByKey('category', 200)),
    workflows: Type.Optional(RulesByKey('workflow', 1000)),
    quietHours: Type.Optional(
      Nullable(Type.Object({ start: TimeOfDay, end: TimeOfDay }, { additionalProperties: false }), {
        description:
          "Non-critical sends inside this daily window, in the subscriber's time zone, wait for its end; it may span midnight",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'What the subscriber agreed to receive. The most specific rule naming a channel decides: workflows, then ' +
      "categories (the workflow's category), then channels, then the workflow's defaults; critical workflows ignore them",
  },
);

export const SubscriberPreferencesBody = component('SubscriberPreferencesInput', PREFERENCES);
export type SubscriberPreferencesBody = Static<typeof PREFERENCES>;
export const SubscriberPreferences = component('SubscriberPreferences', PREFERENCES);

/** The fields a workflow adds for consent (WorkflowInput and Workflow). */
export const WorkflowConsentFields = {
  category: Type.Optional(
    PatternString(KEY_PATTERN, KEY_EXPECTED, {
      description: "Groups workflows in subscribers' preferences (categories), e.g. billing",
    }),
  ),
  critical: Type.Optional(
    Type.Boolean({
      description:
        'Sent whatever the preferences and quiet hours say, with no unsubscribe link (password resets, security alerts)',
    }),
  ),
  preferences: Type.Optional(
    component(
      'WorkflowPreferences',
      Type.Object(
        { channels: ChannelSwitches },
        {
          additionalProperties: false,
          description:
            'Channel defaults where the subscriber says nothing: {"channels": {"sms": false}} makes SMS opt-in',
        },
      ),
    ),
  ),
};
