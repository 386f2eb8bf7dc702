// The delivery log as the Messages page reads and re-drives it: the same /v1 routes scripts use.
import { call } from './api.js';

/** The filters GET /v1/messages and POST /v1/messages/redrive share, without the empty ones. */
export function givenFilters(filters) {
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== '' && value !== undefined));
}

/** A datetime-local input's value (the browser's local time) as an ISO 8601 time. */
export const isoTime = (local) => new Date(local).toISOString();

/** One page of the log, newest first. `filters` may hold status, channel, workflow, subscriberId, triggerId, from, until. */
export function listMessages(filters, cursor) {
  const query = new URLSearchParams({ limit: '25' });
  for (const [name, value] of Object.entries(givenFilters(filters))) {
    query.set(name, name === 'from' || name === 'until' ? isoTime(value) : value);
  }
  if (cursor) query.set('cursor', cursor);
  return call('GET', `/v1/messages?${query}`);
}

export const getMessage = (id) => call('GET', `/v1/messages/${encodeURIComponent(id)}`);
export const getTrigger = (id) => call('GET', `/v1/triggers/${encodeURIComponent(id)}?limit=1000`);
export const retryMessage = (id) => call('POST', `/v1/messages/${encodeURIComponent(id)}/retry`);

/** Re-drives every failed message matching the list's filters (the list's `from` is the body's `since`). */
export function redriveMessages(filters) {
  const { status: _status, from, until, ...rest } = givenFilters(filters);
  return call('POST', '/v1/messages/redrive', {
    status: 'failed',
    ...rest,
    ...(from !== undefined && { since: isoTime(from) }),
    ...(until !== undefined && { until: isoTime(until) }),
  });
}
