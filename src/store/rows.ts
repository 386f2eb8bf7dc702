import type { SubscriberPreferences, WorkflowConsent } from '../core/preferences.js';
import type {
  ClaimedJob,
  MessageLogPage,
  NumberedWorkflowVersion,
  StoredIntegration,
  WorkflowVersion,
  WorkflowVersionSummary,
} from '../core/store.js';
import type { DigestContext } from '../core/templates.js';
import type {
  Attempt,
  ChannelData,
  PushDevices,
  Page,
  DevMail,
  Message,
  MessageStatus,
  Subscriber,
  SubscriberFields,
  Workflow,
} from '../core/types.js';

export interface SubscriberRow {
  subscriber_id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  locale: string | null;
  timezone: string | null;
  data: string | null;
  channels: string | null;
  /** JSON; absent from reads that do not select it (the row then reads as having none). */
  preferences?: string | null;
  created_at: number;
  updated_at: number;
}

/** The subscriber's channel data as stored: one JSON document, null when there is none. */
export function channelsJson(fields: SubscriberFields): string | null {
  const channels: Record<string, unknown> = {};
  if (fields.push) channels.push = fields.push;
  if (fields.chat) channels.chat = fields.chat;
  if (fields.webhookUrl) channels.webhookUrl = fields.webhookUrl;
  return Object.keys(channels).length === 0 ? null : JSON.stringify(channels);
}

/** Named parameters @env, @id, @email … @data, @now for statements that write a subscriber. */
export function subscriberParams(env: string, id: string, fields: SubscriberFields, now: number) {
  return {
    env,
    id,
    email: fields.email ?? null,
    phone: fields.phone ?? null,
    name: fields.name ?? null,
    locale: fields.locale ?? null,
    timezone: fields.timezone ?? null,
    data: fields.data == null ? null : JSON.stringify(fields.data),
    channels: channelsJson(fields),
    now,
  };
}

/** The job columns a claim returns. */
export interface ClaimedJobRow {
  id: string;
  message_id: string;
  claims: number;
}

/** The message, subscriber (s_subscriber_id null when gone) and trigger payload of a claimed job. */
export interface ClaimedDetailRow extends SubscriberRow {
  environment_id: string;
  trigger_id: string;
  workflow_key: string;
  workflow_version_id: string;
  step_index: number;
  failed_attempts: number;
  s_subscriber_id: string | null;
  trigger_data: string | null;
  /** The message's run; null for messages of triggers from before runs. */
  run_id: string | null;
  run_state: string | null;
  run_digest: string | null;
  /** The message's: a test send's (0/1 on SQLite). */
  test: number | boolean;
}

/**
 * Maps the rows of one claim to jobs. Trigger payloads are parsed once per trigger, so the jobs
 * of one trigger share one object; a missing trigger row reads as an empty payload.
 */
export function claimedJobMapper(): (job: ClaimedJobRow, detail: ClaimedDetailRow) => ClaimedJob {
  const payloads = new Map<string, Record<string, unknown>>();
  const payload = (detail: ClaimedDetailRow) => {
    let data = payloads.get(detail.trigger_id);
    if (!data) {
      data = detail.trigger_data === null ? {} : (JSON.parse(detail.trigger_data) as Record<string, unknown>);
      payloads.set(detail.trigger_id, data);
    }
    return data;
  };
  return (job, detail) => ({
    jobId: job.id,
    claims: job.claims,
    messageId: job.message_id,
    environmentId: detail.environment_id,
    triggerId: detail.trigger_id,
    workflowKey: detail.workflow_key,
    workflowVersionId: detail.workflow_version_id,
    stepIndex: detail.step_index,
    failedAttempts: detail.failed_attempts,
    subscriber: detail.s_subscriber_id === null ? null : toSubscriber(detail),
    data: payload(detail),
    digest: detail.run_digest ? (JSON.parse(detail.run_digest) as DigestContext) : null,
    // Only an active run can be waiting for an outcome (a condition rechecking earlier sends).
    openRunId: detail.run_state === 'active' ? detail.run_id : null,
    test: Boolean(detail.test),
  });
}

export function toSubscriber(row: SubscriberRow): Subscriber {
  const channels = row.channels === null ? {} : (JSON.parse(row.channels) as ChannelData);
  return {
    subscriberId: row.subscriber_id,
    email: row.email,
    phone: row.phone,
    name: row.name,
    locale: row.locale,
    timezone: row.timezone,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    push: channels.push ?? null,
    chat: channels.chat ?? null,
    webhookUrl: channels.webhookUrl ?? null,
    preferences: row.preferences ? (JSON.parse(row.preferences) as SubscriberPreferences) : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface WorkflowRow {
  key: string;
  name: string;
  version: number;
  version_id: string;
  steps: string;
  consent: string | null;
  created_at: number;
  updated_at: number;
}

/** What a version says about consent, as stored: JSON of the fields set, null when none is. */
export function consentJson(input: WorkflowConsent): string | null {
  const consent: WorkflowConsent = {};
  if (input.category !== undefined) consent.category = input.category;
  if (input.critical !== undefined) consent.critical = input.critical;
  if (input.preferences !== undefined) consent.preferences = input.preferences;
  return Object.keys(consent).length === 0 ? null : JSON.stringify(consent);
}

/** The consent fields a version stored, to spread into the workflow: none when it set none. */
export function consentOf(json: string | null): WorkflowConsent {
  return json === null ? {} : (JSON.parse(json) as WorkflowConsent);
}

export function toWorkflow(row: WorkflowRow): Workflow {
  return {
    key: row.key,
    name: row.name,
    ...consentOf(row.consent),
    steps: JSON.parse(row.steps) as Workflow['steps'],
    version: row.version,
    versionId: row.version_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface WorkflowVersionRow {
  id: string;
  key: string;
  name: string;
  steps: string;
  consent: string | null;
}

export function toWorkflowVersion(row: WorkflowVersionRow): WorkflowVersion {
  return {
    versionId: row.id,
    key: row.key,
    name: row.name,
    ...consentOf(row.consent),
    steps: JSON.parse(row.steps) as WorkflowVersion['steps'],
  };
}

/** The version columns `toNumberedWorkflowVersion` reads, for a versions-table query. */
export const NUMBERED_VERSION_COLUMNS = 'id, key, name, steps, consent, version, created_at';

export interface NumberedWorkflowVersionRow extends WorkflowVersionRow {
  version: number;
  created_at: number;
}

export function toNumberedWorkflowVersion(row: NumberedWorkflowVersionRow): NumberedWorkflowVersion {
  return { ...toWorkflowVersion(row), version: row.version, createdAt: row.created_at };
}

export interface WorkflowVersionSummaryRow {
  id: string;
  version: number;
  name: string;
  step_count: number;
  created_at: number;
}

export function toWorkflowVersionSummary(row: WorkflowVersionSummaryRow): WorkflowVersionSummary {
  return {
    version: row.version,
    versionId: row.id,
    name: row.name,
    stepCount: row.step_count,
    createdAt: row.created_at,
  };
}

export interface MessageRow {
  id: string;
  trigger_id: string;
  workflow_key: string;
  subscriber_id: string;
  channel: string;
  step_index: number;
  status: string;
  reason: string | null;
  recipient: string | null;
  subject: string | null;
  attempt_count: number;
  provider_message_id: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  seq: number | null;
  /** 0/1 on SQLite, a boolean on PostgreSQL. */
  test: number | boolean;
}

export const MESSAGE_COLUMNS = `id, trigger_id, workflow_key, subscriber_id, channel, step_index, status, reason,
  recipient, subject, attempt_count, provider_message_id, created_at, updated_at, sent_at, seq, test`;

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    triggerId: row.trigger_id,
    workflowKey: row.workflow_key,
    subscriberId: row.subscriber_id,
    channel: row.channel as Message['channel'],
    stepIndex: row.step_index,
    status: row.status as MessageStatus,
    reason: row.reason,
    recipient: row.recipient,
    subject: row.subject,
    attemptCount: row.attempt_count,
    providerMessageId: row.provider_message_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sentAt: row.sent_at,
    seq: row.seq,
    test: Boolean(row.test),
  };
}

export interface AttemptRow {
  at: number;
  outcome: string;
  detail: string;
  duration_ms: number;
  integration_id: string | null;
  provider: string | null;
}

export const ATTEMPT_COLUMNS = 'at, outcome, detail, duration_ms, integration_id, provider';

export function toAttempt(row: AttemptRow): Attempt {
  return {
    at: row.at,
    outcome: row.outcome as Attempt['outcome'],
    detail: row.detail,
    durationMs: row.duration_ms,
    integrationId: row.integration_id,
    provider: row.provider,
  };
}

export interface IntegrationRow {
  environment_id: string;
  id: string;
  channel: string;
  provider: string;
  config: string;
  secrets: string | null;
  priority: number;
  enabled: number | boolean;
  rate_limit: string | null;
  circuit: string | null;
  created_at: number;
  updated_at: number;
}

export function toIntegration(row: IntegrationRow): StoredIntegration {
  return {
    environmentId: row.environment_id,
    id: row.id,
    channel: row.channel as StoredIntegration['channel'],
    provider: row.provider,
    config: JSON.parse(row.config) as Record<string, unknown>,
    sealedSecrets: row.secrets,
    priority: row.priority,
    enabled: Boolean(row.enabled),
    rateLimit: row.rate_limit === null ? null : (JSON.parse(row.rate_limit) as StoredIntegration['rateLimit']),
    circuit: row.circuit === null ? null : (JSON.parse(row.circuit) as StoredIntegration['circuit']),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Parameters of an integration write, in the column order of INTEGRATION_INSERT_COLUMNS. */
export function integrationValues(integration: StoredIntegration): unknown[] {
  return [
    integration.environmentId,
    integration.id,
    integration.channel,
    integration.provider,
    JSON.stringify(integration.config),
    integration.sealedSecrets,
    integration.priority,
    integration.enabled,
    integration.rateLimit === null ? null : JSON.stringify(integration.rateLimit),
    integration.createdAt,
    integration.updatedAt,
  ];
}

export const INTEGRATION_INSERT_COLUMNS =
  'environment_id, id, channel, provider, config, secrets, priority, enabled, rate_limit, created_at, updated_at';

/** Removes devices from a subscriber's channel data; returns the new JSON, or undefined if nothing changed. */
export function withoutPushDevices(
  channelsText: string | null,
  kind: keyof PushDevices,
  gone: readonly string[],
): string | null | undefined {
  if (channelsText === null) return undefined;
  const channels = JSON.parse(channelsText) as ChannelData;
  const devices = channels.push?.[kind];
  if (!devices) return undefined;
  const key = (device: unknown) => (typeof device === 'string' ? device : (device as { endpoint: string }).endpoint);
  const kept = (devices as unknown[]).filter((device) => !gone.includes(key(device)));
  if (kept.length === devices.length) return undefined;
  channels.push = { ...channels.push, [kind]: kept };
  return JSON.stringify(channels);
}

export interface DevMailRow {
  id: string;
  environment_id: string;
  message_id: string;
  sender: string;
  recipient: string;
  subject: string;
  html: string | null;
  text: string;
  headers: string;
  created_at: number;
}

export function toDevMail(row: DevMailRow): DevMail {
  return {
    id: row.id,
    environmentId: row.environment_id,
    messageId: row.message_id,
    from: row.sender,
    to: row.recipient,
    subject: row.subject,
    html: row.html,
    text: row.text,
    headers: JSON.parse(row.headers) as Record<string, string>,
    createdAt: row.created_at,
  };
}

/** A page of `limit` items from `limit + 1` rows: the extra row only says there is more. */
export function page<Row, T>(
  rows: Row[],
  limit: number,
  map: (row: Row) => T,
  cursorOf: (row: Row) => string,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: more ? cursorOf(kept[kept.length - 1]!) : null };
}

/** A page of the message log from rows in seq order; an empty page keeps `since`. */
export function logPage(rows: MessageRow[], since: number): MessageLogPage {
  const items = rows.map(toMessage);
  return { items, nextSince: items.length === 0 ? since : items[items.length - 1]!.seq! };
}

/** The dev_mail columns, in INSERT order: id, environment_id, message_id, sender, recipient, subject, html, text, headers, created_at. */
export function devMailValues(mail: DevMail): unknown[] {
  return [
    mail.id,
    mail.environmentId,
    mail.messageId,
    mail.from,
    mail.to,
    mail.subject,
    mail.html,
    mail.text,
    JSON.stringify(mail.headers),
    mail.createdAt,
  ];
}
