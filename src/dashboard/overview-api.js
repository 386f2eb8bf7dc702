// The overview's calls: message outcomes from the rollup, the job queue, and the integrations
// with their circuit breakers.
import { call } from './api.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Series per channel and status, bucketed by UTC hour or day, from `since` up to now. */
export const messageStats = (since, until, bucket) =>
  call('GET', `/v1/stats/messages?since=${since}&until=${until}&bucket=${bucket}`);

/** {depth, oldestDueAgeMs} */
export const queueStats = () => call('GET', '/v1/stats/queue');

export const listIntegrations = async () => (await call('GET', '/v1/integrations')).items;
