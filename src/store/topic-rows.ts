import type { ClaimedFanout, FanoutProgress, FanoutState } from '../core/runs.js';
import type { Topic, TopicMember } from '../core/topics.js';

// Topics, their members and fan-outs as both stores read them.

export interface TopicRow {
  key: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export const toTopic = (row: TopicRow): Topic => ({
  key: row.key,
  name: row.name,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface TopicMemberRow {
  subscriber_id: string;
  created_at: number;
}

export const toTopicMember = (row: TopicMemberRow): TopicMember => ({
  subscriberId: row.subscriber_id,
  addedAt: row.created_at,
});

/** A trigger's fan-out columns, null when it has none (a LEFT JOIN of fanouts). */
export interface FanoutRow {
  fanout_topics: string | null;
  fanout_state: FanoutState | null;
  fanout_recipients: number | null;
  fanout_finished_at: number | null;
}

export function toFanoutProgress(row: FanoutRow): FanoutProgress | null {
  if (row.fanout_topics === null) return null;
  return {
    topics: JSON.parse(row.fanout_topics) as string[],
    state: row.fanout_state!,
    recipients: row.fanout_recipients!,
    finishedAt: row.fanout_finished_at,
  };
}

/** A running fan-out as a claim reads it, with its trigger's columns. */
export interface ClaimedFanoutRow {
  trigger_id: string;
  environment_id: string;
  topics: string;
  cursor: string;
  workflow_key: string;
  workflow_version_id: string;
  send_at: number | null;
  actor_id: string | null;
}

/** A claimed fan-out with `members`, its next page; its timer has the trigger's id. */
export const toClaimedFanout = (row: ClaimedFanoutRow, members: string[]): ClaimedFanout => ({
  kind: 'fanout',
  timerId: row.trigger_id,
  triggerId: row.trigger_id,
  environmentId: row.environment_id,
  workflowKey: row.workflow_key,
  workflowVersionId: row.workflow_version_id,
  sendAt: row.send_at,
  actorId: row.actor_id,
  cursor: row.cursor,
  members,
});
