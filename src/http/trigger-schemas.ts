import { Type, type Static } from 'typebox';
import { idPattern } from '../core/ids.js';
import { FANOUT_STATES, RUN_STATES } from '../core/runs.js';
import { component, PatternString, StringEnum } from './components.js';
import { KEY_EXPECTED, KEY_PATTERN } from './components.js';
import { Identifier, JsonObject, Message, Printable, SubscriberFields } from './schemas.js';

// Triggers and their runs: POST /v1/workflows/{key}/trigger, GET /v1/triggers/{triggerId} and
// POST /v1/triggers/cancel.

export const Recipient = component(
  'Recipient',
  Type.Union(
    [
      Identifier('A subscriberId'),
      Type.Object(
        {
          subscriberId: Identifier('Subscriber to notify; created or updated with the fields given'),
          ...SubscriberFields,
        },
        { additionalProperties: false },
      ),
    ],
    { 'x-expected': 'a subscriberId or an object with a subscriberId' },
  ),
);

const TopicTarget = component(
  'TopicTarget',
  Type.Object(
    { topic: PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Every member of this topic' }) },
    { additionalProperties: false },
  ),
);

const Audience = Type.Union([Recipient, TopicTarget], {
  'x-expected': 'a subscriberId, an object with a subscriberId, or {"topic": key}',
});

export const TriggerBody = component(
  'TriggerInput',
  Type.Object(
    {
      to: Type.Union([Audience, Type.Array(Audience, { minItems: 1, maxItems: 1000 })], {
        'x-expected':
          'a subscriberId, an object with a subscriberId, {"topic": key}, or an array of up to 1000 of these',
        description:
          'Who to notify: subscribers, topics ({"topic": key}: every member, reached after the answer), or a list ' +
          'of both; each subscriber is reached once',
      }),
      actor: Type.Optional(
        Type.Union([Recipient], {
          description:
            'Who the trigger is about ("Ann commented"): left out of the audience; an object creates or updates ' +
            'them as a recipient object does',
        }),
      ),
      data: Type.Optional(JsonObject('Payload for the templates')),
      sendAt: Type.Optional(
        Type.String({
          format: 'date-time',
          'x-expected': 'an ISO 8601 time such as 2026-12-24T09:00:00Z',
          description: 'When the runs start (ISO 8601, up to 400 days ahead); now when absent or past',
        }),
      ),
      cancellationKey: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 255,
          description: 'Names the runs for POST /v1/triggers/cancel, e.g. the id of the thing the workflow is about',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type TriggerBody = Static<typeof TriggerBody>;

export const TriggerHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

export const TriggerResponse = component(
  'TriggerResult',
  Type.Object({
    triggerId: Type.String(),
    messageIds: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'The messages committed with the answer, one per recipient and sending step; absent when `to` names a ' +
          "topic: its members' runs start after the answer (GET /v1/triggers/{triggerId} shows the fan-out)",
      }),
    ),
  }),
);

export const TriggerParams = Type.Object({
  triggerId: PatternString(idPattern('trg'), 'a trigger id (trg_…)', { description: 'The triggerId of a 202' }),
});

export const TriggerQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Runs per page' })),
    cursor: Type.Optional(Printable(255)),
  },
  { additionalProperties: false },
);

const Digest = component(
  'DigestContext',
  Type.Object({
    count: Type.Integer({ description: 'Every event the digest folded' }),
    events: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
      description: 'The data of the first 100 events, oldest first',
    }),
  }),
);

export const Run = component(
  'Run',
  Type.Object({
    runId: Type.String(),
    subscriberId: Type.String(),
    state: StringEnum(RUN_STATES),
    stepIndex: Type.Integer({ description: 'The step the run is at (its length once completed)' }),
    step: Type.Union([Type.String(), Type.Null()], { description: "That step's ref; null past the last step" }),
    dueAt: Type.Union([Type.Number(), Type.Null()], {
      description: 'When the run moves next (a delay ends, a condition looks again); null when nothing is scheduled',
    }),
    reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the run ended as it did' }),
    digest: Type.Union([Digest, Type.Null()]),
    messages: Type.Array(Message),
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
  }),
);

const Fanout = component(
  'Fanout',
  Type.Object({
    topics: Type.Array(Type.String()),
    state: StringEnum(FANOUT_STATES, {
      description: 'running: members are still being reached; done: every member has a run; canceled: stopped',
    }),
    recipients: Type.Integer({
      description: 'Runs started so far: the direct recipients and the topic members reached',
    }),
    finishedAt: Type.Union([Type.Number(), Type.Null()]),
  }),
);

export const TriggerDetail = component(
  'TriggerDetail',
  Type.Object({
    triggerId: Type.String(),
    workflowKey: Type.String(),
    workflowVersionId: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown()),
    sendAt: Type.Union([Type.Number(), Type.Null()]),
    cancellationKey: Type.Union([Type.String(), Type.Null()]),
    actor: Type.Union([Type.String(), Type.Null()], { description: 'The subscriber left out of the audience' }),
    fanout: Type.Union([Fanout, Type.Null()], { description: 'Null when `to` named no topic' }),
    test: Type.Boolean({ description: 'A test send (POST /v1/workflows/{key}/test)' }),
    createdAt: Type.Number(),
    runs: Type.Array(Run, { description: 'One per recipient, by subscriberId' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as ?cursor= for the next runs' }),
    redacted: Type.Optional(
      Type.Boolean({ description: "true for a viewer (docs/dashboard.md): data and digests' events are empty" }),
    ),
  }),
);

export const CancelBody = component(
  'CancelInput',
  Type.Object(
    {
      cancellationKey: Type.String({ minLength: 1, maxLength: 255 }),
      workflow: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Only runs of this workflow' })),
    },
    { additionalProperties: false },
  ),
);

export const CancelResult = component(
  'CancelResult',
  Type.Object({
    runs: Type.Integer({ description: 'Runs that were still moving and are now canceled' }),
    messages: Type.Integer({ description: 'Messages not yet sent that are now canceled' }),
  }),
);
