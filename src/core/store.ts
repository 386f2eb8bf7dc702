import type {
  InboxAction,
  InboxCounts,
  InboxEvent,
  InboxEventRef,
  InboxFilter,
  InboxItem,
  InboxSettings,
} from './inbox.js';
import type { PreferenceChannel, SubscriberPreferences, WorkflowConsent } from './preferences.js';
import type {
  ClaimedTimer,
  FanoutAdvance,
  FanoutWorkResult,
  RunAdvance,
  RunWorkResult,
  TriggerDetails,
} from './runs.js';
import type {
  Layout,
  LayoutInput,
  TemplateAssets,
  TemplatePartial,
  Translation,
  TranslationMessages,
} from './template-assets.js';
import type { SubscriberSearch } from './subscriber-search.js';
import type { Topic, TopicDetail, TopicMember } from './topics.js';
import type {
  MessageChannel,
  PushDevices,
  DevMail,
  Message,
  MessageWithAttempts,
  Page,
  Subscriber,
  SubscriberFields,
  Workflow,
  WorkflowStep,
} from './types.js';
import type {
  CircuitSnapshot,
  StoredIntegration,
  ApiKey,
  TriggerPlan,
  MessageLogPage,
  StoredIdempotency,
  MessageFilter,
  ClaimedJob,
  WorkflowVersion,
  NumberedWorkflowVersion,
  WorkflowVersionSummary,
  JobCompletion,
  QueueStats,
  RedriveBatch,
  RedriveFilter,
} from './store-records.js';
import type { AccessStore, AuditStore } from './access-store.js';
import type { RollupCount } from './message-stats.js';

export type { AccessStore, AuditStore } from './access-store.js';

export type * from './store-records.js';

/** Opening, checking and closing a store; the environment new data goes to. */
export interface StoreLifecycle {
  readonly dialect: 'sqlite' | 'postgres';

  ping(): Promise<void>;

  close(): Promise<void>;

  defaultEnvironmentId(): Promise<string>;
}

/** API keys, by environment. */
export interface ApiKeyStore {
  /**
   * Registers a key by its hash. A hash already registered changes nothing and returns that key:
   * `exists` when it is live, `revoked` when it was revoked (revoked keys are kept, never revived).
   */
  addApiKey(input: {
    id: string;
    environmentId: string;
    name: string;
    prefix: string | null;
    hash: string;
    createdAt: number;
  }): Promise<{ status: 'added' | 'exists' | 'revoked'; key: ApiKey }>;
  /** The live (not revoked) key with this hash. */
  findApiKeyByHash(hash: string): Promise<{ id: string; environmentId: string } | undefined>;
  /** An environment's live keys, oldest first. */
  listApiKeys(environmentId: string): Promise<ApiKey[]>;
  /**
   * Revokes a live key of the environment. Never its last one (`last_key`): checked and done in
   * one transaction, so two revocations at once cannot leave the environment without a key.
   */
  revokeApiKey(environmentId: string, id: string, now: number): Promise<'revoked' | 'not_found' | 'last_key'>;
  /** Moves keys' last use forward (never back); callers batch these (http/auth.ts). */
  recordApiKeyUse(uses: readonly { id: string; at: number }[]): Promise<void>;
}

/** What keeps secrets at rest honest. */
export interface SecretStore {
  /**
   * Records `keyId` as the fingerprint of the key that seals this database's secrets unless one is
   * recorded already, and returns the recorded one: a process whose key differs must not start.
   */
  claimSealingKey(keyId: string): Promise<string>;
  /** Every environment's stored inbox secret, as stored (sealed, or plain from before sealing). */
  listInboxSecrets(): Promise<{ environmentId: string; secret: string }[]>;
  /** Replaces an inbox secret only if it is still `expected` (a rotation meanwhile wins); true when replaced. */
  replaceInboxSecret(environmentId: string, expected: string, replacement: string): Promise<boolean>;
}

/** Subscribers, by environment. */
export interface SubscriberStore {
  putSubscriber(
    environmentId: string,
    subscriberId: string,
    fields: SubscriberFields,
    now: number,
  ): Promise<Subscriber>;
  getSubscriber(environmentId: string, subscriberId: string): Promise<Subscriber | undefined>;
  /**
   * Replaces the subscriber's preferences with `preferences` (the whole document) and returns the
   * subscriber; undefined when there is no such subscriber. A put of the subscriber keeps them.
   */
  putSubscriberPreferences(
    environmentId: string,
    subscriberId: string,
    preferences: SubscriberPreferences,
    now: number,
  ): Promise<Subscriber | undefined>;
  /**
   * Turns one workflow's channel off in the subscriber's preferences, keeping the rest of the
   * document (read and written in one transaction, so a concurrent change is not lost). Returns the
   * preferences, or undefined when there is no such subscriber.
   */
  turnOffWorkflowChannel(
    environmentId: string,
    subscriberId: string,
    workflowKey: string,
    channel: PreferenceChannel,
    now: number,
  ): Promise<SubscriberPreferences | undefined>;
  /**
   * Deletes the subscriber and their topic memberships, and erases their address and rendered
   * content from their messages, and their inbox.
   */
  deleteSubscriber(environmentId: string, subscriberId: string): Promise<boolean>;
  /**
   * A page of subscribers by id, or by email (lower case, then id), from `search.after` on: the
   * nextCursor is the last id, or by email an emailCursor (core/subscriber-search.ts).
   */
  listSubscribers(environmentId: string, search: SubscriberSearch): Promise<Page<Subscriber>>;
}

/** Workflows and their immutable versions. */
export interface WorkflowStore {
  /**
   * Calls `listener` when another process may have saved or deleted a workflow (PostgreSQL), with
   * which one, or with undefined when changes may have been missed (the listener reconnected).
   */
  onWorkflowChanged?(listener: (change: { environmentId: string; key: string } | undefined) => void): void;

  /**
   * Saves the key's next version and makes it current. Its number is one more than the highest the
   * key ever had, so a workflow deleted and saved again goes on from where it was: a version number
   * names one version of a key, whose versions outlive the workflow.
   */
  putWorkflow(
    environmentId: string,
    input: { key: string; name: string; steps: WorkflowStep[]; versionId: string } & WorkflowConsent,
    now: number,
  ): Promise<Workflow>;
  getWorkflow(environmentId: string, key: string): Promise<Workflow | undefined>;
  listWorkflows(environmentId: string, limit: number, cursor?: string): Promise<Page<Workflow>>;
  /** Deletes the workflow; its versions stay (messages already accepted render them). */
  deleteWorkflow(environmentId: string, key: string): Promise<boolean>;
  getWorkflowVersions(versionIds: readonly string[]): Promise<WorkflowVersion[]>;
  /**
   * The key's versions, highest number first, whether or not the workflow still exists; the cursor
   * is the versionId of the last one read. (Numbers saved before version numbers went on across a
   * delete may appear twice: the later save of a number comes first.)
   */
  listWorkflowVersions(
    environmentId: string,
    key: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<WorkflowVersionSummary>>;
  /** The key's version with this number (the later save, should the number appear twice). */
  getWorkflowVersionByNumber(
    environmentId: string,
    key: string,
    version: number,
  ): Promise<NumberedWorkflowVersion | undefined>;
}

/**
 * Layouts, partials and translations: the template parts an environment's workflows share
 * (core/template-assets.ts). Every write also moves the environment's assets revision on, in the
 * same transaction, so what renders compiled from them is kept per revision.
 */
export interface TemplateStore {
  /**
   * Calls `listener` when another process may have changed an environment's template assets
   * (PostgreSQL), with which one, or with undefined when changes may have been missed.
   */
  onTemplateAssetsChanged?(listener: (environmentId: string | undefined) => void): void;

  /**
   * Creates or replaces a layout (keeping its createdAt); true when created. `default: true` makes
   * it the environment's default layout in the same transaction (the previous default is one no
   * longer), `false` makes it not the default, absent leaves that as it was.
   */
  putLayout(
    environmentId: string,
    key: string,
    input: LayoutInput,
    now: number,
  ): Promise<{ layout: Layout; created: boolean }>;
  getLayout(environmentId: string, key: string): Promise<Layout | undefined>;
  /** Layouts by key; the cursor is the last key of the previous page. */
  listLayouts(environmentId: string, limit: number, cursor?: string): Promise<Page<Layout>>;
  /** Deletes a layout; the default layout deleted leaves the environment without one. */
  deleteLayout(environmentId: string, key: string): Promise<boolean>;

  putPartial(
    environmentId: string,
    key: string,
    input: { name: string; template: string },
    now: number,
  ): Promise<{ partial: TemplatePartial; created: boolean }>;
  getPartial(environmentId: string, key: string): Promise<TemplatePartial | undefined>;
  /** Partials by key; the cursor is the last key of the previous page. */
  listPartials(environmentId: string, limit: number, cursor?: string): Promise<Page<TemplatePartial>>;
  deletePartial(environmentId: string, key: string): Promise<boolean>;

  /** Creates or replaces the messages of a (canonical) locale; true when created. */
  putTranslation(
    environmentId: string,
    locale: string,
    messages: TranslationMessages,
    now: number,
  ): Promise<{ translation: Translation; created: boolean }>;
  getTranslation(environmentId: string, locale: string): Promise<Translation | undefined>;
  /** Translations by locale; the cursor is the last locale of the previous page. */
  listTranslations(environmentId: string, limit: number, cursor?: string): Promise<Page<Translation>>;
  deleteTranslation(environmentId: string, locale: string): Promise<boolean>;

  /**
   * Everything renders need of the environment's template parts, read at one point in time (one
   * statement or one read on the writer's connection): NO_TEMPLATE_ASSETS when it never had any.
   */
  getTemplateAssets(environmentId: string): Promise<TemplateAssets>;
}

/** Accepted triggers: the one write that makes a 202, and idempotency. */
export interface TriggerStore {
  findIdempotency(environmentId: string, key: string, since: number): Promise<StoredIdempotency | undefined>;
  /**
   * Commits a trigger, its subscribers, messages, jobs and idempotency record in one transaction,
   * giving its messages the next log seqs (commit-ordered: a message committed later has a higher
   * seq). A recipient without fields must name an existing subscriber: if any does not, nothing is
   * written and this throws `unknownSubscribers` (core/trigger-workflow.ts) listing them all, found
   * with one query for the whole plan. Likewise a fan-out's topics must all exist, or this throws
   * `unknownTopics` (core/topics.ts) and writes nothing.
   */
  commitTrigger(plan: TriggerPlan): Promise<void>;
  getTriggerData(triggerIds: readonly string[]): Promise<Map<string, Record<string, unknown>>>;

  /** Deletes idempotency records older than `before`; returns how many. */
  pruneIdempotency(before: number): Promise<number>;
}

/** Workflow runs: timers, the run engine's decisions, cancellation, the trigger view. */
export interface RunStore {
  /**
   * Leases up to `limit` due timers (runs to advance, digests to close) to a worker until
   * `now + leaseMs`.
   */
  claimTimers(workerId: string, limit: number, now: number, leaseMs: number): Promise<ClaimedTimer[]>;
  /** Earliest time a timer becomes due (or its lease expires); undefined when there are none. */
  nextTimerDueAt(): Promise<number | undefined>;
  /**
   * Applies run engine decisions in one transaction. Each applies only if the worker still holds
   * the run's timer and the run is still at `fromStepIndex`; otherwise it is dropped (another
   * worker took the run over). Digest and throttle decisions are settled here, under a lock on
   * their scope, so concurrent runs count and join exactly.
   */
  advanceRuns(advances: readonly RunAdvance[], now: number): Promise<RunWorkResult>;
  /**
   * Closes digests whose window is over, each in the transaction that hands it on: the first
   * member run still digesting goes on past the digest step with the digest (count and the first
   * events' data); the other members end `digested`, their pending messages too, with a reason
   * naming the run that carries the digest. A digest with no member left closes with nothing.
   */
  closeDigests(
    closings: readonly { timerId: string; digestId: string; workerId: string }[],
    now: number,
  ): Promise<RunWorkResult>;
  /**
   * Writes fan-out pages, each in one transaction with its fan-out's new cursor: the runs (skipping
   * members the trigger already has a run for: runs_by_trigger is unique), their messages (log seqs
   * as commitTrigger gives them), jobs and timers. A page applies only if the worker still holds
   * the fan-out's timer and its cursor is still `fromCursor`; otherwise it is dropped (another
   * worker took the fan-out over, or it was canceled). A page that is not the last makes the
   * fan-out due again at once, behind the timers already due; the last one ends it `done`.
   */
  advanceFanouts(advances: readonly FanoutAdvance[], now: number): Promise<FanoutWorkResult>;
  /**
   * Ends every pending part of the environment's runs whose trigger has `cancellationKey` (and
   * workflow, if given): a fan-out still running stops where it got to (`canceled`, no more
   * pages), runs not finished become `canceled` (their timers deleted), and messages
   * pending, queued or waiting for a retry become `canceled` (their jobs deleted); a send under
   * way is left to finish. Returns how many runs and messages it canceled, and the messages per
   * channel (for metrics).
   */
  cancelRuns(
    environmentId: string,
    cancellationKey: string,
    workflowKey: string | undefined,
    now: number,
  ): Promise<{ runs: number; messages: number; byChannel: Partial<Record<MessageChannel, number>> }>;
  /** A trigger with a page of its runs (by subscriber id) and their messages. */
  getTrigger(
    environmentId: string,
    triggerId: string,
    page: { limit: number; cursor?: string },
  ): Promise<TriggerDetails | undefined>;
}

/** Topics: named groups of subscribers that a trigger can fan out to. */
export interface TopicStore {
  /** Creates the topic (named `name`, or its key), or renames it when `name` is given; true when created. */
  putTopic(
    environmentId: string,
    key: string,
    name: string | undefined,
    now: number,
  ): Promise<{ topic: Topic; created: boolean }>;
  /** The topic with how many subscribers it has. */
  getTopic(environmentId: string, key: string): Promise<TopicDetail | undefined>;
  /** Topics by key; the cursor is the last key of the previous page. */
  listTopics(environmentId: string, limit: number, cursor?: string): Promise<Page<Topic>>;
  /** Deletes the topic and its memberships (a fan-out still running finds no more members). */
  deleteTopic(environmentId: string, key: string): Promise<boolean>;
  /**
   * Adds subscribers to the topic, creating the topic (named by its key) if it does not exist. A
   * member added again stays as it was. Every id must name a subscriber: if any does not, nothing
   * is added (nor the topic created) and this throws `unknownSubscribers`
   * (core/trigger-workflow.ts) listing them all. Returns how many were not members yet.
   */
  addTopicSubscribers(
    environmentId: string,
    key: string,
    subscriberIds: readonly string[],
    now: number,
  ): Promise<{ added: number; created: boolean }>;
  /** Removes subscribers from the topic (ids that are not members are fine); undefined when there is no such topic. */
  removeTopicSubscribers(
    environmentId: string,
    key: string,
    subscriberIds: readonly string[],
  ): Promise<{ removed: number } | undefined>;
  /** The topic's members by subscriber id (the cursor is the last one); undefined when there is no such topic. */
  listTopicSubscribers(
    environmentId: string,
    key: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<TopicMember> | undefined>;
  /** The keys of the topics the subscriber is a member of, in order. */
  listSubscriberTopics(environmentId: string, subscriberId: string): Promise<string[]>;
}

/** The delivery log, its retention, and the dev mailbox. */
export interface DeliveryLogStore {
  listMessages(environmentId: string, filter: MessageFilter): Promise<Page<Message>>;
  /**
   * Up to `limit` messages with a seq above `since`, in seq order. Every message committed after
   * a read has a seq above everything that read returned, so following `nextSince` misses none.
   */
  listMessagesSince(environmentId: string, since: number, limit: number): Promise<MessageLogPage>;
  /** The highest seq of the environment's messages (0 before any): where a follower starts "now". */
  messageLogHead(environmentId: string): Promise<number>;
  getMessage(environmentId: string, messageId: string): Promise<MessageWithAttempts | undefined>;

  /**
   * Retention, one small batch in one short transaction: walks up to `batchSize` messages created
   * before `before`, oldest first, that earlier batches have not walked. Finished ones (`sent`,
   * `failed`, `skipped`) lose their rendered subject and content, their recipient address, their
   * attempts and their dev mail; status, reason, counts and timestamps stay. Unfinished ones are set
   * aside and pruned by a later batch once they finish. Returns how many messages the batch walked
   * or pruned from those set aside: fewer than `batchSize` means it has caught up. On PostgreSQL
   * a batch that finds another process's batch running returns 0 at once.
   */
  pruneMessages(before: number, batchSize: number): Promise<number>;

  addDevMail(mail: DevMail): Promise<void>;
  listDevMail(environmentId: string, limit: number, cursor?: string): Promise<Page<DevMail>>;
}

/**
 * The message rollup (core/message-stats.ts): kept by the writes that give messages a final
 * status, in their transaction, and read by the dashboard's overview instead of the delivery log.
 */
export interface MessageStatsStore {
  /** The environment's rollup rows for the UTC hours that start in [hourOf(since), until), by hour. */
  messageRollup(environmentId: string, since: number, until: number): Promise<RollupCount[]>;
  /** Deletes the rollup hours that ended before `before` (retention); returns how many rows. */
  pruneMessageRollup(before: number): Promise<number>;
}

/** Delivery jobs: leased to workers, completed with their outcome. */
export interface JobStore {
  /**
   * Calls `listener` when another process may have made jobs due (PostgreSQL: LISTEN/NOTIFY).
   * Absent where one process does all the work; workers poll as well, so a missed call only delays.
   */
  onJobsAvailable?(listener: () => void): void;

  /** Leases up to `limit` due jobs to a worker until `now + leaseMs`; their messages become `sending`. */
  claimJobs(workerId: string, limit: number, now: number, leaseMs: number): Promise<ClaimedJob[]>;
  /**
   * Records outcomes. Returns the inbox events the batch committed (in-app items added), in
   * commit order; an item already added by an earlier completion of the same message adds none.
   */
  completeJobs(completions: readonly JobCompletion[]): Promise<InboxEvent[]>;
  /**
   * Extends the lease of jobs the worker still holds to `until` (long sends); jobs it no longer
   * holds are left alone. Returns how many were extended.
   */
  renewLeases(workerId: string, jobIds: readonly string[], until: number): Promise<number>;
  /** Makes the jobs a worker still holds due again at once (graceful shutdown). */
  releaseJobs(workerId: string, now: number): Promise<number>;
  /** Earliest time a job becomes due (or its lease expires); undefined when there are none. */
  nextJobDueAt(): Promise<number | undefined>;
  queueStats(now: number): Promise<QueueStats>;
  /**
   * Re-drives failed messages, in one transaction: up to `limit` of the environment's `failed`
   * messages matching `filter`, oldest first, go back to `queued` with their failed-attempt count
   * (the retry schedule) reset and a job due at `now`; their attempts stay. A message already
   * re-queued is no longer failed, so a second call re-queues it no second time (and a message
   * has at most one job: its id is the job's).
   */
  redriveMessages(environmentId: string, filter: RedriveFilter, limit: number, now: number): Promise<RedriveBatch>;
}

/** Integrations (providers) and what sends learn about them. */
export interface IntegrationStore {
  /** Creates or replaces an integration (keeping its createdAt and circuit); true when created. */
  putIntegration(integration: StoredIntegration): Promise<{ integration: StoredIntegration; created: boolean }>;
  getIntegration(environmentId: string, id: string): Promise<StoredIntegration | undefined>;
  /** All of an environment's integrations, by channel, priority and id. */
  listIntegrations(environmentId: string): Promise<StoredIntegration[]>;
  deleteIntegration(environmentId: string, id: string): Promise<boolean>;
  /** Records a breaker's state (written on transitions only). */
  recordCircuit(environmentId: string, id: string, circuit: CircuitSnapshot): Promise<void>;
  /**
   * Removes push devices a provider reported gone from a subscriber (`kind`: fcm and apns tokens,
   * webPush endpoints).
   */
  removePushDevices(
    environmentId: string,
    subscriberId: string,
    kind: keyof PushDevices,
    gone: readonly string[],
  ): Promise<void>;
}

/** The in-app inbox. */
export interface InboxStore {
  /**
   * Calls `listener` with every inbox event committed by any process (PostgreSQL: LISTEN/NOTIFY;
   * a ref when the event was too large to carry), or with undefined when events may have been
   * missed (the listener reconnected). Absent where one process does all the work:
   * `withLocalInboxEvents` then publishes what this process's calls return.
   */
  onInboxEvents?(listener: (event: InboxEvent | InboxEventRef | undefined) => void): void;

  /**
   * Calls `listener` with the environment whose inbox settings (secret, origins) any process
   * changed (PostgreSQL: LISTEN/NOTIFY), or with undefined when changes may have been missed (the
   * listener reconnected). Absent where one process does all the work: it knows its own changes.
   */
  onInboxSettingsChanged?(listener: (environmentId: string | undefined) => void): void;

  /** The environment's inbox settings, created with `create.secret` on first use. */
  getInboxSettings(environmentId: string, create: { secret: string; now: number }): Promise<InboxSettings>;
  /** The environment's inbox settings if it has any; never creates them (for unverified claims). */
  findInboxSettings(environmentId: string): Promise<InboxSettings | undefined>;
  /** Changes the secret and/or the allowed origins (null: back to the default list). */
  updateInboxSettings(
    environmentId: string,
    change: { secret?: string; allowedOrigins?: string[] | null },
    create: { secret: string; now: number },
  ): Promise<InboxSettings>;
  /** A subscriber's items, newest first; the cursor is the last item's id. */
  listInboxItems(
    environmentId: string,
    subscriberId: string,
    filter: { status: InboxFilter; limit: number; cursor?: string },
  ): Promise<Page<InboxItem>>;
  /** The subscriber's counts and the seq of their latest event (0 before any). */
  getInboxCounts(environmentId: string, subscriberId: string): Promise<{ counts: InboxCounts; seq: number }>;
  /**
   * Applies an action to one of the subscriber's items, moves its message's status along, and
   * records an event when something changed (null when it was already so). Undefined when the
   * subscriber has no such item.
   */
  changeInboxItem(
    environmentId: string,
    subscriberId: string,
    itemId: string,
    action: InboxAction,
    now: number,
  ): Promise<{ item: InboxItem; counts: InboxCounts; event: InboxEvent | null } | undefined>;
  /** Marks every item not archived read (or seen), as one event; none when nothing changed. */
  changeAllInboxItems(
    environmentId: string,
    subscriberId: string,
    action: 'read' | 'seen',
    now: number,
  ): Promise<{ changed: number; counts: InboxCounts; event: InboxEvent | null }>;
  /** Up to `limit` of the subscriber's events after `afterSeq`, in order (older ones may be pruned). */
  listInboxEvents(environmentId: string, subscriberId: string, afterSeq: number, limit: number): Promise<InboxEvent[]>;
  /** Deletes inbox events recorded before `before` (at most `limit`); returns how many. */
  pruneInboxEvents(before: number, limit: number): Promise<number>;
}

/**
 * Herald's persistence: one small port per concern, each implemented by both dialects in a file of
 * the same name (src/store/sqlite/jobs.ts and src/store/postgres/jobs.ts, …; listeners are in the
 * dialect's store assembly) and held to a contract suite of that name (test/store/contracts/).
 * Callers name the ports they use. Every method is scoped by environment where data belongs to
 * one. Writes resolve only after they are durable.
 */
export interface Store
  extends
    StoreLifecycle,
    ApiKeyStore,
    AccessStore,
    AuditStore,
    SecretStore,
    SubscriberStore,
    TopicStore,
    WorkflowStore,
    TemplateStore,
    TriggerStore,
    RunStore,
    DeliveryLogStore,
    MessageStatsStore,
    JobStore,
    IntegrationStore,
    InboxStore {}
