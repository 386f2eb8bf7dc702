/** Domain types shared by every layer. Timestamps are epoch milliseconds. */

/** Channels that go out through integrations (providers). */
export const CHANNEL_TYPES = ['email', 'sms', 'push', 'chat', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Every channel a message can have: the integration channels and the in-app inbox. */
export const MESSAGE_CHANNELS = [...CHANNEL_TYPES, 'in_app'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];

export interface EmailStep {
  type: 'email';
  subject: string;
  html?: string;
  text?: string;
}

export interface SmsStep {
  type: 'sms';
  text: string;
}

export interface PushStep {
  type: 'push';
  title: string;
  body: string;
  /** Key/value templates passed to the app. */
  data?: Record<string, string>;
}

export interface ChatStep {
  type: 'chat';
  text: string;
  /** Slack Block Kit blocks or Teams Adaptive Card elements; string values are templates. */
  blocks?: unknown[];
}

export interface WebhookStep {
  type: 'webhook';
  /** Template of the URL; the subscriber's webhookUrl when absent. */
  url?: string;
  /** JSON template: string values are templates. Default `{workflow, triggerId, messageId, subscriberId, data}`. */
  body?: unknown;
}

export interface InAppStep {
  type: 'in_app';
  title?: string;
  body: string;
  /** Template of an http(s) or relative URL; other schemes are dropped when rendered. */
  actionUrl?: string;
  avatarUrl?: string;
  /** JSON template handed to the page with the item: string values are templates. */
  data?: Record<string, unknown>;
}

export type WorkflowStep = EmailStep | SmsStep | PushStep | ChatStep | WebhookStep | InAppStep;

export interface Workflow {
  key: string;
  name: string;
  steps: WorkflowStep[];
  /** Increases on every save; messages render the version their trigger saw. */
  version: number;
  versionId: string;
  createdAt: number;
  updatedAt: number;
}

/** A subscriber's devices, per push provider kind. */
export interface PushDevices {
  webPush?: { endpoint: string; keys: { p256dh: string; auth: string } }[];
  fcm?: string[];
  apns?: string[];
}

/** A subscriber's address per chat provider: a webhook URL, a Slack channel id, a Telegram chat id. */
export type ChatAddresses = Partial<Record<'slack' | 'discord' | 'teams' | 'telegram' | 'mattermost', string>>;

/** Where a subscriber is reached besides email and phone (set through the subscriber API). */
export interface ChannelData {
  push?: PushDevices | null;
  chat?: ChatAddresses | null;
  webhookUrl?: string | null;
}

export interface SubscriberFields extends ChannelData {
  email?: string | null;
  phone?: string | null;
  name?: string | null;
  locale?: string | null;
  timezone?: string | null;
  data?: Record<string, unknown> | null;
}

export interface Subscriber {
  subscriberId: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  locale: string | null;
  timezone: string | null;
  data: Record<string, unknown> | null;
  push: PushDevices | null;
  chat: ChatAddresses | null;
  webhookUrl: string | null;
  createdAt: number;
  updatedAt: number;
}

/** `seen`, `read` and `archived` are in-app messages whose inbox item the subscriber acted on. */
export const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'retrying',
  'failed',
  'skipped',
  'seen',
  'read',
  'archived',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type AttemptOutcome = 'sent' | 'retry' | 'failed';

export interface Attempt {
  at: number;
  outcome: AttemptOutcome;
  detail: string;
  durationMs: number;
  /** The integration that was tried (null for the dev mailbox and attempts before integrations). */
  integrationId: string | null;
  provider: string | null;
}

export interface Message {
  id: string;
  triggerId: string;
  workflowKey: string;
  subscriberId: string;
  channel: MessageChannel;
  stepIndex: number;
  status: MessageStatus;
  /** Why the message is skipped or failed, or the last transient error while retrying. */
  reason: string | null;
  recipient: string | null;
  subject: string | null;
  attemptCount: number;
  providerMessageId: string | null;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  /**
   * The message's place in the log, given when its trigger commits, in commit order
   * (`GET /v1/messages?since=`). Null only for a message written by a Herald too old to give one.
   */
  seq: number | null;
}

/** What was sent: the rendered subject is on the message, the bodies here. */
export interface MessageContent {
  html: string | null;
  text: string;
}

export interface MessageWithAttempts extends Message {
  attempts: Attempt[];
  /** The rendered bodies of the last attempt; null before one, or once erased. */
  content: MessageContent | null;
}

/** What a channel reports after one delivery attempt. A thrown error means "transient, retry". */
export type DeliveryOutcome =
  | { status: 'sent'; providerMessageId?: string; detail?: string }
  | {
      status: 'retry';
      reason: string;
      retryAfterMs?: number;
      /**
       * The provider answered and is up; this message just cannot go now (an SMTP 451, a 429).
       * Not counted against the integration's circuit breaker.
       */
      providerAnswered?: boolean;
      /**
       * Nothing was sent: the destination has as many sends in flight as it may hold. The message
       * goes back to the queue for `retryAfterMs`, without counting as a failed attempt.
       */
      deferred?: boolean;
    } // 4xx, resets, timeouts
  | { status: 'failed'; reason: string }; // rejected address or payload

/** An email ready for a provider: rendered, addressed, with its stable ids. */
export interface EmailMessage {
  messageId: string;
  environmentId: string;
  to: string;
  toName?: string | null;
  subject: string;
  html?: string;
  text: string;
}

export interface EmailChannel {
  readonly provider: string;
  send(message: EmailMessage, signal: AbortSignal): Promise<DeliveryOutcome>;
  close(): Promise<void>;
}

export interface DevMail {
  id: string;
  environmentId: string;
  messageId: string;
  from: string;
  to: string;
  subject: string;
  html: string | null;
  text: string;
  headers: Record<string, string>;
  createdAt: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
