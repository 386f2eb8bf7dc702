import { expect } from 'vitest';
import { createSocketGuard } from '../../src/channels/outbound/guarded-socket.js';
import { createHttpClient, type HttpClient } from '../../src/channels/outbound/http-client.js';
import type { ProviderContext, ProviderOutcome } from '../../src/channels/provider.js';
import type { Fault, FakeHttp } from './fake-http.js';

/** The timeout provider tests run with: short, so hangs end fast. */
export const TEST_TIMEOUT_MS = 400;

/** A provider context whose HTTP client may reach loopback fakes, with a short timeout. */
export function testProviderContext(timeoutMs = TEST_TIMEOUT_MS): ProviderContext & { http: HttpClient } {
  const allowedNetworks = ['127.0.0.0/8', '::1/128'];
  return {
    http: createHttpClient({ allowedNetworks, timeoutMs }),
    createHttpClient: (options) => createHttpClient({ allowedNetworks, timeoutMs, ...options }),
    openSocket: createSocketGuard({ allowedNetworks, timeoutMs }),
    emailFrom: { address: 'herald@example.com', name: 'Herald' },
    now: () => Date.now(),
  };
}

/** A signal that aborts after the test timeout plus a margin, as a job's send timeout would. */
export function sendSignal(ms = TEST_TIMEOUT_MS * 3): AbortSignal {
  return AbortSignal.timeout(ms);
}

/**
 * Runs one send against each fault of the fake and checks the documented outcome. `send` makes
 * one attempt through the adapter under test. Every fault must end in an outcome (never a throw
 * or a hang) and the fake must have seen exactly one request (no redirect followed, no hidden
 * retry inside the adapter).
 */
export async function expectFaultOutcome(
  fake: FakeHttp,
  fault: Fault,
  send: () => Promise<ProviderOutcome>,
): Promise<ProviderOutcome> {
  fake.setFault(fault);
  const before = fake.requests.length;
  try {
    const outcome = await send();
    expect(fake.requests.length - before).toBe(1);
    switch (fault) {
      case 'broken-json':
      case 'slow-body':
      case 'huge-body':
        // The provider said 2xx: it has the message. Retrying would send it twice.
        expect(outcome.status).toBe('sent');
        break;
      case 'html-502':
        expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('502') });
        expect((outcome as { reason: string }).reason).toContain('Bad Gateway');
        expect((outcome as { reason: string }).reason).not.toContain('<');
        break;
      case 'retry-after-seconds':
        expect(outcome).toMatchObject({ status: 'retry', retryAfterMs: 7000 });
        break;
      case 'retry-after-date': {
        expect(outcome.status).toBe('retry');
        const ms = (outcome as { retryAfterMs?: number }).retryAfterMs ?? 0;
        expect(ms).toBeGreaterThan(15_000);
        expect(ms).toBeLessThanOrEqual(21_000);
        break;
      }
      case 'unavailable-503':
        expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('503') });
        break;
      case 'reset':
        expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringMatching(/reset|socket|closed/i) });
        break;
      case 'redirect-to-metadata':
        expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('redirect not followed') });
        break;
      case 'no-answer':
        expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('timed out') });
        break;
    }
    return outcome;
  } finally {
    fake.setFault(undefined);
  }
}
