import { Type, type Static } from 'typebox';
import { MAX_REDRIVE } from '../core/redrive-messages.js';
import { MESSAGE_CHANNELS } from '../core/types.js';
import { component, KEY_EXPECTED, KEY_PATTERN, PatternString, StringEnum } from './components.js';
import { Printable } from './schemas.js';

const Time = (description: string) =>
  Type.String({ format: 'date-time', 'x-expected': 'an ISO 8601 time such as 2026-12-24T09:00:00Z', description });

/** Which failed messages POST /v1/messages/redrive re-queues. */
export const RedriveInput = component(
  'RedriveInput',
  Type.Object(
    {
      status: Type.Literal('failed', { description: 'Only failed messages are re-driven; say so' }),
      channel: Type.Optional(
        StringEnum(MESSAGE_CHANNELS, { description: "Only messages of this channel: the step's type" }),
      ),
      workflow: Type.Optional(
        PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Only messages of the workflow with this key' }),
      ),
      subscriberId: Type.Optional(Printable(255, 'Only messages to this subscriber')),
      triggerId: Type.Optional(Printable(100, 'Only messages of this trigger')),
      since: Type.Optional(Time('Only messages created at or after this time')),
      until: Type.Optional(Time('Only messages created before this time')),
      limit: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: MAX_REDRIVE,
          description: `At most this many messages, oldest first (default and most: ${MAX_REDRIVE})`,
        }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type RedriveInput = Static<typeof RedriveInput>;

export const RedriveResult = component(
  'RedriveResult',
  Type.Object({
    redriven: Type.Integer({ description: 'How many failed messages were re-queued' }),
    more: Type.Boolean({ description: 'Whether failed messages matching the filter remain (re-drive again)' }),
  }),
);
