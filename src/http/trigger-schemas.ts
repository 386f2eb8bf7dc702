import { Type, type Static } from 'typebox';
import { idPattern } from '../core/ids.js';
import { RUN_STATES } from '../core/runs.js';
import { component, PatternString, StringEnum } from './components.js';
import { Identifier, JsonObject, Message, Printable, SubscriberFields } from './schemas.js';

// Triggers and their runs: POST /v1/workflows/{key}/trigger, GET /v1/triggers/{triggerId} and
// POST /v1/triggers/cancel.

const Recipient = component(
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

export const TriggerBody = component(
  'TriggerInput',
  Type.Object(
    {
      to: Type.Union([Recipient, Type.Array(Recipient, { minItems: 1, maxItems: 1000 })], {
        'x-expected': 'a subscriberId, an object with a subscriberId, or an array of up to 1000 of these',
      }),
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
  Type.Object({ triggerId: Type.String(), messageIds: Type.Array(Type.String()) }),
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

export const TriggerDetail = component(
  'TriggerDetail',
  Type.Object({
    triggerId: Type.String(),
    workflowKey: Type.String(),
    workflowVersionId: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown()),
    sendAt: Type.Union([Type.Number(), Type.Null()]),
    cancellationKey: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.Number(),
    runs: Type.Array(Run, { description: 'One per recipient, by subscriberId' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as ?cursor= for the next runs' }),
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
