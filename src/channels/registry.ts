import type { ChannelType } from '../core/types.js';
import { apns } from './apns/apns-provider.js';
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
import { webpush } from './webpush/webpush-provider.js';

/**
 * Every provider Herald speaks. Adding one is a folder under channels/ and a line here. The
 * webhook channel is not listed: it has one built-in provider (`webhook`, see webhook/).
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
] as ProviderDefinition[];

/** The provider of a channel by name, or undefined. */
export function findProvider(channel: ChannelType, provider: string): ProviderDefinition | undefined {
  return PROVIDERS.find((definition) => definition.channel === channel && definition.provider === provider);
}

/** The provider an Apprise-style URL scheme names (`twilio://…`), or undefined. */
export function providerForScheme(scheme: string): ProviderDefinition | undefined {
  const name = scheme.replace(/:$/, '').toLowerCase();
  return PROVIDERS.find((definition) => definition.urlSchemes?.includes(name));
}
