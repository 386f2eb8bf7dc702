import type { TSchema } from 'typebox';
import type { ChannelAddressShapes } from '../core/addresses.js';
import type { DevMail, EmailMessage, ProviderOutcome, PushDevice } from '../core/types.js';
import type { Mailbox } from './email/mime.js';
import type { OpenSocket } from './outbound/guarded-socket.js';
import type { HttpClient } from './outbound/http-client.js';
import type { OutboundProtocol } from './outbound/ssrf.js';

/**
 * What a provider adapter is: a small module that speaks one provider's API for one channel.
 * Herald picks the adapter from an integration (`{channel, provider, config}`), hands it one
 * message at a time, and records what it answers. Adapters never throw for a provider's answer:
 * every response and failure becomes an outcome (see http/classify-response.ts).
 */

export interface SmsMessage {
  messageId: string;
  environmentId: string;
  /** E.164, e.g. +14155550100 */
  to: string;
  text: string;
}

export type { PushDevice, WebPushSubscription } from '../core/types.js';

export interface PushMessage {
  messageId: string;
  environmentId: string;
  device: PushDevice;
  title: string;
  body: string;
  /** Extra key/values for the app (FCM requires string values). */
  data: Record<string, string> | null;
}

export interface ChatMessage {
  messageId: string;
  environmentId: string;
  /**
   * Where to post: the subscriber's address for this provider (`chat.slack` etc.), else the
   * integration's own default. A webhook URL for Slack/Discord/Teams/Mattermost webhooks, a
   * channel id for Slack's chat.postMessage, a chat id for Telegram.
   */
  destination: string;
  text: string;
  /** Slack Block Kit blocks, or a Teams Adaptive Card body; providers without blocks use `text`. */
  blocks: unknown[] | null;
}

export interface WebhookMessage {
  messageId: string;
  environmentId: string;
  /** The receiver: the step's URL, the subscriber's webhookUrl or the integration's default. */
  url: string;
  /** The JSON body, signed as it is. */
  body: string;
}

export interface ChannelMessages {
  email: EmailMessage;
  sms: SmsMessage;
  push: PushMessage;
  chat: ChatMessage;
  webhook: WebhookMessage;
}

export type ProviderChannel = keyof ChannelMessages;

export type { ProviderOutcome } from '../core/types.js';

export interface ProviderContext {
  /** The SSRF-guarded HTTP client with size caps and timeouts: use it for every request. */
  http: HttpClient;
  /**
   * A guarded client of its own, for providers that need HTTP/2 (APNs) or a private CA; the
   * adapter closes it in its close().
   */
  createHttpClient(options: { allowH2?: boolean; ca?: string }): HttpClient;
  /**
   * Opens a TCP connection through the SSRF guard, for transports that are not HTTP (SMTP). null
   * only for integrations an operator configured outside the API (HERALD_SMTP_URL): trusted, they
   * connect by themselves. Required, so that no context leaves it out by accident.
   */
  openSocket: OpenSocket | null;
  /** The sender for email providers whose config names none (HERALD_EMAIL_FROM). */
  emailFrom: Mailbox;
  /** The longest wait for one provider call (HERALD_SEND_TIMEOUT), for transports with their own timers. */
  sendTimeoutMs?: number;
  now(): number;
  /** Where the dev mailbox keeps what it captures (the store's dev mailbox). */
  saveDevMail?(mail: DevMail): Promise<void>;
}

export interface ProviderInstance<C extends ProviderChannel = ProviderChannel> {
  send(message: ChannelMessages[C], signal: AbortSignal): Promise<ProviderOutcome>;
  close?(): Promise<void>;
}

/**
 * A provider: its config, its credentials, where it finds its recipient on a subscriber (its
 * address shape, core/addresses.ts: `address: 'email'`, `'phone'`, `'chat'` with `chatKey` and
 * `defaultDestination`, `'push'` with `pushKind`, `'url'`), and how to build its adapter.
 */
export type ProviderDefinition<
  C extends ProviderChannel = ProviderChannel,
  Config extends object = object,
> = ProviderBase<C, Config> & ChannelAddressShapes<Config>[C];

interface ProviderBase<C extends ProviderChannel, Config extends object> {
  /** The `provider` value of an integration, e.g. `twilio`. */
  provider: string;
  channel: C;
  /** Validates `config` when an integration is saved (additional properties refused). */
  configSchema: TSchema;
  /** Config fields that are credentials: stored encrypted, never returned by the API. */
  secretFields: readonly string[];
  /**
   * Config fields that say where the credentials go: host, base URL, region, account, domain.
   * A stored credential is bound to them: a save that changes one must send every secret again
   * (a masked value sent back is refused), or a key holder could point `baseUrl` at their own
   * server and have Herald hand it the real key. A secret that is itself a URL (an SMTP URL, a
   * chat webhook URL) carries its own destination and is not listed.
   */
  destinationFields: readonly string[];
  /**
   * Config fields that are outbound URLs, by path (`serviceAccount/token_uri` for a nested one),
   * with the protocol the SSRF guard vets them for when the integration is saved. Every connection
   * is vetted again when it is made; this gives the clear 422 early.
   */
  urlFields: Readonly<Record<string, OutboundProtocol>>;
  /** URL schemes this provider accepts in Apprise style, e.g. ['twilio']. */
  urlSchemes?: readonly string[];
  /** Turns an Apprise-style URL into config; throws Error with a message naming what is wrong. */
  fromUrl?(url: URL): Config;
  /**
   * Delivers inside Herald (the dev mailbox): nothing outside to protect, so no breaker, slot
   * limit or Retry-After pause applies (core/delivery-policy.ts, guardOf).
   */
  local?: boolean;
  create(config: Config, context: ProviderContext): ProviderInstance<C>;
}
