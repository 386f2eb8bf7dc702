import { afterEach, expect } from 'vitest';
import type { WorkflowStep } from '../../src/core/types.js';
import type { TestHerald } from './herald.js';
import { waitFor } from './wait-for.js';

/**
 * A Herald that may reach the loopback provider fakes (the SSRF guard opened for 127.0.0.0/8 and
 * ::1 only) and can seal integration credentials; transient failures retry after 50 ms.
 */
export const CHANNEL_TEST_SETTINGS: Record<string, string> = {
  'allow-private-networks': '127.0.0.0/8,::1/128',
  'secret-key': 'channels-e2e-secret-key-0123456789abcdef',
  'retry-schedule': '50ms',
};

/**
 * Integrations are per environment, and every enabled one of a channel takes part in failover:
 * each test creates its own through the returned function, and they are deleted after it, so a
 * test sees only the integrations it made.
 */
export function integrationsPerTest(herald: () => TestHerald) {
  const created = new Set<string>();
  afterEach(async () => {
    for (const id of created) await herald().api('DELETE', `/v1/integrations/${id}`);
    created.clear();
  });
  return async function putIntegration(id: string, body: Record<string, unknown>): Promise<any> {
    const res = await herald().api('PUT', `/v1/integrations/${id}`, body);
    expect([200, 201], res.text).toContain(res.status);
    created.add(id);
    return res.body;
  };
}

export async function putSubscriber(h: TestHerald, id: string, body: Record<string, unknown>): Promise<any> {
  const res = await h.api('PUT', `/v1/subscribers/${encodeURIComponent(id)}`, body);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Saves a one-step workflow and triggers it for one subscriber; answers the message id. */
export async function triggerStep(
  h: TestHerald,
  key: string,
  step: WorkflowStep | Record<string, unknown>,
  subscriberId: string,
  data: Record<string, unknown> = {},
): Promise<string> {
  const saved = await h.api('PUT', `/v1/workflows/${key}`, { steps: [step] });
  expect(saved.status, saved.text).toBe(200);
  // As an object: the subscriber is created if the test has not saved them (a bare id must exist).
  const res = await h.api('POST', `/v1/workflows/${key}/trigger`, { to: { subscriberId }, data });
  expect(res.status, res.text).toBe(202);
  const [id] = res.body.messageIds as string[];
  return id!;
}

const SETTLED = ['sent', 'failed', 'skipped'];

/** Waits until the message settles (sent, failed or skipped), checks it is `status`, and answers it. */
export async function settledMessage(h: TestHerald, id: string, status: string): Promise<any> {
  const message = await waitFor(
    async () => {
      const res = await h.api('GET', `/v1/messages/${id}`);
      return SETTLED.includes(res.body.status) ? res.body : undefined;
    },
    { what: `message ${id} to settle` },
  );
  expect(message.status, JSON.stringify({ reason: message.reason, attempts: message.attempts })).toBe(status);
  return message;
}

/** The message went out in one attempt through this integration and provider. */
export function expectSentVia(message: any, integrationId: string, provider: string, providerMessageId?: string): void {
  expect(message).toMatchObject({ status: 'sent', attemptCount: 1, reason: null });
  if (providerMessageId !== undefined) expect(message.providerMessageId).toBe(providerMessageId);
  expect(message.attempts).toEqual([expect.objectContaining({ outcome: 'sent', integrationId, provider })]);
}
