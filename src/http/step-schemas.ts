import { Type, type Static } from 'typebox';
import { component, componentPointer } from './components.js';

// The shapes of a workflow step, one component each, and `Step`, the union of them.

const JsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

const Template = (maxLength: number, description: string) => Type.String({ maxLength, description });

const EmailStepSchema = Type.Object(
  {
    type: Type.Literal('email'),
    subject: Type.String({ minLength: 1, maxLength: 2000, description: 'Liquid template of the subject' }),
    html: Type.Optional(Template(500_000, 'Liquid template of the HTML body; output is HTML-escaped')),
    text: Type.Optional(Template(500_000, 'Liquid template of the text body; derived from html when absent')),
  },
  { additionalProperties: false, description: 'Needs html, text or both' },
);

const SmsStepSchema = Type.Object(
  { type: Type.Literal('sms'), text: Type.String({ minLength: 1, maxLength: 10_000, description: 'Liquid template' }) },
  { additionalProperties: false },
);

const PushStepSchema = Type.Object(
  {
    type: Type.Literal('push'),
    title: Type.String({ minLength: 1, maxLength: 1000, description: 'Liquid template of the title' }),
    body: Type.String({ minLength: 1, maxLength: 4000, description: 'Liquid template of the body' }),
    data: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4000 }), { description: 'Templates' })),
  },
  { additionalProperties: false },
);

const ChatStepSchema = Type.Object(
  {
    type: Type.Literal('chat'),
    text: Type.String({ minLength: 1, maxLength: 40_000, description: 'Liquid template of the text' }),
    blocks: Type.Optional(
      Type.Array(Type.Unknown(), {
        maxItems: 50,
        description: 'Slack blocks or Teams Adaptive Card elements; string values are Liquid templates',
      }),
    ),
  },
  { additionalProperties: false },
);

const WebhookStepSchema = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.Optional(Template(2048, "Liquid template of the URL; the subscriber's webhookUrl when absent")),
    body: Type.Optional(
      Type.Unknown({
        description:
          "JSON template: string values are Liquid templates; a string that is exactly {{ path }} keeps the value's type",
      }),
    ),
  },
  { additionalProperties: false },
);

const InAppStepSchema = Type.Object(
  {
    type: Type.Literal('in_app'),
    title: Type.Optional(Template(1000, 'Liquid template of the title')),
    body: Type.String({ minLength: 1, maxLength: 10_000, description: 'Liquid template of the text shown' }),
    actionUrl: Type.Optional(
      Template(2048, 'Liquid template of the link opened on click: http(s) or relative; other schemes are dropped'),
    ),
    avatarUrl: Type.Optional(Template(2048, 'Liquid template of an image URL: http(s) or relative')),
    data: Type.Optional(
      JsonObject(
        "JSON template handed to the page: string values are Liquid templates; exactly {{ path }} keeps the value's type",
      ),
    ),
  },
  { additionalProperties: false },
);

/** Each shape under its component name. */
const STEPS = {
  EmailStep: EmailStepSchema,
  SmsStep: SmsStepSchema,
  PushStep: PushStepSchema,
  ChatStep: ChatStepSchema,
  WebhookStep: WebhookStepSchema,
  InAppStep: InAppStepSchema,
};
type AnyStep = { [Name in keyof typeof STEPS]: Static<(typeof STEPS)[Name]> }[keyof typeof STEPS];

/**
 * A step is one of six shapes told apart by `type`. The discriminator makes Ajv check only the
 * shape `type` names, so a bad field gets that shape's errors and a bad `type` one error listing
 * the types (not six shapes' worth); the mapping gives generators the tag of each shape.
 */
export const Step = component(
  'Step',
  Type.Unsafe<AnyStep>({
    type: 'object',
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(
        Object.entries(STEPS).map(([name, schema]) => [schema.properties.type.const, componentPointer(name)]),
      ),
    },
    oneOf: Object.entries(STEPS).map(([name, schema]) => component(name, schema)),
  }),
);
