import type { Logger } from 'pino';
import type { Dispatcher, DispatchRequest, DispatchResult } from '../core/dispatch.js';
import type { CompletedAttempt, Store } from '../core/store.js';
import type { DeliveryOutcome, EmailChannel, PushDevices } from '../core/types.js';
import type { IntegrationDirectory, LiveIntegration } from './integration-directory.js';
import type { HttpClient } from './outbound/http-client.js';
import type { ChannelMessages, ProviderChannel, ProviderOutcome, PushDevice } from './provider.js';
import { failover, outcomeDetail, SharedLeases, waitingFor, type FailoverOptions } from './failover.js';
import { sendWebhook } from './webhook/send-webhook.js';
import type { WebhookDestination, WebhookDestinations } from './webhook/webhook-destinations.js';

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
  /** Webhook receivers by origin, with their breakers and slot limits. */
  webhookDestinations: WebhookDestinations;
}

export { MAX_PROVIDERS_PER_ATTEMPT } from './failover.js';

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

  const tryInOrder = (
    candidates: readonly LiveIntegration[],
    channel: string,
    send: (integration: LiveIntegration) => Promise<ProviderOutcome>,
    signal: AbortSignal,
    options?: FailoverOptions,
  ) => failover(candidates, channel, send, signal, clock, options);

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
    const result = await tryInOrder(candidates, 'email', (i) => call<'email'>(i, message, signal), signal);
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
    const result = await tryInOrder(candidates, 'sms', (i) => call<'sms'>(i, message, signal), signal);
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
    const result = await tryInOrder(
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

    // Every device gets the message in the same attempt, or none does: when the first usable
    // integration of a kind is at its limit, the whole message waits (nothing sent yet).
    for (const kind of new Set(usable.map((device) => device.kind))) {
      const first = all.find((i) => i.definition?.pushKind === kind && !i.unusable);
      if (first?.gate.full) {
        const destination = { name: first.id, breaker: first.breaker, gate: first.gate };
        return { outcome: waitingFor(destination), attempts: [], recipient: devicesText(usable.length) };
      }
    }
    // Each device through the integrations of its kind, with failover; devices sharing an
    // integration share its slot.
    const held = new SharedLeases();
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
        const send = (i: LiveIntegration) => call<'push'>(i, message, signal);
        return { device, ...(await tryInOrder(candidates, 'push', send, signal, { whenBusy: 'skip', held })) };
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
    const recipient = devicesText(results.length);
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
    // Breakers and slot limits per receiver (origin): one that hangs says nothing of the others.
    const receiver = deps.webhookDestinations.forUrl(url);
    const result = await tryInOrder(
      [integration],
      'webhook',
      (live) =>
        guarded(live, signal, (callSignal) =>
          sendWebhook({ http: deps.http, clock }, live, request.messageId, url, body, callSignal),
        ),
      signal,
      {
        destinationOf: () => receiver,
        pausesIntegration: false,
        settled: (destination) => deps.webhookDestinations.settle(destination as WebhookDestination),
      },
    );
    return { ...result, recipient: redactUrl(url), content: { html: null, text: body } };
  }

  function devicesText(count: number): string {
    return `${count} ${count === 1 ? 'device' : 'devices'}`;
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
