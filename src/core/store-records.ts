import type { NewInboxItem } from './inbox.js';
import type { WorkflowConsent } from './preferences.js';
import type { DigestContext } from './templates.js';
import type { PlannedMessage, PlannedRun, RunStart } from './runs.js';
import type { Role } from './roles.js';
import type {
  Attempt,
  ChannelType,
  MessageChannel,
  MessageContent,
  Message,
  MessageStatus,
  Subscriber,
  SubscriberFields,
  WorkflowStep,
} from './types.js';

// What the store ports (core/store.ts) take and give: plans to commit, claimed work, outcomes,
// stored records. Re-exported by core/store.ts, where callers import them from.

/**
 * A recipient as the trigger names it: a reference to a subscriber who must exist, or, with
 * fields, a subscriber to create or update.
 */
export interface RecipientUpsert {
  subscriberId: string;
  /** Present when the trigger gave fields: they are merged into the stored subscriber (created if new). */
  fields?: SubscriberFields;
}

export type { PlannedMessage } from './runs.js';

/** Sends at most `limit` per `intervalMs` through one integration (per worker process). */
export interface RateLimit {
  limit: number;
  intervalMs: number;
}

/** A breaker's state as a worker last reported it. */
export interface CircuitSnapshot {
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  /** When it opened (open, half-open). */
  openedAt: number | null;
  lastFailure: string | null;
  updatedAt: number;
}

/** An integration as stored: credentials sealed, the rest plain. */
export interface StoredIntegration {
  environmentId: string;
  id: string;
  channel: ChannelType;
  provider: string;
  /** Config without the secret fields. */
  config: Record<string, unknown>;
  /** The secret fields as one sealed JSON document (see secret-box.ts), null when there are none. */
  sealedSecrets: string | null;
  /** Lower goes first. */
  priority: number;
  enabled: boolean;
  rateLimit: RateLimit | null;
  circuit: CircuitSnapshot | null;
  createdAt: number;
  updatedAt: number;
}

/** An API key as listed. The key itself is never stored, only its SHA-256 hash. */
export interface ApiKey {
  id: string;
  environmentId: string;
  name: string;
  /** The key's first characters (see core/api-keys.ts); null for keys made before prefixes were kept. */
  prefix: string | null;
  createdAt: number;
  /** Recorded at most once a minute per key, so up to a minute behind; null when never used. */
  lastUsedAt: number | null;
}

/** A dashboard user (core/users.ts), as the API shows one: never the password hash. */
export interface User {
  id: string;
  /** Lower case (core/users.ts normalizeEmail); unique. */
  email: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
  /** Set while the user may not sign in. */
  disabledAt: number | null;
}

export interface StoredUser extends User {
  passwordHash: string;
}

/** A change to a user; a new password hash or disabling ends the user's sessions with it. */
export interface UserChange {
  email?: string;
  role?: Role;
  passwordHash?: string;
  disabled?: boolean;
}

/** A dashboard session (core/sessions.ts): keyed by the SHA-256 of the cookie's token. */
export interface StoredSession {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute expiry. */
  expiresAt: number;
  csrfToken: string;
}

/** Failed logins within a window, for one email and one client address. */
export interface LoginFailures {
  email: { count: number; oldestAt: number | null };
  address: { count: number; oldestAt: number | null };
}

/** GET /v1/audit: newest first; `actor` is an actor id (usr_…, key_…) or a user's email. */
export interface AuditFilter {
  limit: number;
  cursor?: string;
  actor?: string;
  action?: string;
}

/** Everything one accepted trigger writes, committed together or not at all. */
export interface TriggerPlan {
  environmentId: string;
  triggerId: string;
  workflowKey: string;
  workflowVersionId: string;
  /** The trigger's payload, already serialised. */
  dataJson: string;
  recipients: RecipientUpsert[];
  messages: PlannedMessage[];
  /** One per recipient, in the order of `recipients`. */
  runs: PlannedRun[];
  start: RunStart;
  /** When the runs start (null: now). */
  sendAt: number | null;
  cancellationKey: string | null;
  /**
   * The subscriber the trigger is about ("Ann commented"), left out of its audience; with fields,
   * created or updated as a recipient with fields is.
   */
  actor?: RecipientUpsert | null;
  /**
   * The topics `to` named: a fan-out (core/fan-out.ts) is committed with the trigger and starts
   * the members' runs page by page. Null when `to` named none.
   */
  fanout?: { topics: string[] } | null;
  /**
   * A test send (core/test-send.ts): the trigger and its messages are marked `test`, and their
   * jobs pass over preferences and quiet hours.
   */
  test?: boolean;
  createdAt: number;
  idempotency?: { key: string; bodyHash: string; responseJson: string };
}

/** A page of the message log in commit order; `nextSince` is where the next read starts. */
export interface MessageLogPage {
  items: Message[];
  nextSince: number;
}

export interface StoredIdempotency {
  bodyHash: string;
  responseJson: string;
}

/** The delivery log's page filters; every one given must match (AND). */
export interface MessageFilter {
  triggerId?: string;
  subscriberId?: string;
  status?: MessageStatus;
  /** A workflow key. */
  workflow?: string;
  channel?: MessageChannel;
  /** Only test sends' messages (true), or only the others (false). */
  test?: boolean;
  /** Only messages created at or after this time (ms), through their time-ordered ids. */
  createdFrom?: number;
  /** Only messages created before this time (ms). */
  createdBefore?: number;
  limit: number;
  cursor?: string;
}

/**
 * Which failed messages a re-drive re-queues (every one given must match). `createdFrom` and
 * `createdBefore` bound the messages' creation time (ms) through their time-ordered ids.
 */
export interface RedriveFilter {
  messageId?: string;
  triggerId?: string;
  subscriberId?: string;
  /** A workflow key. */
  workflow?: string;
  channel?: MessageChannel;
  createdFrom?: number;
  createdBefore?: number;
}

/** What one re-drive batch did: the messages it re-queued, oldest first, and whether more match. */
export interface RedriveBatch {
  messageIds: string[];
  more: boolean;
}

/** A job handed to one worker, with what is needed to run it. */
export interface ClaimedJob {
  jobId: string;
  /** How many times this job has been claimed, this claim included. */
  claims: number;
  messageId: string;
  environmentId: string;
  triggerId: string;
  workflowKey: string;
  workflowVersionId: string;
  stepIndex: number;
  /** Earlier attempts that did not end in `sent`; picks the retry delay. */
  failedAttempts: number;
  subscriber: Subscriber | null;
  /** The trigger's payload, read with the claim (jobs of one trigger share the parsed object). */
  data: Record<string, unknown>;
  /** What the run's digest step folded, for the steps after it; null without one. */
  digest: DigestContext | null;
  /**
   * The message's run, when the run may be waiting for this message's outcome (it had not walked
   * every step at the claim): its completion wakes the run (JobCompletion.wakeRun).
   */
  openRunId: string | null;
  /** A test send's message: sent whatever the preferences and quiet hours (core/test-send.ts). */
  test: boolean;
}

/** A workflow as one version saved it; `category`, `critical` and `preferences` are present when set. */
export interface WorkflowVersion extends WorkflowConsent {
  versionId: string;
  key: string;
  name: string;
  steps: WorkflowStep[];
}

/** A saved version as the versions API reads it: what it held, its number and when it was saved. */
export interface NumberedWorkflowVersion extends WorkflowVersion {
  version: number;
  createdAt: number;
}

/** A line of a workflow's version history. */
export interface WorkflowVersionSummary {
  version: number;
  versionId: string;
  name: string;
  stepCount: number;
  createdAt: number;
}

/** One provider call of a job; `at` defaults to the completion's. */
export interface CompletedAttempt {
  at?: number;
  outcome: Attempt['outcome'];
  detail: string;
  durationMs: number;
  integrationId?: string | null;
  provider?: string | null;
}

/** The result of one job, recorded with its attempt in one transaction. */
export interface JobCompletion {
  jobId: string;
  workerId: string;
  messageId: string;
  at: number;
  /** Provider calls made, in order: several when failover tried more than one; none when skipped. */
  attempts: CompletedAttempt[];
  status: 'sent' | 'failed' | 'skipped' | 'retrying';
  reason: string | null;
  /** For `retrying`: when the job is due again. */
  retryAt?: number;
  /**
   * For `retrying`: the message waited (for quiet hours or a busy destination) and nothing was
   * sent. It is not a failed attempt: the retry schedule is not advanced, and the claim is not
   * counted against the job (claims count deliveries that never came back).
   */
  deferred?: boolean;
  /**
   * Where it went, and what (the delivery log's recipient, subject and content). Absent or null:
   * the store keeps what an earlier attempt recorded (a deferral dispatched nothing); only the
   * erasure of a deleted subscriber clears them.
   */
  recipient?: string | null;
  subject?: string | null;
  content?: MessageContent | null;
  providerMessageId?: string | null;
  /** An in-app delivery: the item to add to the subscriber's inbox with this outcome. */
  inboxItem?: { environmentId: string; subscriberId: string; item: NewInboxItem };
  /**
   * A run that may wait for this outcome (ClaimedJob.openRunId): the store makes its timer due
   * now, unless another worker holds it. The run engine checks again in any case.
   */
  wakeRun?: string | null;
}

export interface QueueStats {
  /** Jobs not yet finished, due or not. */
  depth: number;
  /** Age of the oldest job that is due and unclaimed, 0 when none. */
  oldestDueAgeMs: number;
}
