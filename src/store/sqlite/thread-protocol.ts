import { HeraldError, type ErrorCode, type FieldError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';

/** Every Store method, callable across the thread boundary. */
export const STORE_METHODS = [
  'ping',
  'close',
  'defaultEnvironmentId',
  'addApiKey',
  'findApiKeyByHash',
  'listApiKeys',
  'revokeApiKey',
  'recordApiKeyUse',
  'claimSealingKey',
  'listInboxSecrets',
  'replaceInboxSecret',
  'putSubscriber',
  'getSubscriber',
  'deleteSubscriber',
  'putWorkflow',
  'getWorkflow',
  'listWorkflows',
  'deleteWorkflow',
  'getWorkflowVersions',
  'findIdempotency',
  'commitTrigger',
  'getTriggerData',
  'claimTimers',
  'advanceRuns',
  'closeDigests',
  'cancelRuns',
  'getTrigger',
  'listMessages',
  'listMessagesSince',
  'messageLogHead',
  'getMessage',
  'claimJobs',
  'completeJobs',
  'renewLeases',
  'releaseJobs',
  'nextJobDueAt',
  'queueStats',
  'pruneIdempotency',
  'pruneMessages',
  'putIntegration',
  'getIntegration',
  'listIntegrations',
  'deleteIntegration',
  'recordCircuit',
  'removePushDevices',
  'getInboxSettings',
  'findInboxSettings',
  'updateInboxSettings',
  'listInboxItems',
  'getInboxCounts',
  'changeInboxItem',
  'changeAllInboxItems',
  'listInboxEvents',
  'pruneInboxEvents',
  'addDevMail',
  'listDevMail',
] as const satisfies readonly Exclude<
  keyof Store,
  'dialect' | 'onJobsAvailable' | 'onWorkflowChanged' | 'onInboxEvents'
>[];

export type StoreMethod = (typeof STORE_METHODS)[number];

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
