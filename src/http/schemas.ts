import { Type, type Static } from 'typebox';
import { MESSAGE_STATUSES } from '../core/types.js';

/** Identifiers chosen by the customer: printable, no control characters, bounded. */
const Identifier = (description: string) =>
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

export const SubscriberBody = Type.Object(SubscriberFieldsSchema, { additionalProperties: false });
export type SubscriberBody = Static<typeof SubscriberBody>;

export const Subscriber = Type.Object({
  subscriberId: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  locale: Type.Union([Type.String(), Type.Null()]),
  timezone: Type.Union([Type.String(), Type.Null()]),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
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

export const WorkflowBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    steps: Type.Array(EmailStepSchema, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type WorkflowBody = Static<typeof WorkflowBody>;

export const WorkflowParams = Type.Object({
  key: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'Workflow key, e.g. comment-created' }),
});

export const Workflow = Type.Object({
  key: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  steps: Type.Array(EmailStepSchema),
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
const Printable = (maxLength: number) => Type.String({ maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Printable(100)),
};

export const MessageQuery = Type.Object(
  {
    triggerId: Type.Optional(Printable(100)),
    subscriberId: Type.Optional(Printable(255)),
    status: Type.Optional(Type.Union(MESSAGE_STATUSES.map((status) => Type.Literal(status)))),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type MessageQuery = Static<typeof MessageQuery>;

export const ListQuery = Type.Object(PageQuery, { additionalProperties: false });
export type ListQuery = Static<typeof ListQuery>;

export const Attempt = Type.Object({
  at: Type.Number(),
  outcome: Type.String(),
  detail: Type.String(),
  durationMs: Type.Number(),
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
