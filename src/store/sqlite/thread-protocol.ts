import { HeraldError, type ErrorCode, type FieldError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';

type IsOptional<K extends keyof Store> = undefined extends Store[K] ? true : false;
type TakesFunction<Args extends unknown[]> = [Extract<Args[number], (...args: never[]) => unknown>] extends [never]
  ? false
  : true;

/**
 * Where a Store member may live when the store runs in the SQLite thread:
 * - `call`: forwarded to the thread, one message each way (arguments and result are
 *   structured-cloned), so only a method that returns a Promise and takes no function;
 * - `local`: answered on the calling side (a constant, not a method);
 * - `absent`: not offered, so only an optional member. Listener registrations take a function,
 *   which cannot be posted to a thread; Store makes them optional for stores where one process
 *   does all the work, as here.
 * A member that fits none gets a sentence saying why, which the compiler shows as the type the
 * entry should have had.
 */
type AllowedPlacement<K extends keyof Store> =
  NonNullable<Store[K]> extends (...args: infer Args) => infer Result
    ? TakesFunction<Args> extends true
      ? IsOptional<K> extends true
        ? 'absent'
        : 'a required Store method that takes a function cannot run in the SQLite thread: make it optional'
      : Result extends Promise<unknown>
        ? IsOptional<K> extends true
          ? 'call' | 'absent'
          : 'call'
        : 'a Store method must return a Promise to run in the SQLite thread'
    : 'local';

/** One entry for every member of Store, each with a placement it may have. */
export type StorePlacements = { readonly [K in keyof Store]-?: AllowedPlacement<K> };

/**
 * Every Store member and where it lives in the threaded store. The compiler checks this table
 * against the Store interface (core/store.ts), so adding a member there fails typecheck here until
 * it is placed: a member missing here gives "Property 'x' is missing in type … but required in
 * type 'StorePlacements'", a name that is not a member "Object literal may only specify known
 * properties", and a member placed where it cannot work Type '"absent"' is not assignable to
 * type '"call"' (test/unit/thread-protocol.test.ts shows each).
 */
export const STORE_PLACEMENTS = {
  dialect: 'local',
  onJobsAvailable: 'absent',
  onWorkflowChanged: 'absent',
  onTemplateAssetsChanged: 'absent',
  onInboxEvents: 'absent', // store/local-inbox-events.ts publishes what this process commits
  onInboxSettingsChanged: 'absent',
  ping: 'call',
  close: 'call',
  defaultEnvironmentId: 'call',
  addApiKey: 'call',
  findApiKeyByHash: 'call',
  listApiKeys: 'call',
  revokeApiKey: 'call',
  recordApiKeyUse: 'call',
  countUsers: 'call',
  createUser: 'call',
  getUser: 'call',
  findUserByEmail: 'call',
  listUsers: 'call',
  updateUser: 'call',
  deleteUser: 'call',
  createSession: 'call',
  findSession: 'call',
  touchSession: 'call',
  deleteSession: 'call',
  deleteUserSessions: 'call',
  pruneSessions: 'call',
  recordLoginFailure: 'call',
  countLoginFailures: 'call',
  clearLoginFailures: 'call',
  pruneLoginFailures: 'call',
  addAuditEvents: 'call',
  listAuditEvents: 'call',
  pruneAuditEvents: 'call',
  claimSealingKey: 'call',
  listInboxSecrets: 'call',
  replaceInboxSecret: 'call',
  putSubscriber: 'call',
  getSubscriber: 'call',
  putSubscriberPreferences: 'call',
  turnOffWorkflowChannel: 'call',
  deleteSubscriber: 'call',
  listSubscribers: 'call',
  putTopic: 'call',
  getTopic: 'call',
  listTopics: 'call',
  deleteTopic: 'call',
  addTopicSubscribers: 'call',
  removeTopicSubscribers: 'call',
  listTopicSubscribers: 'call',
  listSubscriberTopics: 'call',
  putWorkflow: 'call',
  getWorkflow: 'call',
  listWorkflows: 'call',
  deleteWorkflow: 'call',
  getWorkflowVersions: 'call',
  listWorkflowVersions: 'call',
  getWorkflowVersionByNumber: 'call',
  putLayout: 'call',
  getLayout: 'call',
  listLayouts: 'call',
  deleteLayout: 'call',
  putPartial: 'call',
  getPartial: 'call',
  listPartials: 'call',
  deletePartial: 'call',
  putTranslation: 'call',
  getTranslation: 'call',
  listTranslations: 'call',
  deleteTranslation: 'call',
  getTemplateAssets: 'call',
  findIdempotency: 'call',
  commitTrigger: 'call',
  getTriggerData: 'call',
  claimTimers: 'call',
  nextTimerDueAt: 'call',
  advanceRuns: 'call',
  closeDigests: 'call',
  advanceFanouts: 'call',
  cancelRuns: 'call',
  getTrigger: 'call',
  listMessages: 'call',
  listMessagesSince: 'call',
  messageLogHead: 'call',
  getMessage: 'call',
  claimJobs: 'call',
  completeJobs: 'call',
  renewLeases: 'call',
  releaseJobs: 'call',
  nextJobDueAt: 'call',
  queueStats: 'call',
  redriveMessages: 'call',
  pruneIdempotency: 'call',
  pruneMessages: 'call',
  messageRollup: 'call',
  pruneMessageRollup: 'call',
  putIntegration: 'call',
  getIntegration: 'call',
  listIntegrations: 'call',
  deleteIntegration: 'call',
  recordCircuit: 'call',
  removePushDevices: 'call',
  getInboxSettings: 'call',
  findInboxSettings: 'call',
  updateInboxSettings: 'call',
  listInboxItems: 'call',
  getInboxCounts: 'call',
  changeInboxItem: 'call',
  changeAllInboxItems: 'call',
  listInboxEvents: 'call',
  pruneInboxEvents: 'call',
  addDevMail: 'call',
  listDevMail: 'call',
} as const satisfies StorePlacements;

/** The Store methods forwarded to the SQLite thread. */
export type StoreMethod = {
  [K in keyof typeof STORE_PLACEMENTS]: (typeof STORE_PLACEMENTS)[K] extends 'call' ? K : never;
}[keyof typeof STORE_PLACEMENTS];

/** The Store members answered on the calling side. */
export type LocalMember = {
  [K in keyof typeof STORE_PLACEMENTS]: (typeof STORE_PLACEMENTS)[K] extends 'local' ? K : never;
}[keyof typeof STORE_PLACEMENTS];

export const STORE_METHODS = (Object.keys(STORE_PLACEMENTS) as (keyof typeof STORE_PLACEMENTS)[]).filter(
  (member): member is StoreMethod => STORE_PLACEMENTS[member] === 'call',
);

export interface StoreRequest {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  errors?: FieldError[];
}

export type StoreReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  const e = error as { name?: string; message?: string; code?: unknown; errors?: FieldError[] };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(error),
    code: typeof e?.code === 'string' ? e.code : undefined,
    errors: e instanceof HeraldError ? e.errors : undefined,
  };
}

/** Rebuilds an error on the calling side: catalogue errors keep their code, SQLite errors theirs. */
export function deserializeError(error: SerializedError): Error {
  if (error.name === 'HeraldError' && error.code) {
    return new HeraldError(error.code as ErrorCode, error.message, error.errors);
  }
  const rebuilt = new Error(error.message) as Error & { code?: string };
  rebuilt.name = error.name;
  if (error.code) rebuilt.code = error.code;
  return rebuilt;
}
