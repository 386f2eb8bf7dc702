import { Type } from 'typebox';
import { INBOX_ACTIONS, INBOX_FILTERS } from '../core/inbox.js';
import { component, PatternString, StringEnum } from './components.js';
import { Identifier, MessageCursor, Printable } from './schemas.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const InboxItem = component(
  'InboxItem',
  Type.Object({
    id: Type.String({ description: 'The id of its message in the delivery log' }),
    workflowKey: Type.String(),
    title: NullableString,
    body: Type.String(),
    actionUrl: Type.Union([Type.String(), Type.Null()], { description: 'http(s) or relative' }),
    avatarUrl: NullableString,
    data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    createdAt: Type.Number(),
    seenAt: NullableNumber,
    readAt: NullableNumber,
    archivedAt: NullableNumber,
    redacted: Type.Optional(
      Type.Boolean({
        description:
          'true for a viewer reading GET /v1/subscribers/{id}/inbox (docs/dashboard.md): title, body, links and data are left out',
      }),
    ),
  }),
);

export const InboxCounts = component(
  'InboxCounts',
  Type.Object({
    total: Type.Integer({ description: 'Items not archived' }),
    unread: Type.Integer(),
    unseen: Type.Integer(),
  }),
);

export const InboxItemsQuery = Type.Object(
  {
    status: Type.Optional(
      StringEnum(INBOX_FILTERS, { default: 'all', description: '`all` is every item not archived' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: MessageCursor,
  },
  { additionalProperties: false },
);

export const InboxItemParams = Type.Object({
  id: Printable(100),
  action: StringEnum(INBOX_ACTIONS),
});

export const InboxItemChanged = component('InboxItemChange', Type.Object({ item: InboxItem, counts: InboxCounts }));
export const InboxAllChanged = component(
  'InboxBulkChange',
  Type.Object({ changed: Type.Integer({ description: 'Items changed' }), counts: InboxCounts }),
);

export const InboxStreamQuery = Type.Object({
  subscriberId: Type.Optional(Identifier('With subscriberHash: EventSource cannot send headers')),
  subscriberHash: Type.Optional(Printable(200)),
  token: Type.Optional(Printable(2000)),
});

const Origin = PatternString('^(\\*|https?://[^/\\s]+)$', 'an origin such as https://app.example.com (no path), or *', {
  maxLength: 300,
  description: 'scheme://host[:port], or * for any',
});

export const InboxSettings = component(
  'InboxSettings',
  Type.Object({
    secret: Type.String({ description: 'Signs subscriber hashes and inbox tokens' }),
    allowedOrigins: Type.Array(Type.String(), { description: 'Origins whose pages may call the inbox API' }),
    allowedOriginsDefault: Type.Boolean({
      description: 'true: the list is the configured default (HERALD_INBOX_ORIGINS)',
    }),
    redacted: Type.Optional(
      Type.Boolean({ description: 'true for a viewer (docs/dashboard.md): the secret is empty' }),
    ),
  }),
);

export const InboxSettingsBody = component(
  'InboxSettingsInput',
  Type.Object(
    {
      allowedOrigins: Type.Union([Type.Array(Origin, { maxItems: 100 }), Type.Null()], {
        description: 'null: back to the configured default',
      }),
    },
    { additionalProperties: false },
  ),
);

export const InboxTokenBody = component(
  'InboxTokenInput',
  Type.Object(
    {
      expiresIn: Type.Optional(
        Type.Integer({ minimum: 60, maximum: 86_400, default: 3600, description: 'Seconds, at most a day' }),
      ),
    },
    { additionalProperties: false },
  ),
);

export const InboxToken = component(
  'InboxToken',
  Type.Object({ token: Type.String(), expiresAt: Type.Number({ description: 'Epoch milliseconds' }) }),
);
