import type { ChatAddresses, PushDevice, Subscriber } from './types.js';

/**
 * Where a provider finds its recipient on a subscriber. Each provider declares its shape on its
 * definition (channels/provider.ts), so a new chat or push provider says where its address lives
 * in its own folder; core reads the shape (addressFor, devicesFor) and decides what follows
 * (delivery-policy.ts). Reading a shape allocates nothing but what it returns.
 */
export type AddressShape<Config = Record<string, unknown>> =
  EmailShape | PhoneShape | ChatShape<Config> | PushShape | UrlShape<Config>;

/** The subscriber's email address. */
export interface EmailShape {
  readonly address: 'email';
}

/** The subscriber's phone number, without the spaces, parentheses, dots and dashes people write in them. */
export interface PhoneShape {
  readonly address: 'phone';
}

/** The subscriber's address for one chat provider (`chat.<chatKey>`), else the integration's default. */
export interface ChatShape<Config = Record<string, unknown>> {
  readonly address: 'chat';
  readonly chatKey: keyof ChatAddresses;
  /** The destination when the subscriber has none (a fixed webhook URL, a channel id). */
  defaultDestination?(config: Config): string | undefined;
}

/** The subscriber's devices of one kind (`push.<pushKind>`). */
export interface PushShape {
  readonly address: 'push';
  readonly pushKind: PushDevice['kind'];
}

/**
 * A URL of the subscriber's own (`webhookUrl`), else the integration's default. Each URL's origin
 * is a receiver of its own: breakers and slots are kept per receiver, not per integration
 * (delivery-policy.ts, guardOf).
 */
export interface UrlShape<Config = Record<string, unknown>> {
  readonly address: 'url';
  defaultDestination?(config: Config): string | undefined;
}

/** The shapes a provider of each channel may have. */
export interface ChannelAddressShapes<Config = Record<string, unknown>> {
  email: EmailShape;
  sms: PhoneShape;
  chat: ChatShape<Config>;
  push: PushShape;
  webhook: UrlShape<Config>;
}

/** Characters people put in phone numbers that no provider wants. */
const PHONE_PUNCTUATION = /[\s().-]/;
const PHONE_PUNCTUATION_ALL = /[\s().-]/g;

/**
 * The subscriber's address in a shape that holds one (every shape but push), or undefined when
 * they have none there. An empty string is none.
 */
export function addressFor(
  shape: Exclude<AddressShape, PushShape>,
  subscriber: Subscriber,
  config: Readonly<Record<string, unknown>>,
): string | undefined {
  switch (shape.address) {
    case 'email':
      return subscriber.email || undefined;
    case 'phone': {
      const phone = subscriber.phone;
      if (!phone) return undefined;
      // Most numbers are stored clean: test before replacing, so that they cost no new string.
      return PHONE_PUNCTUATION.test(phone) ? phone.replace(PHONE_PUNCTUATION_ALL, '') : phone;
    }
    case 'chat':
      return subscriber.chat?.[shape.chatKey] || shape.defaultDestination?.(config) || undefined;
    case 'url':
      return subscriber.webhookUrl || shape.defaultDestination?.(config) || undefined;
  }
}

/** Adds the subscriber's devices of the shape's kind to `into`; returns how many it added. */
export function devicesFor(shape: PushShape, subscriber: Subscriber, into: PushDevice[]): number {
  const push = subscriber.push;
  if (!push) return 0;
  if (shape.pushKind === 'webPush') {
    const subscriptions = push.webPush;
    if (!subscriptions) return 0;
    for (const subscription of subscriptions) into.push({ kind: 'webPush', subscription });
    return subscriptions.length;
  }
  const kind = shape.pushKind;
  const tokens = push[kind];
  if (!tokens) return 0;
  for (const token of tokens) into.push({ kind, token });
  return tokens.length;
}
