// The configuration pages' calls: integrations, API keys, layouts, partials, translations, the
// inbox settings and the dev mailbox, all on the same /v1 routes scripts use.
import { call } from './api.js';

const at = (base, id) => `${base}/${encodeURIComponent(id)}`;

export const listIntegrations = () => call('GET', '/v1/integrations');
export const getIntegration = (id) => call('GET', at('/v1/integrations', id));
export const putIntegration = (id, body) => call('PUT', at('/v1/integrations', id), body);
export const deleteIntegration = (id) => call('DELETE', at('/v1/integrations', id));
export const testIntegration = (id, body) => call('POST', `${at('/v1/integrations', id)}/test`, body);
export const rotateIntegrationSecret = (id) => call('POST', `${at('/v1/integrations', id)}/rotate-secret`);

export const listApiKeys = () => call('GET', '/v1/api-keys');
export const createApiKey = (name) => call('POST', '/v1/api-keys', { name });
export const revokeApiKey = (id) => call('DELETE', at('/v1/api-keys', id));

/** Layouts, partials and translations share one shape of routes: list, get, put, delete. */
export const templateApi = (kind) => ({
  list: (cursor) => call('GET', `/v1/${kind}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  get: (key) => call('GET', at(`/v1/${kind}`, key)),
  put: (key, body) => call('PUT', at(`/v1/${kind}`, key), body),
  remove: (key) => call('DELETE', at(`/v1/${kind}`, key)),
});

export const getInboxSettings = () => call('GET', '/v1/inbox/settings');
export const putInboxSettings = (allowedOrigins) => call('PUT', '/v1/inbox/settings', { allowedOrigins });
export const rotateInboxSecret = () => call('POST', '/v1/inbox/settings/rotate-secret');

export const listDevMail = (cursor) =>
  call('GET', `/v1/dev/mail?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
