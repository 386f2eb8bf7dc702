import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// Names this run's PostgreSQL schemas (test/support/test-database.ts); test processes inherit it.
process.env.HERALD_TEST_RUN ??= randomBytes(3).toString('hex');

/** The end-to-end tests that run again on PostgreSQL: everything the API promises on both stores. */
const ON_BOTH_STORES = [
  'test/e2e/subscribers.test.ts',
  'test/e2e/topics.test.ts',
  'test/e2e/workflows.test.ts',
  'test/e2e/templates.test.ts',
  'test/e2e/translations.test.ts',
  'test/e2e/template-delivery.test.ts',
  'test/e2e/runaway-templates.test.ts',
  'test/e2e/workflow-runs.test.ts',
  'test/e2e/workflow-versions.test.ts',
  'test/e2e/send-times.test.ts',
  'test/e2e/quiet-hours.test.ts',
  'test/e2e/runs-crash.test.ts',
  'test/e2e/triggers.test.ts',
  'test/e2e/delivery-log.test.ts',
  'test/e2e/message-log.test.ts',
  'test/e2e/message-retry.test.ts',
  'test/e2e/message-stats.test.ts',
  'test/e2e/errors-and-health.test.ts',
  'test/e2e/smtp-delivery.test.ts',
  'test/e2e/shutdown.test.ts',
  'test/e2e/crash.test.ts',
  'test/e2e/retention.test.ts',
  'test/e2e/webhooks.test.ts',
  'test/e2e/integrations.test.ts',
  'test/e2e/api-keys.test.ts',
  'test/e2e/secrets-at-rest.test.ts',
  'test/e2e/failover.test.ts',
  'test/e2e/outbound-guard.test.ts',
  'test/e2e/destination-limits.test.ts',
  'test/e2e/channels-email.test.ts',
  'test/e2e/channels-sms.test.ts',
  'test/e2e/channels-push.test.ts',
  'test/e2e/channels-chat.test.ts',
  'test/e2e/inbox-api.test.ts',
  'test/e2e/inbox-stream.test.ts',
  'test/e2e/inbox-stream-lifetime.test.ts',
  'test/e2e/preferences.test.ts',
  'test/e2e/unsubscribe.test.ts',
  'test/e2e/dashboard-sessions.test.ts',
  'test/e2e/dashboard-login-throttle.test.ts',
  'test/e2e/dashboard-access.test.ts',
  'test/e2e/dashboard-users.test.ts',
  'test/e2e/dashboard-redaction.test.ts',
  'test/e2e/dashboard-audit.test.ts',
  'test/e2e/workflow-preview.test.ts',
  'test/e2e/workflow-test-send.test.ts',
  'test/property/routes.property.test.ts',
  'test/property/inbox.property.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two test files at a time. Vitest's default is one fewer than the cores, one on a 2-core
    // machine, and most files spend their time waiting (timers, peers, child processes): two
    // halve the suite's time there; each file has its own Herald, data dir and PostgreSQL schema.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'suite-on-postgres', include: ON_BOTH_STORES, env: { HERALD_TEST_STORE: 'postgres' } },
      },
    ],
  },
});
