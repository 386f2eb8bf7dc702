import type { ChannelRouting } from '../core/preview-address.js';
import type { IntegrationDirectory } from './integration-directory.js';
import { providersOf } from './registry.js';

/**
 * How each channel would route, read from the integrations the dispatcher uses (the same cached
 * directory) for previews: nothing is sent, and no provider is called.
 */
export function createChannelRouting(directory: IntegrationDirectory): ChannelRouting {
  return {
    async routes(environmentId, channel) {
      return {
        found: await directory.forChannel(environmentId, channel),
        builtIns: directory.builtIns(channel),
        shapes: providersOf(channel),
      };
    },
  };
}
