// The /v1 calls of the people pages: topics, the audit log and dashboard users (docs/dashboard.md).
import { call } from './api.js';

const query = (params) => {
  const entries = Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
};
const seg = encodeURIComponent;

export const listAudit = ({ actor, action, cursor, limit = 25 }) =>
  call('GET', `/v1/audit${query({ actor, action, cursor, limit })}`);

export const listUsers = () => call('GET', '/v1/users');
export const createUser = (body) => call('POST', '/v1/users', body);
export const updateUser = (id, change) => call('PATCH', `/v1/users/${seg(id)}`, change);
export const deleteUser = (id) => call('DELETE', `/v1/users/${seg(id)}`);

export const listSubscriberInbox = (subscriberId, cursor) =>
  call('GET', `/v1/subscribers/${seg(subscriberId)}/inbox${query({ cursor, limit: 20 })}`);
export const listTopics = (cursor) => call('GET', `/v1/topics${query({ cursor, limit: 50 })}`);
export const getTopic = (key) => call('GET', `/v1/topics/${seg(key)}`);
export const putTopic = (key, name) => call('PUT', `/v1/topics/${seg(key)}`, name ? { name } : {});
export const deleteTopic = (key) => call('DELETE', `/v1/topics/${seg(key)}`);
export const listMembers = (key, cursor) =>
  call('GET', `/v1/topics/${seg(key)}/subscribers${query({ cursor, limit: 50 })}`);
export const addMembers = (key, subscriberIds) => call('POST', `/v1/topics/${seg(key)}/subscribers`, { subscriberIds });
export const removeMembers = (key, subscriberIds) =>
  call('DELETE', `/v1/topics/${seg(key)}/subscribers`, { subscriberIds });

/** Admins and owners change things; viewers only read (the API refuses them anyway). */
export const mayEdit = (session) => session.user.role !== 'viewer';

export const searchSubscribers = ({ by, text, cursor, limit = 25 }) =>
  call('GET', `/v1/subscribers${query({ [by === 'email' ? 'email' : 'prefix']: text || undefined, cursor, limit })}`);
export const getSubscriber = (id) => call('GET', `/v1/subscribers/${seg(id)}`);
export const getPreferences = (id) => call('GET', `/v1/subscribers/${seg(id)}/preferences`);
export const putPreferences = (id, preferences) => call('PUT', `/v1/subscribers/${seg(id)}/preferences`, preferences);
export const listWorkflows = () => call('GET', '/v1/workflows?limit=100');
export const listSubscriberMessages = (id, { channel, cursor } = {}) =>
  call('GET', `/v1/messages${query({ subscriberId: id, channel, cursor, limit: 20 })}`);
