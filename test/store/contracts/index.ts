import { describeAccessContract } from './access.js';
import { describeApiKeysContract } from './api-keys.js';
import { describeAuditContract } from './audit.js';
import { describeDeliveryLogContract } from './delivery-log.js';
import type { OpenStore } from './fixtures.js';
import { describeInboxContract } from './inbox.js';
import { describeIntegrationsContract } from './integrations.js';
import { describeJobsContract } from './jobs.js';
import { describeMessageStatsContract } from './message-stats.js';
import { describeRunsContract } from './runs.js';
import { describeSecretsContract } from './secrets.js';
import { describeSubscribersContract } from './subscribers.js';
import { describeTemplatesContract } from './templates.js';
import { describeTopicsContract } from './topics.js';
import { describeTriggersContract } from './triggers.js';
import { describeWorkflowsContract } from './workflows.js';

/**
 * One contract suite per port of core/store.ts, by the name of the file that implements the port in
 * each dialect folder (test/store/dialect-files.test.ts keeps the names in step).
 */
export const PORT_CONTRACTS = {
  'api-keys': describeApiKeysContract,
  access: describeAccessContract,
  audit: describeAuditContract,
  secrets: describeSecretsContract,
  subscribers: describeSubscribersContract,
  topics: describeTopicsContract,
  workflows: describeWorkflowsContract,
  templates: describeTemplatesContract,
  triggers: describeTriggersContract,
  runs: describeRunsContract,
  'delivery-log': describeDeliveryLogContract,
  jobs: describeJobsContract,
  'message-stats': describeMessageStatsContract,
  integrations: describeIntegrationsContract,
  inbox: describeInboxContract,
} satisfies Record<string, (name: string, open: OpenStore) => void>;

/** Every port's contract, on the store `open` makes. */
export function describeStoreContracts(name: string, open: OpenStore) {
  for (const describeContract of Object.values(PORT_CONTRACTS)) describeContract(name, open);
}
