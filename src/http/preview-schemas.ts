import { Type, type Static } from 'typebox';
import { CONTROL_STEP_TYPES, MESSAGE_CHANNELS } from '../core/types.js';
import { component, KEY_EXPECTED, KEY_PATTERN, PatternString, StringEnum } from './components.js';
import { SubscriberPreferences, WorkflowConsentFields } from './preference-schemas.js';
import { Identifier, JsonObject, SubscriberChannelFields, SubscriberFields } from './schemas.js';
import { Step } from './step-schemas.js';
import { Recipient } from './trigger-schemas.js';

// Workflow previews (POST /v1/workflows/{key}/preview, POST /v1/workflows/preview) and test sends
// (POST /v1/workflows/{key}/test): core/preview-workflow.ts, core/test-send.ts.

const PreviewSubscriber = component(
  'PreviewSubscriber',
  Type.Object(
    {
      subscriberId: Type.Optional(Identifier('Shown to the templates as subscriber.subscriberId; default preview')),
      ...SubscriberFields,
      ...SubscriberChannelFields,
      preferences: Type.Optional(
        Type.Union([SubscriberPreferences, Type.Null()], { description: 'As PUT …/preferences takes them' }),
      ),
    },
    { additionalProperties: false, description: 'A subscriber given whole: used as it is, never stored' },
  ),
);

/** What a preview is for: one subscriber, the data, the locale. */
const PREVIEW_FIELDS = {
  to: Type.Optional(
    Type.Union([Recipient], {
      description:
        "As a trigger's recipient: a stored subscriber's id (read, not written), or an object whose fields are laid " +
        'over the stored subscriber as a trigger would (nothing is written). Give to or subscriber, one of them',
    }),
  ),
  subscriber: Type.Optional(PreviewSubscriber),
  data: Type.Optional(JsonObject('Payload for the templates, as a trigger gives it')),
  locale: Type.Optional(
    PatternString('^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$', 'a locale such as en or pt-BR', {
      maxLength: 35,
      description: "Overrides the subscriber's locale (subscriber.locale in the templates)",
    }),
  ),
};

export const PreviewBody = component(
  'WorkflowPreviewInput',
  Type.Object(PREVIEW_FIELDS, { additionalProperties: false }),
);
export type PreviewBody = Static<typeof PreviewBody>;

const WorkflowDraft = component(
  'WorkflowDraft',
  Type.Object(
    {
      key: Type.Optional(
        PatternString(KEY_PATTERN, KEY_EXPECTED, {
          description:
            'The key it would be saved under (workflow.key in templates, preferences by workflow); default draft',
        }),
      ),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      ...WorkflowConsentFields,
      steps: Type.Array(Step, { minItems: 1, maxItems: 20 }),
    },
    { additionalProperties: false, description: 'A workflow as PUT /v1/workflows/{key} takes it, and its key' },
  ),
);

export const DraftPreviewBody = component(
  'WorkflowDraftPreviewInput',
  Type.Object({ workflow: WorkflowDraft, ...PREVIEW_FIELDS }, { additionalProperties: false }),
);
export type DraftPreviewBody = Static<typeof DraftPreviewBody>;

const StepPreview = component(
  'StepPreview',
  Type.Object({
    ref: Type.String(),
    type: StringEnum([...MESSAGE_CHANNELS, ...CONTROL_STEP_TYPES]),
    channel: Type.Optional(StringEnum(MESSAGE_CHANNELS, { description: 'Sending steps' })),
    address: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description:
          'Sending steps: where it would go, as the delivery log shows the recipient (an address, "2 devices", a ' +
          'redacted URL, the subscriberId for in_app); null when nowhere (reason says why)',
      }),
    ),
    via: Type.Optional(Type.String({ description: 'The provider that would be tried first' })),
    wouldRun: Type.Boolean(),
    reason: Type.Optional(Type.String({ description: 'Why it would not run: the reason its message would record' })),
    does: Type.Optional(Type.String({ description: 'Delays, digests, throttles: what they would do' })),
    rendered: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          'Sending steps: what it renders to: email {subject, html, text}, sms {text}, push {title, body, data}, ' +
          'chat {text, blocks}, webhook {url, body}, in_app {title, body, actionUrl, avatarUrl, data}',
      }),
    ),
    error: Type.Optional(
      Type.String({ description: 'Its template or condition failed, or ran past the render limit' }),
    ),
    warnings: Type.Array(Type.String(), {
      description: 'Variables its outputs name that are not set, quiet hours, a send window that is closed now',
    }),
  }),
);

export const WorkflowPreview = component(
  'WorkflowPreview',
  Type.Object({
    workflow: Type.Object({
      key: Type.String(),
      name: Type.String(),
      version: Type.Union([Type.Integer(), Type.Null()], { description: 'Null for a draft' }),
    }),
    subscriberId: Type.String(),
    locale: Type.Union([Type.String(), Type.Null()]),
    steps: Type.Array(StepPreview, { description: 'Every step, in order' }),
    warnings: Type.Array(Type.String()),
  }),
);

export const TestSendBody = component(
  'WorkflowTestInput',
  Type.Object(
    {
      to: Type.Union([Recipient], {
        description:
          "One recipient, as a trigger's: an existing subscriber's id, or an object that creates or updates them",
      }),
      data: Type.Optional(JsonObject('Payload for the templates')),
    },
    { additionalProperties: false },
  ),
);
export type TestSendBody = Static<typeof TestSendBody>;
