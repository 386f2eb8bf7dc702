import type { ChannelType } from '../core/types.js';
import { apns } from './apns/apns-provider.js';
import { devMailbox } from './dev-mailbox/dev-mailbox-provider.js';
import { discord } from './discord/discord-provider.js';
import { fcm } from './fcm/fcm-provider.js';
import { mailgun } from './mailgun/mailgun-provider.js';
import { mattermost } from './mattermost/mattermost-provider.js';
import { plivo } from './plivo/plivo-provider.js';
import { postmark } from './postmark/postmark-provider.js';
import type { ProviderDefinition } from './provider.js';
import { resend } from './resend/resend-provider.js';
import { sendgrid } from './sendgrid/sendgrid-provider.js';
import { ses } from './ses/ses-provider.js';
import { slack } from './slack/slack-provider.js';
import { smtp } from './smtp/smtp-provider.js';
import { teams } from './teams/teams-provider.js';
import { telegram } from './telegram/telegram-provider.js';
import { twilio } from './twilio/twilio-provider.js';
import { vonage } from './vonage/vonage-provider.js';
import { webhook } from './webhook/webhook-provider.js';
import { webpush } from './webpush/webpush-provider.js';

/**
 * Every provider an integration can name. Adding one is a folder under channels/ and a line here:
 * the provider's definition says where its address lives on a subscriber (its address shape), and
 * the dispatcher and core's delivery rules need nothing more.
 */
export const PROVIDERS: readonly ProviderDefinition[] = [
  // email
  smtp,
  ses,
  sendgrid,
  postmark,
  resend,
  mailgun,
  // sms
  twilio,
  vonage,
  plivo,
  // push
  webpush,
  fcm,
  apns,
  // chat
  slack,
  discord,
  teams,
  telegram,
  mattermost,
  // webhook (signed with the integration's secrets)
  webhook,
] as ProviderDefinition[];

/**
 * Providers Herald uses by itself, never named by an integration: they stand in for a channel's
 * integrations while an environment has none (core/delivery-policy.ts, candidatesFor).
 */
export const BUILT_IN_PROVIDERS: readonly ProviderDefinition[] = [devMailbox] as ProviderDefinition[];

const byChannel = new Map<ChannelType, ProviderDefinition[]>();
for (const definition of [...PROVIDERS, ...BUILT_IN_PROVIDERS]) {
  byChannel.set(definition.channel, [...(byChannel.get(definition.channel) ?? []), definition]);
}

/** Every provider of a channel, built-in ones last: their address shapes say where a subscriber is reached. */
export function providersOf(channel: ChannelType): readonly ProviderDefinition[] {
  return byChannel.get(channel) ?? [];
}

/** The provider of a channel by name, or undefined. */
export function findProvider(channel: ChannelType, provider: string): ProviderDefinition | undefined {
  return PROVIDERS.find((definition) => definition.channel === channel && definition.provider === provider);
}

/** The provider an Apprise-style URL scheme names (`twilio://…`), or undefined. */
export function providerForScheme(scheme: string): ProviderDefinition | undefined {
  const name = scheme.replace(/:$/, '').toLowerCase();
  return PROVIDERS.find((definition) => definition.urlSchemes?.includes(name));
}
