import { Type, type Static } from 'typebox';
import { idPattern } from '../core/ids.js';
import { CHANNEL_TYPES, MESSAGE_STATUSES } from '../core/types.js';

/** Identifiers chosen by the customer: printable, no control characters, bounded. */
export const Identifier = (description: string) =>
  Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description });

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const SubscriberFieldsSchema = {
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 32, pattern: '^\\+?[0-9 ()./-]{3,32}$' }))),
  name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  locale: Type.Optional(Nullable(Type.String({ maxLength: 35, pattern: '^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$' }))),
  timezone: Type.Optional(Nullable(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$' }))),
  data: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
};

const HttpsUrl = (description: string) => Type.String({ maxLength: 2048, pattern: '^https?://[^\\s]+$', description });

const PushDevicesSchema = Type.Object(
  {
    webPush: Type.Optional(
      Type.Array(
        Type.Object(
          {
            endpoint: HttpsUrl('The push service endpoint from PushManager.subscribe()'),
            keys: Type.Object(
              { p256dh: Type.String({ maxLength: 200 }), auth: Type.String({ maxLength: 100 }) },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 20 },
      ),
    ),
    fcm: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { maxItems: 20 })),
    apns: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9a-fA-F]{16,200}$' }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);

const ChatAddressesSchema = Type.Object(
  {
    slack: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, description: 'Incoming webhook URL or channel id' }),
    ),
    discord: Type.Optional(HttpsUrl('Discord channel webhook URL')),
    teams: Type.Optional(HttpsUrl('Teams Workflows webhook URL')),
    telegram: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Telegram chat id' })),
    mattermost: Type.Optional(HttpsUrl('Mattermost incoming webhook URL')),
  },
  { additionalProperties: false },
);

/** Channel data: set through the subscriber API only (not inline in triggers). */
export const ChannelDataSchema = {
  push: Type.Optional(Type.Union([PushDevicesSchema, Type.Null()])),
  chat: Type.Optional(Type.Union([ChatAddressesSchema, Type.Null()])),
  webhookUrl: Type.Optional(Type.Union([HttpsUrl('Where webhook steps POST for this subscriber'), Type.Null()])),
};

export const SubscriberBody = Type.Object(
  { ...SubscriberFieldsSchema, ...ChannelDataSchema },
  { additionalProperties: false },
);
export type SubscriberBody = Static<typeof SubscriberBody>;

export const Subscriber = Type.Object({
  subscriberId: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  locale: Type.Union([Type.String(), Type.Null()]),
  timezone: Type.Union([Type.String(), Type.Null()]),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  push: Type.Union([PushDevicesSchema, Type.Null()]),
  chat: Type.Union([ChatAddressesSchema, Type.Null()]),
  webhookUrl: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
});

export const SubscriberParams = Type.Object({ subscriberId: Identifier("The customer's own id for the person") });

const Template = (maxLength: number, description: string) => Type.String({ maxLength, description });

export const EmailStepSchema = Type.Object(
  {
    type: Type.Literal('email'),
    subject: Type.String({ minLength: 1, maxLength: 2000, description: 'Liquid template of the subject' }),
    html: Type.Optional(Template(500_000, 'Liquid template of the HTML body; output is HTML-escaped')),
    text: Type.Optional(Template(500_000, 'Liquid template of the text body; derived from html when absent')),
  },
  { additionalProperties: false },
);

export const SmsStepSchema = Type.Object(
  { type: Type.Literal('sms'), text: Type.String({ minLength: 1, maxLength: 10_000, description: 'Liquid template' }) },
  { additionalProperties: false },
);

export const PushStepSchema = Type.Object(
  {
    type: Type.Literal('push'),
    title: Type.String({ minLength: 1, maxLength: 1000, description: 'Liquid template of the title' }),
    body: Type.String({ minLength: 1, maxLength: 4000, description: 'Liquid template of the body' }),
    data: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4000 }), { description: 'Templates' })),
  },
  { additionalProperties: false },
);

export const ChatStepSchema = Type.Object(
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

export const WebhookStepSchema = Type.Object(
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

export const InAppStepSchema = Type.Object(
  {
    type: Type.Literal('in_app'),
    title: Type.Optional(Template(1000, 'Liquid template of the title')),
    body: Type.String({ minLength: 1, maxLength: 10_000, description: 'Liquid template of the text shown' }),
    actionUrl: Type.Optional(
      Template(2048, 'Liquid template of the link opened on click: http(s) or relative; other schemes are dropped'),
    ),
    avatarUrl: Type.Optional(Template(2048, 'Liquid template of an image URL: http(s) or relative')),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          "JSON template handed to the page: string values are Liquid templates; exactly {{ path }} keeps the value's type",
      }),
    ),
  },
  { additionalProperties: false },
);

export const StepSchema = Type.Union([
  EmailStepSchema,
  SmsStepSchema,
  PushStepSchema,
  ChatStepSchema,
  WebhookStepSchema,
  InAppStepSchema,
]);

export const WorkflowBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    steps: Type.Array(StepSchema, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type WorkflowBody = Static<typeof WorkflowBody>;

const WORKFLOW_KEY = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

export const WorkflowParams = Type.Object({
  key: Type.String({ pattern: WORKFLOW_KEY, description: 'Workflow key, e.g. comment-created' }),
});

export const Workflow = Type.Object({
  key: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  steps: Type.Array(StepSchema),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
});

const RecipientObject = Type.Object(
  {
    subscriberId: Identifier('Subscriber to notify; created or updated with the fields given'),
    ...SubscriberFieldsSchema,
  },
  { additionalProperties: false },
);
const Recipient = Type.Union([Identifier('A subscriberId'), RecipientObject]);

export const TriggerBody = Type.Object(
  {
    to: Type.Union([Recipient, Type.Array(Recipient, { minItems: 1, maxItems: 1000 })]),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Payload for the templates' })),
  },
  { additionalProperties: false },
);
export type TriggerBody = Static<typeof TriggerBody>;

export const TriggerHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

export const TriggerResponse = Type.Object({
  triggerId: Type.String(),
  messageIds: Type.Array(Type.String()),
});

/** Free text from query strings and paths: no control characters (PostgreSQL refuses NUL in text). */
export const Printable = (maxLength: number) => Type.String({ maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });

/**
 * A list's `cursor`: the `nextCursor` of an earlier page, which is the last item's id or key. One
 * of another shape is refused (400), never read as "from the start" or "nothing left".
 */
export const Cursor = (pattern: string) =>
  Type.Optional(Type.String({ pattern, description: 'nextCursor of the previous page' }));
/** Cursors of lists of messages and inbox items: a message id. */
export const MessageCursor = Cursor(idPattern('msg'));

const pageQuery = (cursor: ReturnType<typeof Cursor>) => ({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor,
});

export const MessageQuery = Type.Object(
  {
    triggerId: Type.Optional(Printable(100)),
    subscriberId: Type.Optional(Printable(255)),
    status: Type.Optional(Type.Union(MESSAGE_STATUSES.map((status) => Type.Literal(status)))),
    ...pageQuery(MessageCursor),
    since: Type.Optional(
      Type.String({
        pattern: '^(now|0|[1-9][0-9]{0,14})$',
        description:
          'Follow the log: messages committed after this seq, oldest first, and nextSince to ask with next; ' +
          '`now` answers only the current end. Not combined with cursor or filters.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type MessageQuery = Static<typeof MessageQuery>;

export const WorkflowListQuery = Type.Object(pageQuery(Cursor(WORKFLOW_KEY)), { additionalProperties: false });
export const DevMailQuery = Type.Object(pageQuery(Cursor(idPattern('mail'))), { additionalProperties: false });

export const Attempt = Type.Object({
  at: Type.Number(),
  outcome: Type.String(),
  detail: Type.String(),
  durationMs: Type.Number(),
  integrationId: Type.Union([Type.String(), Type.Null()]),
  provider: Type.Union([Type.String(), Type.Null()]),
});

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const Message = Type.Object({
  id: Type.String(),
  triggerId: Type.String(),
  workflowKey: Type.String(),
  subscriberId: Type.String(),
  channel: Type.String(),
  stepIndex: Type.Integer(),
  status: Type.String(),
  reason: NullableString,
  recipient: NullableString,
  subject: NullableString,
  attemptCount: Type.Integer(),
  providerMessageId: NullableString,
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  sentAt: NullableNumber,
  seq: Type.Union([Type.Integer(), Type.Null()], { description: "The message's place in the log (?since=)" }),
});

export const MessageWithAttempts = Type.Object({
  ...Message.properties,
  attempts: Type.Array(Attempt),
  content: Type.Union([Type.Object({ html: NullableString, text: Type.String() }), Type.Null()], {
    description: 'The rendered bodies that were sent; null before the first attempt or once erased',
  }),
});

export const MessageParams = Type.Object({ id: Printable(100) });

export const DevMail = Type.Object({
  id: Type.String(),
  messageId: Type.String(),
  from: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  html: NullableString,
  text: Type.String(),
  headers: Type.Record(Type.String(), Type.String()),
  createdAt: Type.Number(),
});

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  requestId: Type.Optional(Type.String()),
});

export const pageOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: NullableString });

/** The delivery log: a page by `cursor` (newest first) or by `since` (the log, in commit order). */
export const MessagePage = Type.Object({
  items: Type.Array(Message),
  nextCursor: Type.Optional(
    Type.Union([Type.String(), Type.Null()], { description: 'With cursor paging: null on the last page' }),
  ),
  nextSince: Type.Optional(Type.Integer({ description: 'With since: the since of the next read' })),
});

export const IntegrationParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'Integration id, e.g. twilio-main' }),
});

const RateLimitSchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'sends per interval, per worker process' }),
    interval: Type.String({ pattern: '^\\d+(ms|s|m|h)$', description: 'e.g. 1s, 1m' }),
  },
  { additionalProperties: false },
);

export const IntegrationBody = Type.Object(
  {
    channel: Type.Optional(Type.Union(CHANNEL_TYPES.map((channel) => Type.Literal(channel)))),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    url: Type.Optional(
      Type.String({ minLength: 3, maxLength: 4096, description: 'Apprise-style URL instead of provider + config' }),
    ),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'lower is tried first' })),
    enabled: Type.Optional(Type.Boolean()),
    rateLimit: Type.Optional(Type.Union([RateLimitSchema, Type.Null()])),
  },
  { additionalProperties: false },
);
export type IntegrationBody = Static<typeof IntegrationBody>;

export const Integration = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  provider: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown(), { description: 'credentials masked' }),
  priority: Type.Integer(),
  enabled: Type.Boolean(),
  rateLimit: Type.Union([Type.Object({ limit: Type.Integer(), intervalMs: Type.Integer() }), Type.Null()]),
  circuit: Type.Union([
    Type.Object({
      state: Type.String(),
      consecutiveFailures: Type.Integer(),
      openedAt: NullableNumber,
      lastFailure: NullableString,
      updatedAt: Type.Number(),
    }),
    Type.Null(),
  ]),
  source: Type.String(),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  secret: Type.Optional(Type.String({ description: 'the webhook signing secret: shown once, on create and rotate' })),
});

export const IntegrationTestBody = Type.Object(
  {
    to: Type.Optional(
      Type.Unknown({ description: 'address, phone, chat destination, device token/subscription or URL' }),
    ),
    text: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const IntegrationTestResult = Type.Object({
  status: Type.String(),
  detail: Type.String(),
  providerMessageId: NullableString,
});
