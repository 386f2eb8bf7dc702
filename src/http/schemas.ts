import { Type, type Static, type TSchema } from 'typebox';
import { idPattern } from '../core/ids.js';
import { CHANNEL_TYPES, MESSAGE_CHANNELS, MESSAGE_STATUSES } from '../core/types.js';
import { component, KEY_EXPECTED, KEY_PATTERN, PatternString, StringEnum } from './components.js';
import { SubscriberPreferences, WorkflowConsentFields } from './preference-schemas.js';
import { Step } from './step-schemas.js';

/*
 * The API's schemas. `component(name, schema)` declares a named one, listed once in /openapi.json
 * and referenced wherever it is used; request bodies are named `…Input`. Path parameters and query
 * strings stay inline: OpenAPI describes those field by field. `x-expected` says in words what a
 * pattern accepts, for the document and for the validation error.
 */

/** What an identifier chosen by the customer may hold: printable, no control characters. */
export const IDENTIFIER_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';

/** Identifiers chosen by the customer: printable, no control characters, bounded. */
export const Identifier = (description: string) =>
  PatternString(IDENTIFIER_PATTERN, 'text without control characters', {
    minLength: 1,
    maxLength: 255,
    description,
  });

/** Free text from query strings and paths: no control characters (PostgreSQL refuses NUL in text). */
export const Printable = (maxLength: number, description?: string) =>
  PatternString('^[^\\u0000-\\u001f\\u007f]*$', 'text without control characters', {
    maxLength,
    ...(description === undefined ? {} : { description }),
  });

const Nullable = <T extends TSchema>(schema: T, options: Record<string, unknown> = {}) =>
  Type.Union([schema, Type.Null()], options);
const NullableString = Nullable(Type.String());
const NullableNumber = Nullable(Type.Number());
export const JsonObject = (description?: string) => Type.Record(Type.String(), Type.Unknown(), { description });

export const FieldError = component(
  'FieldError',
  Type.Object({
    path: Type.String({ description: 'JSON Pointer into the body (or the query string, path or headers)' }),
    message: Type.String({ description: 'What is wrong, and what would be accepted' }),
  }),
);

export const Problem = component(
  'Problem',
  Type.Object(
    {
      type: Type.String({ description: 'urn:herald:error:<code in lower case>' }),
      title: Type.String(),
      status: Type.Integer(),
      detail: Type.String(),
      code: Type.String({ description: 'Stable: what programs branch on (docs/errors.md)' }),
      errors: Type.Optional(Type.Array(FieldError, { description: 'One per field, for validation errors' })),
      requestId: Type.Optional(Type.String({ description: 'On a 500: finds the logged error' })),
    },
    { description: 'RFC 9457 problem details' },
  ),
);

export const SubscriberFields = {
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254, 'x-expected': 'an email address' }))),
  phone: Type.Optional(
    Nullable(
      PatternString('^\\+?[0-9 ()./-]{3,32}$', 'a phone number: digits, spaces and ( ) . / -, with an optional +', {
        maxLength: 32,
      }),
    ),
  ),
  name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  locale: Type.Optional(
    Nullable(
      PatternString('^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$', 'a locale such as en or pt-BR', { maxLength: 35 }),
    ),
  ),
  timezone: Type.Optional(
    Nullable(PatternString('^[A-Za-z0-9_+/-]+$', 'an IANA time zone such as Europe/Paris', { maxLength: 64 })),
  ),
  data: Type.Optional(Nullable(JsonObject())),
};

const HttpsUrl = (description: string) =>
  PatternString('^https?://[^\\s]+$', 'an http(s) URL without spaces', { maxLength: 2048, description });

const PushDevices = component(
  'PushDevices',
  Type.Object(
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
      apns: Type.Optional(
        Type.Array(PatternString('^[0-9a-fA-F]{16,200}$', 'a device token of 16 to 200 hex digits'), { maxItems: 20 }),
      ),
    },
    { additionalProperties: false },
  ),
);

const ChatAddresses = component(
  'ChatAddresses',
  Type.Object(
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
  ),
);

/** Channel data: set through the subscriber API (and given whole to a preview), not inline in triggers. */
export const SubscriberChannelFields = {
  push: Type.Optional(Nullable(PushDevices)),
  chat: Type.Optional(Nullable(ChatAddresses)),
  webhookUrl: Type.Optional(Nullable(HttpsUrl('Where webhook steps POST for this subscriber'))),
};

export const SubscriberBody = component(
  'SubscriberInput',
  Type.Object({ ...SubscriberFields, ...SubscriberChannelFields }, { additionalProperties: false }),
);
export type SubscriberBody = Static<typeof SubscriberBody>;

const SubscriberReadFields = {
  subscriberId: Type.String(),
  email: NullableString,
  phone: NullableString,
  name: NullableString,
  locale: NullableString,
  timezone: NullableString,
  data: Nullable(JsonObject()),
  push: Nullable(PushDevices),
  chat: Nullable(ChatAddresses),
  webhookUrl: NullableString,
  preferences: Nullable(SubscriberPreferences, { description: 'null until preferences are set' }),
  redacted: Type.Optional(
    Type.Boolean({ description: 'true for a viewer (docs/dashboard.md): push, chat and webhookUrl are null' }),
  ),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
};

export const Subscriber = component(
  'Subscriber',
  Type.Object({
    ...SubscriberReadFields,
    topics: Type.Array(Type.String(), { description: 'The keys of the topics the subscriber is a member of' }),
  }),
);

export const SubscriberListItem = component(
  'SubscriberListItem',
  Type.Object(SubscriberReadFields, { description: 'A subscriber as lists show it: without its topics' }),
);

export const SubscriberListQuery = Type.Object(
  {
    prefix: Type.Optional(Printable(255, 'Only subscribers whose subscriberId starts with this (byte for byte)')),
    email: Type.Optional(
      PatternString(IDENTIFIER_PATTERN, 'text without control characters', {
        maxLength: 254,
        description: 'Only subscribers whose email starts with this, ASCII letters compared without case',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(
      PatternString(IDENTIFIER_PATTERN, 'the nextCursor of an earlier page', {
        maxLength: 2000,
        description: 'nextCursor of the previous page (of the same search)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SubscriberParams = Type.Object({ subscriberId: Identifier("The customer's own id for the person") });

export const WorkflowBody = component(
  'WorkflowInput',
  Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      ...WorkflowConsentFields,
      steps: Type.Array(Step, { minItems: 1, maxItems: 20 }),
    },
    { additionalProperties: false },
  ),
);
export type WorkflowBody = Static<typeof WorkflowBody>;

export const WorkflowParams = Type.Object({
  key: PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Workflow key, e.g. comment-created' }),
});

export const Workflow = component(
  'Workflow',
  Type.Object({
    key: Type.String(),
    name: Type.String(),
    version: Type.Integer(),
    ...WorkflowConsentFields,
    steps: Type.Array(Step),
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
  }),
);

/**
 * A list's `cursor`: the `nextCursor` of an earlier page, which is the last item's id or key. One
 * of another shape is refused (400), never read as "from the start" or "nothing left".
 */
export const Cursor = (pattern: string) =>
  Type.Optional(
    PatternString(pattern, 'the nextCursor of an earlier page', { description: 'nextCursor of the previous page' }),
  );
/** Cursors of lists of messages and inbox items: a message id. */
export const MessageCursor = Cursor(idPattern('msg'));

export const pageQuery = (cursor: ReturnType<typeof Cursor>) => ({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor,
});

export const MessageQuery = Type.Object(
  {
    triggerId: Type.Optional(Printable(100, 'Only messages of this trigger')),
    subscriberId: Type.Optional(Printable(255, 'Only messages to this subscriber')),
    status: Type.Optional(StringEnum(MESSAGE_STATUSES, { description: 'Only messages in this status' })),
    workflow: Type.Optional(
      PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Only messages of the workflow with this key' }),
    ),
    channel: Type.Optional(
      StringEnum(MESSAGE_CHANNELS, { description: "Only messages of this channel: the step's type" }),
    ),
    test: Type.Optional(
      Type.Boolean({ description: 'Only the messages of test sends (true), or only the others (false)' }),
    ),
    from: Type.Optional(
      Type.String({
        format: 'date-time',
        'x-expected': 'an ISO 8601 time such as 2026-12-24T09:00:00Z',
        description: 'Only messages created at or after this time',
      }),
    ),
    until: Type.Optional(
      Type.String({
        format: 'date-time',
        'x-expected': 'an ISO 8601 time such as 2026-12-24T09:00:00Z',
        description: 'Only messages created before this time',
      }),
    ),
    ...pageQuery(MessageCursor),
    since: Type.Optional(
      PatternString('^(now|0|[1-9][0-9]{0,14})$', 'now, 0 or the nextSince of an earlier read', {
        description:
          'Follow the log: messages committed after this seq, oldest first, and nextSince to ask with next; ' +
          '`now` answers only the current end. Not combined with cursor or filters.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type MessageQuery = Static<typeof MessageQuery>;

export const WorkflowListQuery = Type.Object(pageQuery(Cursor(KEY_PATTERN)), { additionalProperties: false });
export const DevMailQuery = Type.Object(pageQuery(Cursor(idPattern('mail'))), { additionalProperties: false });

export const Attempt = component(
  'Attempt',
  Type.Object({
    at: Type.Number(),
    outcome: StringEnum(['sent', 'retry', 'failed']),
    detail: Type.String(),
    durationMs: Type.Number(),
    integrationId: NullableString,
    provider: NullableString,
  }),
);

const MessageFields = {
  id: Type.String(),
  triggerId: Type.String(),
  workflowKey: Type.String(),
  subscriberId: Type.String(),
  channel: StringEnum(MESSAGE_CHANNELS),
  stepIndex: Type.Integer(),
  status: StringEnum(MESSAGE_STATUSES),
  reason: NullableString,
  recipient: NullableString,
  subject: NullableString,
  attemptCount: Type.Integer(),
  providerMessageId: NullableString,
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  sentAt: NullableNumber,
  seq: Nullable(Type.Integer(), { description: "The message's place in the log (?since=)" }),
  redacted: Type.Optional(
    Type.Boolean({ description: 'true for a viewer (docs/dashboard.md): subject and content are null' }),
  ),
  test: Type.Boolean({ description: 'Sent by a test send (POST /v1/workflows/{key}/test)' }),
};

export const Message = component('Message', Type.Object(MessageFields));

export const MessageWithAttempts = component(
  'MessageDetail',
  Type.Object({
    ...MessageFields,
    attempts: Type.Array(Attempt),
    content: Nullable(
      Type.Object({
        html: NullableString,
        text: Type.String(),
        warnings: Type.Optional(
          Type.Array(Type.String(), {
            description:
              'What the render warned of without failing: a missing translation key (rendered as the key), a date or number the format_* filters could not read',
          }),
        ),
      }),
      {
        description: 'The rendered bodies that were sent; null before the first attempt or once erased',
      },
    ),
  }),
);

export const MessageParams = Type.Object({ id: Printable(100) });

export const DevMail = component(
  'DevMail',
  Type.Object({
    id: Type.String(),
    messageId: Type.String(),
    from: Type.String(),
    to: Type.String(),
    subject: Type.String(),
    html: NullableString,
    text: Type.String(),
    headers: Type.Record(Type.String(), Type.String()),
    createdAt: Type.Number(),
    redacted: Type.Optional(
      Type.Boolean({ description: 'true for a viewer (docs/dashboard.md): subject, bodies and headers are empty' }),
    ),
  }),
);

/** `{items, nextCursor}`: a page of a list, newest first unless the route says otherwise. */
export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String(), { description: 'Pass as ?cursor= for the next page; null on the last' }),
  });

/** The delivery log: a page by `cursor` (newest first) or by `since` (the log, in commit order). */
export const MessagePage = component(
  'MessagePage',
  Type.Object({
    items: Type.Array(Message),
    nextCursor: Type.Optional(
      Nullable(Type.String(), { description: 'With cursor paging: pass as ?cursor= next; null on the last page' }),
    ),
    nextSince: Type.Optional(Type.Integer({ description: 'With since: the since of the next read' })),
  }),
);

export const IntegrationParams = Type.Object({
  id: PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Integration id, e.g. twilio-main' }),
});

const RateLimitSchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'sends per interval, per worker process' }),
    interval: PatternString('^\\d+(ms|s|m|h)$', 'a duration such as 500ms, 1s, 5m or 1h'),
  },
  { additionalProperties: false },
);

export const IntegrationBody = component(
  'IntegrationInput',
  Type.Object(
    {
      channel: Type.Optional(StringEnum(CHANNEL_TYPES)),
      provider: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
      config: Type.Optional(JsonObject('Provider settings and credentials (docs/channels.md)')),
      url: Type.Optional(
        Type.String({ minLength: 3, maxLength: 4096, description: 'Apprise-style URL instead of provider + config' }),
      ),
      priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'lower is tried first' })),
      enabled: Type.Optional(Type.Boolean()),
      rateLimit: Type.Optional(Nullable(RateLimitSchema)),
    },
    { additionalProperties: false, description: 'channel + provider + config, or url' },
  ),
);
export type IntegrationBody = Static<typeof IntegrationBody>;

export const Integration = component(
  'Integration',
  Type.Object({
    id: Type.String(),
    channel: StringEnum(CHANNEL_TYPES),
    provider: Type.String(),
    config: JsonObject('credentials masked'),
    priority: Type.Integer(),
    enabled: Type.Boolean(),
    rateLimit: Nullable(Type.Object({ limit: Type.Integer(), intervalMs: Type.Integer() })),
    circuit: Nullable(
      Type.Object({
        state: StringEnum(['closed', 'open', 'half-open']),
        consecutiveFailures: Type.Integer(),
        openedAt: NullableNumber,
        lastFailure: NullableString,
        updatedAt: Type.Number(),
      }),
    ),
    source: StringEnum(['api', 'environment']),
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
    secret: Type.Optional(Type.String({ description: 'the webhook signing secret: shown once, on create and rotate' })),
  }),
);

export const IntegrationTestBody = component(
  'IntegrationTestInput',
  Type.Object(
    {
      to: Type.Optional(
        Type.Unknown({ description: 'address, phone, chat destination, device token/subscription or URL' }),
      ),
      text: Type.Optional(Type.String({ maxLength: 1000 })),
    },
    { additionalProperties: false },
  ),
);

export const IntegrationTestResult = component(
  'IntegrationTestResult',
  Type.Object({
    status: StringEnum(['sent', 'retry', 'failed']),
    detail: Type.String(),
    providerMessageId: NullableString,
  }),
);
