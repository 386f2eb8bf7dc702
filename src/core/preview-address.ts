import type { AddressShape } from './addresses.js';
import type { DispatchResult } from './dispatch.js';
import {
  beforeIntegrations,
  candidatesFor,
  chatRecipient,
  devicesRecipient,
  pushFanOut,
  redactUrl,
  routeTo,
  textAddress,
  webhookUrl,
  type Routable,
} from './delivery-policy.js';
import type { RenderedStep } from './templates.js';
import type { ChannelType, MessageChannel, Subscriber } from './types.js';

/** What a channel's sends would go through: read, never used to send (a preview). */
export interface ChannelRoutes {
  /** The environment's enabled integrations of the channel, in priority order. */
  found: readonly Routable[];
  /** The built-in providers standing in when it has none (the dev mailbox for email). */
  builtIns: readonly Routable[];
  /** The address shape of every provider Herald has for the channel. */
  shapes: readonly AddressShape[];
}

/** Where a preview learns how a channel would route (channels/ implements it over the integration directory). */
export interface ChannelRouting {
  routes(environmentId: string, channel: ChannelType): Promise<ChannelRoutes>;
}

/** Where a send would go, or why it would go nowhere. */
export interface AddressPreview {
  /** As the delivery log would show the recipient: an address, a device count, a redacted URL. */
  address: string | null;
  /** The provider that would be tried first. */
  via?: string;
  /** Why the send would go nowhere: the reason its message would record. */
  refused?: { status: 'skipped' | 'failed'; reason: string };
}

function refusedBy(result: DispatchResult): AddressPreview {
  const { outcome } = result;
  const reason = 'reason' in outcome ? outcome.reason : 'not sent';
  return { address: result.recipient, refused: { status: outcome.status === 'failed' ? 'failed' : 'skipped', reason } };
}

/**
 * Where a step's send would go for this subscriber, decided by the rules the dispatcher follows
 * (core/delivery-policy.ts): the same skip reasons, the same provider order, and the recipient as the
 * delivery log would show it. A webhook's URL is the step's rendered one (null when it has none or
 * its render failed).
 */
export async function previewAddress(
  routing: ChannelRouting,
  environmentId: string,
  channel: MessageChannel,
  subscriber: Subscriber,
  rendered: RenderedStep | null,
  isDeliverableAddress: (address: string) => boolean,
): Promise<AddressPreview> {
  if (channel === 'in_app') return { address: subscriber.subscriberId };
  const { found, builtIns, shapes } = await routing.routes(environmentId, channel);
  const before = beforeIntegrations(channel, shapes, subscriber, isDeliverableAddress);
  if (before) return refusedBy(before);
  switch (channel) {
    case 'email':
    case 'sms':
    case 'chat': {
      const route = routeTo(channel, candidatesFor(found, builtIns), subscriber);
      if (!Array.isArray(route)) return refusedBy(route as DispatchResult);
      const first = (route as readonly Routable[])[0]!;
      const address = textAddress(first, subscriber)!;
      return {
        address: channel === 'chat' ? chatRecipient(first.provider, address) : address,
        via: first.provider,
      };
    }
    case 'push': {
      const devices = pushFanOut(shapes, found, subscriber);
      if (!Array.isArray(devices)) return refusedBy(devices);
      return { address: devicesRecipient(devices.length) };
    }
    case 'webhook': {
      const stepUrl = rendered?.type === 'webhook' ? rendered.url : null;
      const signer = found[0];
      const url = webhookUrl(stepUrl, subscriber, signer);
      if (typeof url !== 'string') return refusedBy(url);
      return { address: redactUrl(url), via: signer!.provider };
    }
  }
}
