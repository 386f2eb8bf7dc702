import { HeraldError } from '../core/errors.js';
import type { ChannelType } from '../core/types.js';
import type { ChannelMessages, ProviderDefinition, PushDevice } from './provider.js';

/** The message POST /v1/integrations/{id}/test sends, for the integration's channel. */
export function testMessage(
  channel: ChannelType,
  definition: ProviderDefinition,
  config: Record<string, unknown>,
  base: { integrationId: string; messageId: string; environmentId: string; to: unknown; text: string },
): ChannelMessages[keyof ChannelMessages] {
  const { messageId, environmentId, to, text } = base;
  const needString = (what: string) => {
    if (typeof to !== 'string' || to === '') {
      throw new HeraldError('VALIDATION_FAILED', `to must be ${what}`, [{ path: '/to', message: `must be ${what}` }]);
    }
    return to;
  };
  switch (channel) {
    case 'email':
      return { messageId, environmentId, to: needString('an email address'), subject: 'Herald test message', text };
    case 'sms':
      return { messageId, environmentId, to: needString('a phone number'), text };
    case 'chat': {
      const fallback = definition.address === 'chat' ? definition.defaultDestination?.(config) : undefined;
      const destination = typeof to === 'string' && to ? to : fallback;
      if (!destination) {
        throw new HeraldError('VALIDATION_FAILED', 'to must be a chat destination (this integration has no default)', [
          { path: '/to', message: 'is required' },
        ]);
      }
      return { messageId, environmentId, destination, text, blocks: null };
    }
    case 'push': {
      const kind = definition.address === 'push' ? definition.pushKind : undefined;
      let device: PushDevice;
      if (kind === 'webPush') {
        if (typeof to !== 'object' || to === null) {
          throw new HeraldError('VALIDATION_FAILED', 'to must be a Web Push subscription {endpoint, keys}', [
            { path: '/to', message: 'must be a subscription object' },
          ]);
        }
        device = { kind: 'webPush', subscription: to as never };
      } else {
        device = { kind: kind!, token: needString('a device token') } as PushDevice;
      }
      return { messageId, environmentId, device, title: 'Herald test', body: text, data: null };
    }
    case 'webhook': {
      if (typeof to !== 'string') {
        throw new HeraldError('VALIDATION_FAILED', 'to must be the URL to POST to', [
          { path: '/to', message: 'must be a URL' },
        ]);
      }
      const body = JSON.stringify({ type: 'herald.test', integrationId: base.integrationId, messageId, text });
      return { messageId, environmentId, url: to, body };
    }
  }
}
