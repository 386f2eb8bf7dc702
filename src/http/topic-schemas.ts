import { Type } from 'typebox';
import { MAX_TOPIC_SUBSCRIBERS_PER_CALL } from '../core/topics.js';
import { component, PatternString } from './components.js';
import { KEY_EXPECTED, KEY_PATTERN } from './components.js';
import { Cursor, Identifier, IDENTIFIER_PATTERN, pageOf, pageQuery } from './schemas.js';

// Topics and their members: /v1/topics.

export const TopicParams = Type.Object({
  key: PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Topic key, e.g. project-42-watchers' }),
});

export const TopicBody = component(
  'TopicInput',
  Type.Object(
    {
      name: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 200,
          description: 'Default: the key; left out, an existing name stays',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);

const TopicFields = {
  key: Type.String(),
  name: Type.String(),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
};

export const Topic = component('Topic', Type.Object(TopicFields));

export const TopicDetail = component(
  'TopicDetail',
  Type.Object({ ...TopicFields, subscriberCount: Type.Integer({ description: 'Members now' }) }),
);

export const TopicListQuery = Type.Object(pageQuery(Cursor(KEY_PATTERN)), { additionalProperties: false });
export const TopicPage = pageOf(Topic);

export const TopicSubscribersBody = component(
  'TopicSubscribersInput',
  Type.Object(
    {
      subscriberIds: Type.Array(Identifier('A subscriberId'), {
        minItems: 1,
        maxItems: MAX_TOPIC_SUBSCRIBERS_PER_CALL,
        description: `Up to ${MAX_TOPIC_SUBSCRIBERS_PER_CALL.toLocaleString('en')} ids; repeats are fine`,
      }),
    },
    { additionalProperties: false },
  ),
);

export const TopicSubscribersAdded = component(
  'TopicSubscribersAdded',
  Type.Object({
    added: Type.Integer({ description: 'Ids that were not members yet' }),
    topicCreated: Type.Boolean({ description: 'The topic did not exist and was created (named by its key)' }),
  }),
);

export const TopicSubscribersRemoved = component(
  'TopicSubscribersRemoved',
  Type.Object({ removed: Type.Integer({ description: 'Ids that were members' }) }),
);

export const TopicMember = component(
  'TopicMember',
  Type.Object({
    subscriberId: Type.String(),
    addedAt: Type.Number({ description: 'When the subscriber was first added' }),
  }),
);

export const TopicMemberQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    // A subscriberId: the last of the previous page.
    cursor: Type.Optional(
      PatternString(IDENTIFIER_PATTERN, 'the nextCursor of an earlier page', {
        maxLength: 255,
        description: 'nextCursor of the previous page',
      }),
    ),
  },
  { additionalProperties: false },
);
export const TopicMemberPage = pageOf(TopicMember);
