import type { Weekday } from './local-time.js';

/** Domain types shared by every layer. Timestamps are epoch milliseconds. */

import type { SubscriberPreferences, WorkflowConsent } from './preferences.js';

/** Channels that go out through integrations (providers). */
export const CHANNEL_TYPES = ['email', 'sms', 'push', 'chat', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Every channel a message can have: the integration channels and the in-app inbox. */
export const MESSAGE_CHANNELS = [...CHANNEL_TYPES, 'in_app'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];

/** What every step may carry. */
export interface StepCommon {
  /**
   * The step's name in conditions (`steps.<ref>.status`), the log and the API; unique in the
   * workflow. Default: the type and 1-based position, e.g. `email_3` (see core/run-engine.ts).
   */
  ref?: string;
  /** A Liquid condition, written as in `{% if %}`, checked when the run reaches the step. */
  if?: string;
}

/**
 * The days and hours a sending step may send in, in the subscriber's time zone: a run that
 * reaches the step outside them waits until they open (core/send-times.ts).
 */
export interface SendWindow {
  /** The days the window opens on (every day when absent). */
  days?: Weekday[];
  /** `HH:MM`, 24-hour. */
  start: string;
  /** `HH:MM`, or `24:00`; before `start`, the window closes the next day (22:00–08:00). */
  end: string;
}

/** What every sending step may carry. */
export interface SendingStepCommon extends StepCommon {
  window?: SendWindow;
}

export interface EmailStep extends SendingStepCommon {
  type: 'email';
  subject: string;
  html?: string;
  text?: string;
  /**
   * The layout the email renders in (docs/templates.md): a layout's key; `false` for none, even
   * when the environment has a default; absent for the default layout, if there is one.
   */
  layout?: string | false;
}

export interface SmsStep extends SendingStepCommon {
  type: 'sms';
  text: string;
}

export interface PushStep extends SendingStepCommon {
  type: 'push';
  title: string;
  body: string;
  /** Key/value templates passed to the app. */
  data?: Record<string, string>;
}

export interface ChatStep extends SendingStepCommon {
  type: 'chat';
  text: string;
  /** Slack Block Kit blocks or Teams Adaptive Card elements; string values are templates. */
  blocks?: unknown[];
}

export interface WebhookStep extends SendingStepCommon {
  type: 'webhook';
  /** Template of the URL; the subscriber's webhookUrl when absent. */
  url?: string;
  /** JSON template: string values are templates. Default `{workflow, triggerId, messageId, subscriberId, data}`. */
  body?: unknown;
}

export interface InAppStep extends SendingStepCommon {
  type: 'in_app';
  title?: string;
  body: string;
  /** Template of an http(s) or relative URL; other schemes are dropped when rendered. */
  actionUrl?: string;
  avatarUrl?: string;
  /** JSON template handed to the page with the item: string values are templates. */
  data?: Record<string, unknown>;
}

/** A step that sends: one message per recipient. */
export type SendingStep = EmailStep | SmsStep | PushStep | ChatStep | WebhookStep | InAppStep;

/** Waits a duration (`for`) or until a time (`until`, a Liquid template of an ISO time). */
export interface DelayStep extends StepCommon {
  type: 'delay';
  for?: string;
  until?: string;
}

export const DIGEST_MODES = ['batch', 'first-now'] as const;

/** Folds the events of a window into one run of the steps after it (see core/run-engine.ts). */
export interface DigestStep extends StepCommon {
  type: 'digest';
  /** How long the digest collects from its first event; or, instead, `schedule`. */
  window?: string;
  /** The subscriber-local time the digest closes at (`daily 09:00`; core/send-times.ts parseSchedule). */
  schedule?: string;
  /** Liquid template: events with different keys never share a digest. */
  key?: string;
  mode?: (typeof DIGEST_MODES)[number];
}

/** Ends runs past `limit` in `window` (per workflow, recipient and key) as `throttled`. */
export interface ThrottleStep extends StepCommon {
  type: 'throttle';
  limit: number;
  window: string;
  key?: string;
}

/** A step that shapes the run instead of sending. */
export type ControlStep = DelayStep | DigestStep | ThrottleStep;

export const CONTROL_STEP_TYPES = ['delay', 'digest', 'throttle'] as const;

export type WorkflowStep = SendingStep | ControlStep;

export function isSendingStep(step: WorkflowStep): step is SendingStep {
  return step.type !== 'delay' && step.type !== 'digest' && step.type !== 'throttle';
}

/** A workflow; `category`, `critical` and `preferences` (its channel defaults) are present when set. */
export interface Workflow extends WorkflowConsent {
  key: string;
  name: string;
  steps: WorkflowStep[];
  /** Increases on every save; messages render the version their trigger saw. */
  version: number;
  versionId: string;
  createdAt: number;
  updatedAt: number;
}

/** A Web Push subscription as the browser's PushManager gives it. */
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A subscriber's devices, per push provider kind. */
export interface PushDevices {
  webPush?: WebPushSubscription[];
  fcm?: string[];
  apns?: string[];
}

/** One device a push goes to: a Web Push subscription, or an FCM or APNs token. */
export type PushDevice =
  | { kind: 'webPush'; subscription: WebPushSubscription }
  | { kind: 'fcm'; token: string }
  | { kind: 'apns'; token: string };

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
  /** What the subscriber agreed to receive (PUT /v1/subscribers/{id}/preferences); null before any. */
  preferences: SubscriberPreferences | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * `pending`: its run has not reached the step yet. `seen`, `read` and `archived` are in-app
 * messages whose inbox item the subscriber acted on. `canceled`, `throttled` and `digested` end
 * messages whose run was canceled, throttled, or folded into another run's digest (the reason
 * names which).
 */
export const MESSAGE_STATUSES = [
  'pending',
  'queued',
  'sending',
  'sent',
  'retrying',
  'failed',
  'skipped',
  'seen',
  'read',
  'archived',
  'canceled',
  'throttled',
  'digested',
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
  /** Sent by a test send (POST /v1/workflows/{key}/test, core/test-send.ts). */
  test: boolean;
}

/** What was sent: the rendered subject is on the message, the bodies here. */
export interface MessageContent {
  html: string | null;
  text: string;
  /** What the render warned of: a missing translation key, a date it could not read (core/translations.ts). */
  warnings?: string[];
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

/**
 * What a provider reports: a delivery outcome, plus `gone` on a failure that means the address
 * will never work again (a push token the provider no longer knows): Herald removes it from the
 * subscriber.
 */
export type ProviderOutcome = DeliveryOutcome | { status: 'failed'; reason: string; gone: true };

/** An email ready for a provider: rendered, addressed, with its stable ids. */
export interface EmailMessage {
  messageId: string;
  environmentId: string;
  to: string;
  toName?: string | null;
  subject: string;
  html?: string;
  text: string;
  /**
   * The one-click unsubscribe URL (RFC 8058): sent as List-Unsubscribe with List-Unsubscribe-Post.
   * Absent for critical workflows, and when Herald has no public URL to link to.
   */
  unsubscribeUrl?: string;
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
