// The providers' documented config fields (docs/channels.md), as hints for the integration
// editor: a starting config, with the secret fields named. The API checks what is sent.
export const PROVIDERS = {
  smtp: { channel: 'email', config: { url: 'smtp://user:pass@host:587', from: 'Herald <noreply@example.com>' } },
  ses: { channel: 'email', config: { region: 'eu-west-1', accessKeyId: '', secretAccessKey: '', from: '' } },
  sendgrid: { channel: 'email', config: { apiKey: '', from: '' } },
  postmark: { channel: 'email', config: { serverToken: '', from: '', messageStream: 'outbound' } },
  resend: { channel: 'email', config: { apiKey: '', from: '' } },
  mailgun: { channel: 'email', config: { apiKey: '', domain: '', region: 'us', from: '' } },
  twilio: { channel: 'sms', config: { accountSid: '', authToken: '', from: '+15005550006' } },
  vonage: { channel: 'sms', config: { apiKey: '', apiSecret: '', from: '' } },
  plivo: { channel: 'sms', config: { authId: '', authToken: '', from: '' } },
  webpush: { channel: 'push', config: { vapidPublicKey: '', vapidPrivateKey: '', subject: 'mailto:ops@example.com' } },
  fcm: { channel: 'push', config: { serviceAccount: {} } },
  apns: { channel: 'push', config: { teamId: '', keyId: '', privateKey: '', bundleId: '', production: true } },
  slack: { channel: 'chat', config: { webhookUrl: '' } },
  discord: { channel: 'chat', config: { webhookUrl: '' } },
  teams: { channel: 'chat', config: { webhookUrl: '' } },
  telegram: { channel: 'chat', config: { botToken: '', chatId: '' } },
  mattermost: { channel: 'chat', config: { webhookUrl: '' } },
  webhook: { channel: 'webhook', config: {} },
};

/** The secret fields per provider (marked * in docs/channels.md): masked in every answer. */
export const SECRET_FIELDS = {
  smtp: ['url'],
  ses: ['secretAccessKey', 'sessionToken'],
  sendgrid: ['apiKey'],
  postmark: ['serverToken'],
  resend: ['apiKey'],
  mailgun: ['apiKey'],
  twilio: ['authToken'],
  vonage: ['apiSecret'],
  plivo: ['authToken'],
  webpush: ['vapidPrivateKey'],
  fcm: ['serviceAccount'],
  apns: ['privateKey'],
  slack: ['botToken', 'webhookUrl'],
  discord: ['webhookUrl'],
  teams: ['webhookUrl'],
  telegram: ['botToken'],
  mattermost: ['webhookUrl'],
  webhook: ['secret'],
};

/** What a test message is sent to, by channel. */
export const TEST_TO_HINT = {
  email: 'an email address',
  sms: 'a phone number in E.164, e.g. +14155550100',
  push: 'a device token, or a Web Push subscription as JSON',
  chat: 'a chat destination (webhook URL or channel); empty for the default',
  webhook: 'a URL',
};
