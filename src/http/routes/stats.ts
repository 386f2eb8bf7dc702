import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.js';
import { DAY_MS, HOUR_MS, ROLLUP_STATUSES, toSeries } from '../../core/message-stats.js';
import { MESSAGE_CHANNELS } from '../../core/types.js';
import { component, StringEnum } from '../components.js';
import type { AppDeps } from '../deps.js';

/** The longest range a request may ask for, per bucket: a month of hours, a year and a bit of days. */
const MAX_RANGE_MS = { hour: 31 * DAY_MS, day: 400 * DAY_MS } as const;
/** Without `since`: the last 24 hours by hour, the last 7 days by day. */
const DEFAULT_RANGE_MS = { hour: DAY_MS, day: 7 * DAY_MS } as const;

/** The last millisecond a JavaScript Date can hold: no real range ends later. */
const MAX_TIME = 8_640_000_000_000_000;

const StatsQuery = Type.Object(
  {
    since: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_TIME,
        description: 'Epoch ms; its bucket is included. Default: 24 h (hour) or 7 d (day) before until',
      }),
    ),
    until: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_TIME, description: 'Epoch ms, exclusive. Default: now' }),
    ),
    bucket: Type.Optional(StringEnum(['hour', 'day'], { description: 'UTC hours (default) or UTC days' })),
  },
  { additionalProperties: false },
);

const MessageStats = component(
  'MessageStats',
  Type.Object({
    since: Type.Number({ description: 'The start of the first bucket (epoch ms, UTC)' }),
    until: Type.Number(),
    bucket: StringEnum(['hour', 'day']),
    series: Type.Array(
      Type.Object({
        channel: StringEnum(MESSAGE_CHANNELS),
        status: StringEnum(ROLLUP_STATUSES),
        total: Type.Integer(),
        points: Type.Array(
          Type.Object({
            at: Type.Number({ description: "The bucket's start (epoch ms, UTC)" }),
            count: Type.Integer(),
          }),
          { description: 'One per bucket with messages, in order' },
        ),
      }),
      { description: 'One per channel and status with messages in the range' },
    ),
  }),
);

const QueueStatsView = component(
  'QueueStats',
  Type.Object({
    depth: Type.Integer({ description: 'Jobs not yet finished, due or not (all environments)' }),
    oldestDueAgeMs: Type.Integer({ description: 'How long the oldest due, unclaimed job has waited; 0 when none' }),
  }),
);

/**
 * Delivery figures for the dashboard's overview: message outcomes over time from the rollup
 * (never a scan of the delivery log) and the job queue.
 */
export const statsRoutes =
  (deps: AppDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['stats'];

    app.get(
      '/stats/messages',
      {
        schema: {
          tags,
          operationId: 'getMessageStats',
          summary: 'Messages sent, failed, skipped and canceled per channel over time, by hour or day (UTC)',
          querystring: StatsQuery,
          response: { 200: MessageStats },
        },
      },
      async (request) => {
        const bucket = request.query.bucket ?? 'hour';
        const until = request.query.until ?? deps.clock.now();
        const since = request.query.since ?? until - DEFAULT_RANGE_MS[bucket];
        if (since >= until) {
          throw new HeraldError('INVALID_REQUEST', `since (${since}) must be before until (${until})`);
        }
        if (until - since > MAX_RANGE_MS[bucket]) {
          throw new HeraldError(
            'INVALID_REQUEST',
            `since to until spans more than ${MAX_RANGE_MS[bucket] / DAY_MS} days, the most bucket=${bucket} ` +
              `answers: narrow the range${bucket === 'hour' ? ' or ask for bucket=day' : ''}`,
          );
        }
        const size = bucket === 'day' ? DAY_MS : HOUR_MS;
        const start = since - (since % size);
        const rows = await deps.store.messageRollup(request.environmentId, start, until);
        return { since: start, until, bucket, series: toSeries(rows, bucket) };
      },
    );

    app.get(
      '/stats/queue',
      {
        schema: {
          tags,
          operationId: 'getQueueStats',
          summary: 'Jobs waiting to be delivered, and how long the oldest due one has waited',
          response: { 200: QueueStatsView },
        },
      },
      async () => deps.store.queueStats(deps.clock.now()),
    );
  };
