import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config/settings.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald(); // no smtp-url: email goes to the dev mailbox
});
afterAll(async () => {
  await h.close();
});

describe('retention', () => {
  it('leaves a pruned message in the log with its status, without content, address or attempts', async () => {
    await h.api('PUT', '/v1/workflows/kept', { steps: [{ type: 'email', subject: 'Hi', text: 'Hello' }] });
    const res = await h.api('POST', '/v1/workflows/kept/trigger', {
      to: { subscriberId: 'ann', email: 'ann@example.com' },
    });
    expect(res.status).toBe(202);
    const [id] = res.body.messageIds as string[];
    const sent = await waitFor(
      async () => {
        const message = (await h.api('GET', `/v1/messages/${id}`)).body;
        return message.status === 'sent' && message;
      },
      { what: 'the message to be sent' },
    );
    expect(sent).toMatchObject({ subject: 'Hi', recipient: 'ann@example.com', attempts: [{ outcome: 'sent' }] });
    expect((await h.api('GET', '/v1/dev/mail')).body.items).toHaveLength(1);

    // What the hourly pass does once the message is older than --retention.
    while ((await h.herald.store.pruneMessages(Date.now() + 1, 500)) === 500);

    const pruned = await h.api('GET', `/v1/messages/${id}`);
    expect(pruned.status).toBe(200);
    expect(pruned.body).toMatchObject({
      id,
      status: 'sent',
      subject: null,
      recipient: null,
      content: null,
      attempts: [],
      attemptCount: 1,
      sentAt: sent.sentAt,
    });
    expect((await h.api('GET', '/v1/messages?subscriberId=ann')).body.items.map((m: any) => m.id)).toEqual([id]);
    expect((await h.api('GET', '/v1/dev/mail')).body.items).toEqual([]);
  });

  it('is a duration of at least an hour, 30 days by default', () => {
    expect(resolveConfig({}, {}).retentionMs).toBe(30 * 86_400_000);
    expect(resolveConfig({}, { HERALD_RETENTION: '7d' }).retentionMs).toBe(7 * 86_400_000);
    expect(() => resolveConfig({ retention: '30m' }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ retention: 'off' }, {})).toThrow(/--retention/);
  });
});
