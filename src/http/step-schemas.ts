import { Type, type Static } from 'typebox';
import { WEEKDAYS } from '../core/local-time.js';
import { component, componentPointer, KEY_PATTERN, PatternString, StringEnum } from './components.js';

// The shapes of a workflow step, one component each, and `Step`, the union of them.

const JsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

const Template = (maxLength: number, description: string) => Type.String({ maxLength, description });

/** `ref` and `if`, which every step may have. */
const COMMON = {
  ref: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
      description:
        "The step's name in conditions (steps.<ref>.status), the log and the API; unique in the workflow. " +
        'Default: its type and 1-based position, e.g. email_3',
    }),
  ),
  if: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 2000,
      description:
        'Liquid condition, written as in {% if %}, over data, subscriber, digest and steps.<ref>.status; ' +
        'checked when the run reaches the step. False: the step is skipped and the run goes on',
    }),
  ),
};

const ClockTime = (description: string) =>
  PatternString('^([01]\\d|2[0-3]):[0-5]\\d$', 'a time such as 09:00 (00:00 to 23:59)', { description });

const SendWindow = component(
  'SendWindow',
  Type.Object(
    {
      days: Type.Optional(
        Type.Array(StringEnum(WEEKDAYS), {
          minItems: 1,
          maxItems: 7,
          description: 'The days the window opens on; every day when absent',
        }),
      ),
      start: ClockTime('When the window opens, HH:MM (24-hour)'),
      end: PatternString('^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$', 'a time such as 18:00 (00:00 to 24:00)', {
        description: 'When it closes, HH:MM or 24:00; before start, the next day (22:00 to 08:00 crosses midnight)',
      }),
    },
    {
      additionalProperties: false,
      description:
        "Days and hours in the subscriber's time zone (else --default-timezone) in which the step may send; " +
        'a run that reaches it outside them waits for the next opening',
    },
  ),
);

/** What every sending step may have besides `ref`, `if` and its own fields. */
const SENDING = { window: Type.Optional(SendWindow) };

const Duration = (description: string) =>
  Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$', description });

const EmailStepSchema = Type.Object(
  {
    type: Type.Literal('email'),
    ...COMMON,
    subject: Type.String({ minLength: 1, maxLength: 2000, description: 'Liquid template of the subject' }),
    html: Type.Optional(Template(500_000, 'Liquid template of the HTML body; output is HTML-escaped')),
    text: Type.Optional(Template(500_000, 'Liquid template of the text body; derived from html when absent')),
    layout: Type.Optional(
      Type.Union([Type.String({ pattern: KEY_PATTERN }), Type.Literal(false)], {
        'x-expected': 'the key of a layout, or false for none',
        description:
          "The layout the email renders in (docs/templates.md): a layout's key, which must exist; false: none, " +
          "even when the environment has a default; absent: the environment's default layout, if it has one",
      }),
    ),
    ...SENDING,
  },
  { additionalProperties: false, description: 'Needs html, text or both' },
);

const SmsStepSchema = Type.Object(
  {
    type: Type.Literal('sms'),
    ...COMMON,
    text: Type.String({ minLength: 1, maxLength: 10_000, description: 'Liquid template' }),
    ...SENDING,
  },
  { additionalProperties: false },
);

const PushStepSchema = Type.Object(
  {
    type: Type.Literal('push'),
    ...COMMON,
    title: Type.String({ minLength: 1, maxLength: 1000, description: 'Liquid template of the title' }),
    body: Type.String({ minLength: 1, maxLength: 4000, description: 'Liquid template of the body' }),
    data: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4000 }), { description: 'Templates' })),
    ...SENDING,
  },
  { additionalProperties: false },
);

const ChatStepSchema = Type.Object(
  {
    type: Type.Literal('chat'),
    ...COMMON,
    text: Type.String({ minLength: 1, maxLength: 40_000, description: 'Liquid template of the text' }),
    blocks: Type.Optional(
      Type.Array(Type.Unknown(), {
        maxItems: 50,
        description: 'Slack blocks or Teams Adaptive Card elements; string values are Liquid templates',
      }),
    ),
    ...SENDING,
  },
  { additionalProperties: false },
);

const WebhookStepSchema = Type.Object(
  {
    type: Type.Literal('webhook'),
    ...COMMON,
    url: Type.Optional(Template(2048, "Liquid template of the URL; the subscriber's webhookUrl when absent")),
    body: Type.Optional(
      Type.Unknown({
        description:
          "JSON template: string values are Liquid templates; a string that is exactly {{ path }} keeps the value's type",
      }),
    ),
    ...SENDING,
  },
  { additionalProperties: false },
);

const InAppStepSchema = Type.Object(
  {
    type: Type.Literal('in_app'),
    ...COMMON,
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
    ...SENDING,
  },
  { additionalProperties: false },
);

const DelayStepSchema = Type.Object(
  {
    type: Type.Literal('delay'),
    ...COMMON,
    for: Type.Optional(Duration('How long the run waits, e.g. 1h (up to 400d)')),
    until: Type.Optional(
      Template(
        2000,
        'Liquid template of an ISO 8601 time the run waits until, e.g. {{ data.remindAt }}; a time past does not wait',
      ),
    ),
  },
  { additionalProperties: false, description: 'Waits; needs for or until, not both' },
);

const DigestStepSchema = Type.Object(
  {
    type: Type.Literal('digest'),
    ...COMMON,
    window: Type.Optional(Duration('How long a digest collects events from the first one, e.g. 10m (up to 31d)')),
    schedule: Type.Optional(
      Type.String({
        maxLength: 100,
        description:
          'Instead of window: the subscriber-local time the digest closes at — daily 09:00, weekdays 09:00, ' +
          'weekends 10:00, or days by name, mon 09:00, mon,thu 17:30',
      }),
    ),
    key: Type.Optional(
      Template(1000, 'Liquid template: events with different keys (for one recipient) never share a digest'),
    ),
    mode: Type.Optional(
      Type.Union([Type.Literal('batch'), Type.Literal('first-now')], {
        description:
          'batch (default): the steps after run once when the window closes. first-now: the first event goes ' +
          'on at once, the rest of the window is digested',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Folds the events of a window (or up to a schedule), per recipient and key, into one run of the steps after ' +
      'it, with digest.count and digest.events (the first 100 events’ data); needs window or schedule, not both',
  },
);

const ThrottleStepSchema = Type.Object(
  {
    type: Type.Literal('throttle'),
    ...COMMON,
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Runs let through per window' }),
    window: Duration('The sliding window, e.g. 1h (up to 31d)'),
    key: Type.Optional(Template(1000, 'Liquid template: a separate limit per key (for one recipient)')),
  },
  { additionalProperties: false, description: 'Runs past the limit, per recipient and key, end throttled' },
);

/** Each shape under its component name. */
const STEPS = {
  EmailStep: EmailStepSchema,
  SmsStep: SmsStepSchema,
  PushStep: PushStepSchema,
  ChatStep: ChatStepSchema,
  WebhookStep: WebhookStepSchema,
  InAppStep: InAppStepSchema,
  DelayStep: DelayStepSchema,
  DigestStep: DigestStepSchema,
  ThrottleStep: ThrottleStepSchema,
};
type AnyStep = { [Name in keyof typeof STEPS]: Static<(typeof STEPS)[Name]> }[keyof typeof STEPS];

/**
 * A step is one of nine shapes told apart by `type`. The discriminator makes Ajv check only the
 * shape `type` names, so a bad field gets that shape's errors and a bad `type` one error listing
 * the types (not nine shapes' worth); the mapping gives generators the tag of each shape.
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
