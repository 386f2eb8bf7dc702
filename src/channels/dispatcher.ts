import type { Logger } from 'pino';
import type { Dispatcher, DispatchRequest, DispatchResult } from '../core/dispatch.js';
import type { CompletedAttempt, Store } from '../core/store.js';
import type { DeliveryOutcome, EmailChannel, PushDevices } from '../core/types.js';
import type { IntegrationDirectory, LiveIntegration } from './integration-directory.js';
import type { HttpClient } from './outbound/http-client.js';
import type { ChannelMessages, ProviderChannel, ProviderOutcome, PushDevice } from './provider.js';
import { sendWebhook } from './webhook/send-webhook.js';

export interface DispatcherDeps {
  directory: IntegrationDirectory;
  store: Store;
  http: HttpClient;
  clock: { now(): number };
  logger: Logger;
  /** Email goes here when an environment has no email integration at all. */
  devMailbox: EmailChannel;
  isDeliverableAddress(address: string): boolean;
  /** The longest wait for one provider call. */
  sendTimeoutMs: number;
}

/** Integrations tried per attempt at most: failover within one attempt stays bounded in time. */
export const MAX_PROVIDERS_PER_ATTEMPT = 3;

/** A webhook URL for the log: its origin and first path segment; the rest often holds a token. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const segments = url.pathname.split('/').filter(Boolean);
    return `${url.origin}/${segments[0] ?? ''}${segments.length > 1 ? '/…' : ''}`;
  } catch {
    return raw.slice(0, 40);
  }
}

function outcomeDetail(outcome: ProviderOutcome): string {
  return outcome.status === 'sent' ? (outcome.detail ?? outcome.providerMessageId ?? 'accepted') : outcome.reason;
}

/**
 * The channel layer behind core's Dispatcher: addresses, integrations in priority order,
 * failover, circuit breakers, rate limits, Retry-After pauses and push-token upkeep.
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { directory, clock } = deps;

  /**
   * One provider call with its own timeout (--send-timeout) inside the job's overall deadline; a
   * throw is a transient failure, as the Channel contract says.
   */
  async function guarded(
    integration: LiveIntegration,
    signal: AbortSignal,
    send: (signal: AbortSignal) => Promise<ProviderOutcome>,
  ): Promise<ProviderOutcome> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    const timer = setTimeout(abort, deps.sendTimeoutMs);
    try {
      return await send(controller.signal);
    } catch (error) {
      return { status: 'retry', reason: `${integration.provider}: ${(error as Error).message ?? String(error)}` };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    }
  }

  /** A provider adapter's send, guarded. */
  const call = <C extends ProviderChannel>(
    integration: LiveIntegration,
    message: ChannelMessages[C],
    signal: AbortSignal,
  ) => guarded(integration, signal, (callSignal) => integration.instance!.send(message as never, callSignal));

  /**
   * Tries the integrations in order until one takes the message or rejects it for good. An open
   * breaker, a provider's Retry-After or an exhausted rate limit skip an integration at once.
   */
  async function failover(
    candidates: readonly LiveIntegration[],
    channel: string,
    send: (integration: LiveIntegration) => Promise<ProviderOutcome>,
    signal: AbortSignal,
    /**
     * false for webhooks: each goes to its subscriber's own receiver, so one failing or throttling
     * receiver says nothing of the others (no breaker, no integration-wide Retry-After pause).
     */
    integrationWide = true,
  ): Promise<{ outcome: ProviderOutcome; attempts: CompletedAttempt[]; via?: LiveIntegration }> {
    const attempts: CompletedAttempt[] = [];
    const skipped: string[] = [];
    const waits: number[] = [];
    let lastRetry: Extract<ProviderOutcome, { status: 'retry' }> | undefined;
    for (const integration of candidates) {
      if (attempts.length >= MAX_PROVIDERS_PER_ATTEMPT || signal.aborted) break;
      const now = clock.now();
      if (integration.unusable) {
        skipped.push(`${integration.id}: ${integration.unusable}`);
        continue;
      }
      if (integration.pausedUntil > now) {
        skipped.push(`${integration.id}: paused by the provider's Retry-After`);
        waits.push(integration.pausedUntil - now);
        continue;
      }
      if (integrationWide && !integration.breaker.tryAcquire(now)) {
        skipped.push(`${integration.id}: circuit open`);
        continue;
      }
      const wait = integration.limiter?.take(now) ?? 0;
      if (wait > 0) {
        if (integrationWide) integration.breaker.release();
        skipped.push(`${integration.id}: over its rate limit`);
        waits.push(wait);
        continue;
      }
      const outcome = await send(integration);
      const at = clock.now();
      attempts.push({
        at: now,
        outcome: outcome.status,
        detail: outcomeDetail(outcome),
        durationMs: at - now,
        integrationId: integration.id,
        provider: integration.provider,
      });
      if (outcome.status !== 'retry') {
        if (integrationWide) integration.breaker.success(at); // a rejection is an answer too: the provider is up
        return { outcome, attempts, via: integration };
      }
      if (integrationWide) {
        // Cut short by the job's deadline, or answered by a provider that is up: not a breaker failure.
        if (signal.aborted) integration.breaker.release();
        else if (outcome.providerAnswered) integration.breaker.success(at);
        else integration.breaker.failure(at, outcome.reason);
      }
      if (integrationWide && outcome.retryAfterMs) integration.pausedUntil = at + outcome.retryAfterMs;
      lastRetry = outcome;
    }
    const note = skipped.length > 0 ? ` (skipped ${skipped.join('; ')})` : '';
    if (lastRetry) return { outcome: { ...lastRetry, reason: `${lastRetry.reason}${note}` }, attempts };
    return {
      outcome: {
        status: 'retry',
        reason: `no ${channel} integration could take the message now${note}`,
        retryAfterMs: waits.length > 0 ? Math.min(...waits) : undefined,
      },
      attempts,
    };
  }

  async function email(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const { subscriber, rendered } = request;
    if (rendered.type !== 'email') throw new Error('not an email');
    if (!subscriber.email) return skipped('subscriber has no email address');
    if (!deps.isDeliverableAddress(subscriber.email)) {
      return {
        outcome: { status: 'failed', reason: `invalid email address: ${subscriber.email}` },
        attempts: [],
        recipient: subscriber.email,
      };
    }
    const message = {
      messageId: request.messageId,
      environmentId: request.environmentId,
      to: subscriber.email,
      toName: subscriber.name ?? null,
      subject: rendered.subject,
      html: rendered.html ?? undefined,
      text: rendered.text,
    };
    const candidates = await directory.forChannel(request.environmentId, 'email');
    if (candidates.length === 0) {
      // No provider configured: the dev mailbox captures it (GET /v1/dev/mail).
      const started = clock.now();
      let outcome: DeliveryOutcome;
      try {
        outcome = await deps.devMailbox.send(message, signal);
      } catch (error) {
        outcome = { status: 'retry', reason: (error as Error).message };
      }
      const attempt: CompletedAttempt = {
        at: started,
        outcome: outcome.status,
        detail: outcomeDetail(outcome),
        durationMs: clock.now() - started,
        integrationId: null,
        provider: deps.devMailbox.provider,
      };
      return { outcome, attempts: [attempt], recipient: subscriber.email };
    }
    const result = await failover(candidates, 'email', (i) => call<'email'>(i, message, signal), signal);
    return { ...result, recipient: subscriber.email };
  }

  async function sms(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const { subscriber, rendered } = request;
    if (rendered.type !== 'sms') throw new Error('not an sms');
    if (!subscriber.phone) return skipped('subscriber has no phone number');
    const to = subscriber.phone.replace(/[\s().-]/g, '');
    const candidates = await directory.forChannel(request.environmentId, 'sms');
    if (candidates.length === 0) return skipped('no enabled sms integration');
    const message = { messageId: request.messageId, environmentId: request.environmentId, to, text: rendered.text };
    const result = await failover(candidates, 'sms', (i) => call<'sms'>(i, message, signal), signal);
    return { ...result, recipient: to };
  }

  async function chat(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const { subscriber, rendered } = request;
    if (rendered.type !== 'chat') throw new Error('not a chat message');
    const all = await directory.forChannel(request.environmentId, 'chat');
    if (all.length === 0) return skipped('no enabled chat integration');
    const destinationOf = (integration: LiveIntegration) => {
      const key = integration.definition?.chatKey as keyof NonNullable<typeof subscriber.chat> | undefined;
      return (key && subscriber.chat?.[key]) || integration.definition?.defaultDestination?.(integration.config);
    };
    const candidates = all.filter((integration) => destinationOf(integration));
    if (candidates.length === 0) {
      return skipped(`subscriber has no chat address for ${all.map((i) => i.provider).join(', ')}`);
    }
    const result = await failover(
      candidates,
      'chat',
      (integration) =>
        call<'chat'>(
          integration,
          {
            messageId: request.messageId,
            environmentId: request.environmentId,
            destination: destinationOf(integration)!,
            text: rendered.text,
            blocks: rendered.blocks,
          },
          signal,
        ),
      signal,
    );
    const used = result.via ?? candidates[0]!;
    const destination = destinationOf(used)!;
    const shown = /^https?:/.test(destination) ? redactUrl(destination) : destination;
    return { ...result, recipient: `${used.provider}:${shown}` };
  }

  async function push(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const { subscriber, rendered } = request;
    if (rendered.type !== 'push') throw new Error('not a push message');
    const devices: PushDevice[] = [
      ...(subscriber.push?.webPush ?? []).map((subscription) => ({ kind: 'webPush' as const, subscription })),
      ...(subscriber.push?.fcm ?? []).map((token) => ({ kind: 'fcm' as const, token })),
      ...(subscriber.push?.apns ?? []).map((token) => ({ kind: 'apns' as const, token })),
    ];
    if (devices.length === 0) return skipped('subscriber has no push devices');
    const all = await directory.forChannel(request.environmentId, 'push');
    const usable = devices.filter((device) => all.some((i) => i.definition?.pushKind === device.kind));
    if (usable.length === 0)
      return skipped(`no enabled push integration for ${[...new Set(devices.map((d) => d.kind))].join(', ')}`);

    // Every device gets the message; each through the integrations of its kind, with failover.
    const results = await Promise.all(
      usable.map(async (device) => {
        const candidates = all.filter((i) => i.definition?.pushKind === device.kind);
        const message = {
          messageId: request.messageId,
          environmentId: request.environmentId,
          device,
          title: rendered.title,
          body: rendered.body,
          data: rendered.data,
        };
        return { device, ...(await failover(candidates, 'push', (i) => call<'push'>(i, message, signal), signal)) };
      }),
    );
    const gone = results.filter((r) => r.outcome.status === 'failed' && 'gone' in r.outcome && r.outcome.gone);
    for (const kind of ['webPush', 'fcm', 'apns'] as const) {
      const ids = gone
        .filter((r) => r.device.kind === kind)
        .map((r) =>
          r.device.kind === 'webPush' ? r.device.subscription.endpoint : (r.device as { token: string }).token,
        );
      if (ids.length === 0) continue;
      await deps.store
        .removePushDevices(request.environmentId, subscriber.subscriberId, kind as keyof PushDevices, ids)
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not remove gone push devices'));
    }
    const attempts = results.flatMap((r) => r.attempts);
    const sent = results.filter((r) => r.outcome.status === 'sent');
    const summary = `${sent.length} of ${results.length} devices`;
    const recipient = `${results.length} ${results.length === 1 ? 'device' : 'devices'}`;
    if (sent.length > 0) {
      const ids = sent.map((r) => (r.outcome as { providerMessageId?: string }).providerMessageId).filter(Boolean);
      return { outcome: { status: 'sent', providerMessageId: ids[0], detail: summary }, attempts, recipient };
    }
    const retry = results.find((r) => r.outcome.status === 'retry');
    if (retry) return { outcome: retry.outcome, attempts, recipient };
    const reasons = results.map((r) => (r.outcome as { reason: string }).reason);
    return {
      outcome: { status: 'failed', reason: `no device took it: ${reasons.join('; ')}`.slice(0, 1000) },
      attempts,
      recipient,
    };
  }

  async function webhook(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const { subscriber, rendered } = request;
    if (rendered.type !== 'webhook') throw new Error('not a webhook');
    const [integration] = await directory.forChannel(request.environmentId, 'webhook');
    const url = rendered.url || subscriber.webhookUrl || (integration?.config.url as string | undefined);
    if (!url) {
      return skipped('no webhook URL: the step has no url, the subscriber no webhookUrl, the integration no url');
    }
    if (!integration) {
      return skipped(
        'no enabled webhook integration to sign with: PUT /v1/integrations/{id} {"channel": "webhook", "provider": "webhook"}',
      );
    }
    const body = JSON.stringify(
      rendered.body ?? {
        workflow: request.workflowKey,
        triggerId: request.triggerId,
        messageId: request.messageId,
        subscriberId: subscriber.subscriberId,
        data: request.data,
      },
    );
    const result = await failover(
      [integration],
      'webhook',
      (live) =>
        guarded(live, signal, (callSignal) =>
          sendWebhook({ http: deps.http, clock }, live, request.messageId, url, body, callSignal),
        ),
      signal,
      false,
    );
    return { ...result, recipient: redactUrl(url), content: { html: null, text: body } };
  }

  function skipped(reason: string): DispatchResult {
    return { outcome: { status: 'skipped', reason }, attempts: [], recipient: null };
  }

  return {
    dispatch(request, signal) {
      switch (request.rendered.type) {
        case 'email':
          return email(request, signal);
        case 'sms':
          return sms(request, signal);
        case 'chat':
          return chat(request, signal);
        case 'push':
          return push(request, signal);
        case 'webhook':
          return webhook(request, signal);
        case 'in_app': // written by the delivery itself (deliver-job.ts), never dispatched
          return Promise.resolve(skipped('in-app items go to the inbox, not to a provider'));
      }
    },
    async close() {
      await directory.close();
      await deps.devMailbox.close();
    },
  };
}
