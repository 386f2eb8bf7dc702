import { HeraldError } from './errors.js';

/** Topics: named groups of subscribers that a trigger can fan out to (core/fan-out.ts). */

export interface Topic {
  key: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}

export interface TopicDetail extends Topic {
  subscriberCount: number;
}

/** A subscriber's membership of a topic. */
export interface TopicMember {
  subscriberId: string;
  /** When the subscriber was first added (adding a member again changes nothing). */
  addedAt: number;
}

/** Subscriber ids one call adds to or removes from a topic, at most. */
export const MAX_TOPIC_SUBSCRIBERS_PER_CALL = 10_000;

/**
 * Topics one trigger names, at most: each page of its fan-out reads the next members of every one
 * of them, so the work of a page grows with their number.
 */
export const MAX_TOPICS_PER_TRIGGER = 20;

/** How many unknown keys the detail line names; `errors` lists every one. */
const NAMED_IN_DETAIL = 10;

/**
 * The refusal of a trigger whose `to` names a topic that does not exist (stores throw it from
 * commitTrigger): a typo in a topic key would otherwise notify no one, silently.
 */
export function unknownTopics(keys: readonly string[]): HeraldError {
  const named = keys.slice(0, NAMED_IN_DETAIL).map((key) => JSON.stringify(key));
  const more = keys.length > NAMED_IN_DETAIL ? ` and ${keys.length - NAMED_IN_DETAIL} more` : '';
  return new HeraldError(
    'UNKNOWN_TOPICS',
    `No topic ${named.join(', ')}${more}; nothing was sent. Create it with PUT /v1/topics/{key} ` +
      'or by adding subscribers to it (POST /v1/topics/{key}/subscribers).',
    keys.map((key) => ({ path: '/to', message: `no topic ${JSON.stringify(key)}` })),
  );
}

/** Each id once, in first-seen order. */
export function distinctIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
