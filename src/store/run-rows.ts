import type { RunDetails, RunState, TriggerDetails } from '../core/runs.js';
import type { DigestContext } from '../core/templates.js';
import { page, toMessage, type MessageRow } from './rows.js';
import { toFanoutProgress, type FanoutRow } from './topic-rows.js';

// The trigger view's rows (GET /v1/triggers/{triggerId}), mapped alike for both stores.

/** A trigger row as GET /v1/triggers/{triggerId} reads it, with its fan-out (a LEFT JOIN of fanouts). */
export interface TriggerRow extends FanoutRow {
  id: string;
  workflow_key: string;
  workflow_version_id: string;
  data: string;
  send_at: number | null;
  cancellation_key: string | null;
  actor_id: string | null;
  /** 0/1 on SQLite, a boolean on PostgreSQL. */
  test: number | boolean;
  created_at: number;
}

/** A run of a trigger's page, with its timer's due time (null while claimed or when none). */
export interface RunPageRow {
  id: string;
  subscriber_id: string;
  state: RunState;
  step_index: number;
  reason: string | null;
  digest: string | null;
  created_at: number;
  updated_at: number;
  due_at: number | null;
}

/** A trigger with a page of its runs (`rows` holds up to `limit` + 1) and each run's messages. */
export function toTriggerDetails(
  trigger: TriggerRow,
  rows: RunPageRow[],
  limit: number,
  messagesOf: (subscriberId: string) => MessageRow[],
): TriggerDetails {
  const runs = page(
    rows,
    limit,
    (row): RunDetails => ({
      runId: row.id,
      subscriberId: row.subscriber_id,
      state: row.state,
      stepIndex: row.step_index,
      dueAt: row.due_at,
      reason: row.reason,
      digest: row.digest === null ? null : (JSON.parse(row.digest) as DigestContext),
      messages: messagesOf(row.subscriber_id).map(toMessage),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }),
    (row) => row.subscriber_id,
  );
  return {
    triggerId: trigger.id,
    workflowKey: trigger.workflow_key,
    workflowVersionId: trigger.workflow_version_id,
    data: JSON.parse(trigger.data) as Record<string, unknown>,
    sendAt: trigger.send_at,
    cancellationKey: trigger.cancellation_key,
    actor: trigger.actor_id,
    fanout: toFanoutProgress(trigger),
    test: Boolean(trigger.test),
    createdAt: trigger.created_at,
    runs,
  };
}
