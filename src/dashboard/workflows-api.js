// The /v1 calls of the Workflows pages (docs/workflows.md, docs/templates.md).
import { call } from './api.js';

const at = (key) => `/v1/workflows/${encodeURIComponent(key)}`;

export const listWorkflows = (cursor) =>
  call('GET', `/v1/workflows?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
export const getWorkflow = (key) => call('GET', at(key));
export const saveWorkflow = (key, body) => call('PUT', at(key), body);
export const deleteWorkflow = (key) => call('DELETE', at(key));

export const listVersions = (key, cursor) =>
  call('GET', `${at(key)}/versions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
export const getVersion = (key, n) => call('GET', `${at(key)}/versions/${n}`);
export const restoreVersion = (key, n) => call('POST', `${at(key)}/versions/${n}/restore`);

/** A draft's preview: `workflow` as a PUT takes it (and its key), the recipient, the data. */
export const previewDraft = (body) => call('POST', '/v1/workflows/preview', body);
export const testSend = (key, body) => call('POST', `${at(key)}/test`, body);
export const triggerWorkflow = (key, body) => call('POST', `${at(key)}/trigger`, body);
