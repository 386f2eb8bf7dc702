import type { Logger } from 'pino';
import { AttemptPlan, waitingFor } from '../core/attempt-plan.js';
import type { Clock } from '../core/clock.js';
import {
  beforeIntegrations,
  candidatesFor,
  chatRecipient,
  devicesRecipient,
  goneDevices,
  guardOf,
  pushCandidates,
  pushFanOut,
  pushOutcome,
  pushWaitsFor,
  redactUrl,
  routeTo,
  textAddress,
  webhookBody,
  webhookUrl,
  type DeviceOutcome,
} from '../core/delivery-policy.js';
import type { Dispatcher, DispatchRequest, DispatchResult } from '../core/dispatch.js';
import type { Store } from '../core/store.js';
import type { PushDevice } from '../core/types.js';
import type { Destination } from './destination-gate.js';
import { failover, SharedLeases, type FailoverOptions } from './failover.js';
import type { IntegrationDirectory, LiveIntegration } from './integration-directory.js';
import type { ChannelMessages, ProviderChannel, ProviderOutcome } from './provider.js';
import { providersOf } from './registry.js';
import type { WebhookDestination, WebhookDestinations } from './webhook/webhook-destinations.js';

export interface DispatcherDeps {
  directory: IntegrationDirectory;
  store: Store;
  clock: Clock;
  logger: Logger;
  isDeliverableAddress(address: string): boolean;
  /** The longest wait for one provider call. */
  sendTimeoutMs: number;
  /** Receivers of per-subscriber URLs (webhooks) by origin, with their breakers and slot limits. */
  webhookDestinations: WebhookDestinations;
}

/** The integration's own breaker and slots, or none for a provider that delivers inside Herald. */
function ownDestination(integration: LiveIntegration): Destination | undefined {
  return guardOf(integration.definition) === 'integration' ? integration.destination : undefined;
}

/** Failover options for sends guarded per integration: one constant, no allocation per message. */
const OWN: FailoverOptions = { destinationOf: ownDestination };
const isFull = (integration: LiveIntegration) => integration.gate.full;

/**
 * The channel layer behind core's Dispatcher: the mechanics of a send. Every decision — the
 * address, a skip, the built-in stand-ins, the order of integrations and when to pass one over,
 * the push fan-out — is core's (core/delivery-policy.ts, core/attempt-plan.ts); this looks up the
 * integrations, builds each provider's message, calls it with a timeout, holds slots, and removes
 * push devices a provider says are gone.
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { directory, clock } = deps;

  /** Where a send through `integration` to `address` goes, as guardOf says. */
  function destinationFor(integration: LiveIntegration, address: string): Destination | undefined {
    switch (guardOf(integration.definition)) {
      case 'integration':
        return integration.destination;
      case 'receiver':
        return deps.webhookDestinations.forUrl(address);
      case 'none':
        return undefined;
    }
  }

  /**
   * One provider call with its own timeout (--send-timeout) inside the job's overall deadline; a
   * throw is a transient failure, as the Channel contract says.
   */
  async function call<C extends ProviderChannel>(
    integration: LiveIntegration,
    message: ChannelMessages[C],
    signal: AbortSignal,
  ): Promise<ProviderOutcome> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    const timer = setTimeout(abort, deps.sendTimeoutMs);
    try {
      return await integration.instance!.send(message as never, controller.signal);
    } catch (error) {
      return { status: 'retry', reason: `${integration.provider}: ${(error as Error).message ?? String(error)}` };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    }
  }

  /** Email, sms and chat: one address per integration, failover in priority order. */
  async function toAddress(
    request: DispatchRequest & { rendered: { type: 'email' | 'sms' | 'chat' } },
    signal: AbortSignal,
  ): Promise<DispatchResult> {
    const { rendered, subscriber } = request;
    const found = await directory.forChannel(request.environmentId, rendered.type);
    const route = routeTo(rendered.type, candidatesFor(found, directory.builtIns(rendered.type)), subscriber);
    if (!Array.isArray(route)) return route as DispatchResult;
    const candidates = route as readonly LiveIntegration[];
    const send = (integration: LiveIntegration) => {
      const to = textAddress(integration, subscriber)!;
      const { messageId, environmentId } = request;
      switch (rendered.type) {
        case 'email': {
          const { subject, text } = rendered;
          const html = rendered.html ?? undefined;
          const { unsubscribeUrl } = request;
          return call<'email'>(
            integration,
            { messageId, environmentId, to, toName: subscriber.name ?? null, subject, html, text, unsubscribeUrl },
            signal,
          );
        }
        case 'sms':
          return call<'sms'>(integration, { messageId, environmentId, to, text: rendered.text }, signal);
        case 'chat': {
          const { text, blocks } = rendered;
          return call<'chat'>(integration, { messageId, environmentId, destination: to, text, blocks }, signal);
        }
      }
    };
    const plan = new AttemptPlan(rendered.type);
    const result = await failover(candidates, plan, send, signal, clock, OWN);
    const used = result.via ?? candidates[0]!;
    const address = textAddress(used, subscriber)!;
    const recipient = rendered.type === 'chat' ? chatRecipient(used.provider, address) : address;
    return { outcome: result.outcome, attempts: result.attempts, recipient };
  }

  async function push(
    request: DispatchRequest & { rendered: { type: 'push' } },
    signal: AbortSignal,
  ): Promise<DispatchResult> {
    const { rendered, subscriber } = request;
    const found = await directory.forChannel(request.environmentId, 'push');
    const devices = pushFanOut(providersOf('push'), found, subscriber);
    if (!Array.isArray(devices)) return devices as DispatchResult;
    const usable = devices as PushDevice[];
    const busy = pushWaitsFor(usable, found, isFull);
    if (busy) {
      const { gate } = busy;
      return {
        outcome: waitingFor(busy.id, gate.busy, gate.limit, gate.deferMs()),
        attempts: [],
        recipient: devicesRecipient(usable.length),
      };
    }
    // Each device through the integrations of its kind, with failover; devices sharing an
    // integration share its slot.
    const options: FailoverOptions = { destinationOf: ownDestination, held: new SharedLeases() };
    const results = await Promise.all(
      usable.map(async (device): Promise<DeviceOutcome & { attempts: DispatchResult['attempts'] }> => {
        const message = {
          messageId: request.messageId,
          environmentId: request.environmentId,
          device,
          title: rendered.title,
          body: rendered.body,
          data: rendered.data,
        };
        const send = (integration: LiveIntegration) => call<'push'>(integration, message, signal);
        const plan = new AttemptPlan('push', 'pass');
        const result = await failover(pushCandidates(device, found), plan, send, signal, clock, options);
        return { device, outcome: result.outcome, attempts: result.attempts };
      }),
    );
    for (const { kind, ids } of goneDevices(results)) {
      await deps.store
        .removePushDevices(request.environmentId, subscriber.subscriberId, kind, ids)
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not remove gone push devices'));
    }
    return {
      outcome: pushOutcome(results),
      attempts: results.flatMap((result) => result.attempts),
      recipient: devicesRecipient(results.length),
    };
  }

  async function webhook(
    request: DispatchRequest & { rendered: { type: 'webhook' } },
    signal: AbortSignal,
  ): Promise<DispatchResult> {
    const { rendered, subscriber } = request;
    const signer = (await directory.forChannel(request.environmentId, 'webhook'))[0];
    const url = webhookUrl(rendered.url, subscriber, signer);
    if (typeof url !== 'string') return url;
    const body = webhookBody(request, rendered.body);
    const message = { messageId: request.messageId, environmentId: request.environmentId, url, body };
    const destination = destinationFor(signer!, url);
    const result = await failover(
      [signer!],
      new AttemptPlan('webhook', 'wait', guardOf(signer!.definition) !== 'receiver'),
      (integration) => call<'webhook'>(integration, message, signal),
      signal,
      clock,
      {
        destinationOf: () => destination,
        settled: (destination) => deps.webhookDestinations.settle(destination as WebhookDestination),
      },
    );
    return {
      outcome: result.outcome,
      attempts: result.attempts,
      recipient: redactUrl(url),
      content: { html: null, text: body },
    };
  }

  return {
    dispatch(request, signal) {
      const channel = request.rendered.type;
      const refusal = beforeIntegrations(channel, providersOf(channel), request.subscriber, deps.isDeliverableAddress);
      if (refusal) return Promise.resolve(refusal);
      switch (request.rendered.type) {
        case 'email':
        case 'sms':
        case 'chat':
          return toAddress(request as DispatchRequest & { rendered: { type: 'email' | 'sms' | 'chat' } }, signal);
        case 'push':
          return push(request as DispatchRequest & { rendered: { type: 'push' } }, signal);
        case 'webhook':
          return webhook(request as DispatchRequest & { rendered: { type: 'webhook' } }, signal);
      }
    },
    async close() {
      await directory.close();
    },
  };
}
