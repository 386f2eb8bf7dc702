import { Type } from 'typebox';
import type { ProviderDefinition } from '../provider.js';
import { createDevMailboxChannel } from './dev-mailbox-channel.js';

/**
 * The dev mailbox: email captured in Herald's database for GET /v1/dev/mail. A built-in provider:
 * never configured through the API, it stands in for email integrations while an environment has
 * none (core/delivery-policy.ts, candidatesFor). It writes to Herald's own store, so it is `local`:
 * no breaker, slot limit or Retry-After pause applies.
 */
export const devMailbox: ProviderDefinition<'email', Record<string, never>> = {
  provider: 'dev-mailbox',
  channel: 'email',
  address: 'email',
  local: true,
  configSchema: Type.Object({}, { additionalProperties: false }),
  secretFields: [],
  destinationFields: [],
  urlFields: {},
  create(_config, context) {
    if (!context.saveDevMail) throw new Error('the dev mailbox needs a store to capture mail in');
    return createDevMailboxChannel({ from: context.emailFrom, save: (mail) => context.saveDevMail!(mail) });
  },
};
