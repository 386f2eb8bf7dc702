import { subscriberHash } from '../../src/core/inbox-credentials.js';
import { call, type ApiResponse, type TestHerald } from './herald.js';
import { waitFor } from './wait-for.js';

/** A subscriber's browser-side view of a test Herald: the inbox API with their hash. */
export interface InboxClient {
  subscriberId: string;
  hash: string;
  headers: Record<string, string>;
  call<T = any>(method: string, path: string, headers?: Record<string, string>): Promise<ApiResponse<T>>;
}

export async function inboxSecret(h: TestHerald): Promise<string> {
  return (await h.api('GET', '/v1/inbox/settings')).body.secret;
}

export async function inboxClient(h: TestHerald, subscriberId: string, secret?: string): Promise<InboxClient> {
  const hash = subscriberHash(secret ?? (await inboxSecret(h)), subscriberId);
  const headers = { 'x-herald-subscriber-id': subscriberId, 'x-herald-subscriber-hash': hash };
  return {
    subscriberId,
    hash,
    headers,
    call: (method, path, extra = {}) => call(h.url + path, method, undefined, { ...headers, ...extra }),
  };
}

/** Triggers `workflow` for one subscriber and waits until the in-app message is sent; returns its id. */
export async function deliverInApp(h: TestHerald, workflow: string, subscriberId: string, data: object = {}) {
  // As an object: the subscriber is created if the test has not saved them (a bare id must exist).
  const res = await h.api('POST', `/v1/workflows/${workflow}/trigger`, { to: { subscriberId }, data });
  if (res.status !== 202) throw new Error(`trigger answered ${res.status}: ${res.text}`);
  const id: string = res.body.messageIds[0];
  await waitFor(async () => (await h.api('GET', `/v1/messages/${id}`)).body.status === 'sent', {
    what: `message ${id} sent`,
  });
  return id;
}
