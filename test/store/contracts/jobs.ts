import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/core/ids.js';
import type { ClaimedJob, JobCompletion, MessageFilter, Store, TriggerPlan } from '../../../src/core/store.js';
import type { Message } from '../../../src/core/types.js';

export interface OpenedStore {
  store: Store;
  environmentId: string;
  close(): Promise<void>;
}

const T0 = 1_800_000_000_000;
const LEASE = 30_000;

async function seedWorkflow(store: Store, env: string) {
  return store.putWorkflow(
    env,
    { key: 'w', name: 'W', steps: [{ type: 'email', subject: 's', text: 't' }], versionId: newId('wfv', T0) },
    T0,
  );
}

async function seedMessages(store: Store, env: string, count: number, at = T0): Promise<TriggerPlan> {
  const workflow = (await store.getWorkflow(env, 'w')) ?? (await seedWorkflow(store, env));
  const plan: TriggerPlan = {
    environmentId: env,
    triggerId: newId('trg', at),
    workflowKey: 'w',
    workflowVersionId: workflow.versionId,
    dataJson: '{"n":1}',
    recipients: Array.from({ length: count }, (_, i) => ({
      subscriberId: `s${i}`,
      fields: { email: `s${i}@example.com` },
    })),
    messages: Array.from({ length: count }, (_, i) => ({
      id: newId('msg', at),
      subscriberId: `s${i}`,
      stepIndex: 0,
      channel: 'email' as const,
      status: 'queued' as const,
    })),
    // The one step went out with the trigger: the runs are over at once.
    runs: Array.from({ length: count }, (_, i) => ({ id: newId('run', at), subscriberId: `s${i}` })),
    start: { state: 'completed', stepIndex: 1, dueAt: null },
    sendAt: null,
    cancellationKey: null,
    createdAt: at,
  };
  await store.commitTrigger(plan);
  return plan;
}

/** The completion a worker records after the provider accepted the email. */
function sent(job: ClaimedJob, at: number, detail: string, subject: string, durationMs: number): JobCompletion {
  return {
    jobId: job.jobId,
    workerId: 'w1',
    messageId: job.messageId,
    at,
    attempts: [{ outcome: 'sent', detail, durationMs }],
    status: 'sent',
    reason: null,
    recipient: job.subscriber?.email ?? null,
    subject,
    content: { html: null, text: `body of ${subject}` },
  };
}

/** A key registration as core/api-keys.ts makes one, for a made-up hash. */
function keyInput(env: string, name: string, createdAt: number) {
  return {
    id: newId('key', createdAt),
    environmentId: env,
    name,
    prefix: `hk_${name}`,
    hash: randomBytes(32).toString('hex'),
    createdAt,
  };
}

/** One contract, every store: the behaviour the worker and the API rely on. */
export function describeStoreContract(name: string, open: () => Promise<OpenedStore>) {
  describe(`${name} store`, () => {
    it('never hands the same job to two workers', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 10);
      const [a, b] = await Promise.all([store.claimJobs('w1', 10, T0, LEASE), store.claimJobs('w2', 10, T0, LEASE)]);
      const ids = [...a, ...b].map((job) => job.jobId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(10);
      await close();
    });

    it('claims a job again only after its lease expires', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 1);
      const [first] = await store.claimJobs('w1', 5, T0, LEASE);
      expect(first?.claims).toBe(1);
      expect(await store.claimJobs('w2', 5, T0 + LEASE - 1, LEASE)).toHaveLength(0);
      const [again] = await store.claimJobs('w2', 5, T0 + LEASE, LEASE);
      expect(again?.jobId).toBe(first?.jobId);
      expect(again?.claims).toBe(2);
      await close();
    });

    it('hands out the subscriber with each claimed job and marks the message sending', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 2);
      const jobs = await store.claimJobs('w1', 5, T0, LEASE);
      expect(jobs.map((job) => job.subscriber?.email).sort()).toEqual(['s0@example.com', 's1@example.com']);
      const message = await store.getMessage(environmentId, plan.messages[0]!.id);
      expect(message?.status).toBe('sending');
      expect((await store.getTriggerData([plan.triggerId])).get(plan.triggerId)).toEqual({ n: 1 });
      await close();
    });

    it('records a sent outcome and removes the job', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 1);
      const [job] = await store.claimJobs('w1', 1, T0, LEASE);
      await store.completeJobs([sent(job!, T0 + 5, '250 ok', 'hello', 5)]);
      const message = await store.getMessage(environmentId, plan.messages[0]!.id);
      expect(message).toMatchObject({ status: 'sent', recipient: 's0@example.com', subject: 'hello', attemptCount: 1 });
      expect(message?.attempts).toEqual([
        { at: T0 + 5, outcome: 'sent', detail: '250 ok', durationMs: 5, integrationId: null, provider: null },
      ]);
      expect(message?.content).toEqual({ html: null, text: 'body of hello' });
      expect(await store.queueStats(T0 + 10)).toEqual({ depth: 0, oldestDueAgeMs: 0 });
      expect(await store.claimJobs('w1', 1, T0 + 10 * LEASE, LEASE)).toHaveLength(0);
      await close();
    });

    it('reschedules a retry only while the worker still holds the job', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 1);
      const [job] = await store.claimJobs('w1', 1, T0, LEASE);
      const retry = (workerId: string, at: number) =>
        store.completeJobs([
          {
            jobId: job!.jobId,
            workerId,
            messageId: job!.messageId,
            at,
            attempts: [{ outcome: 'retry', detail: '451 later', durationMs: 1 }],
            status: 'retrying',
            reason: '451 later',
            retryAt: at + 1_000,
          },
        ]);
      await retry('w1', T0 + 1);
      expect(await store.nextJobDueAt()).toBe(T0 + 1_001);
      const [again] = await store.claimJobs('w2', 1, T0 + 1_001, LEASE);
      expect(again?.failedAttempts).toBe(1);
      // w1 no longer holds it: its late retry must not move w2's lease.
      await retry('w1', T0 + 2_000);
      expect(await store.nextJobDueAt()).toBe(T0 + 1_001 + LEASE);
      const message = await store.getMessage(environmentId, job!.messageId);
      expect(message?.attempts.map((a) => a.outcome)).toEqual(['retry', 'retry']);
      await close();
    });

    it('puts back a deferred message without counting a failed attempt or a claim', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 1);
      const defer = (job: ClaimedJob, at: number): JobCompletion => ({
        jobId: job.jobId,
        workerId: 'w1',
        messageId: job.messageId,
        at,
        attempts: [],
        status: 'retrying',
        reason: 'waiting for smtp-main: 2 sends in flight there',
        retryAt: at + 500,
        deferred: true,
      });
      let at = T0;
      for (let round = 0; round < 3; round++) {
        const [job] = await store.claimJobs('w1', 1, at, LEASE);
        expect(job).toMatchObject({ claims: 1, failedAttempts: 0 });
        await store.completeJobs([defer(job!, at + 1)]);
        expect(await store.nextJobDueAt()).toBe(at + 501);
        expect(await store.getMessage(environmentId, job!.messageId)).toMatchObject({
          status: 'retrying',
          reason: expect.stringContaining('waiting for smtp-main'),
          attemptCount: 0,
        });
        at += 501;
      }
      const message = await store.getMessage(environmentId, (await store.claimJobs('w1', 1, at, LEASE))[0]!.messageId);
      expect(message).toMatchObject({ status: 'sending', attemptCount: 0, attempts: [] });
      await close();
    });

    it('extends the leases a worker still holds, and only those', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 2);
      const [a, b] = await store.claimJobs('w1', 2, T0, LEASE);
      // Another worker's renewal changes nothing.
      expect(await store.renewLeases('w2', [a!.jobId, b!.jobId], T0 + 10 * LEASE)).toBe(0);
      expect(await store.renewLeases('w1', [a!.jobId], T0 + 3 * LEASE)).toBe(1);
      // Past the first lease only the job that was not renewed is due again.
      const reclaimed = await store.claimJobs('w2', 5, T0 + LEASE, LEASE);
      expect(reclaimed.map((job) => job.jobId)).toEqual([b!.jobId]);
      // w1 lost b to w2: renewing it now must not take it back.
      expect(await store.renewLeases('w1', [a!.jobId, b!.jobId], T0 + 3 * LEASE)).toBe(1);
      // a is held until T0 + 3 leases; b, whose lease w2 did not renew, is due from T0 + 2 leases.
      const due = (at: number) => store.claimJobs('w3', 5, at, LEASE).then((jobs) => jobs.map((job) => job.jobId));
      expect(await due(T0 + 3 * LEASE - 1)).toEqual([b!.jobId]);
      expect(await due(T0 + 3 * LEASE)).toEqual([a!.jobId]);
      await close();
    });

    it('releases the jobs a worker holds', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 3);
      await store.claimJobs('w1', 3, T0, LEASE);
      expect(await store.releaseJobs('w1', T0 + 1)).toBe(3);
      expect(await store.claimJobs('w2', 3, T0 + 1, LEASE)).toHaveLength(3);
      await close();
    });

    it('keeps an idempotency record for the window only', async () => {
      const { store, environmentId, close } = await open();
      const workflow = await seedWorkflow(store, environmentId);
      const plan: TriggerPlan = {
        environmentId,
        triggerId: newId('trg', T0),
        workflowKey: 'w',
        workflowVersionId: workflow.versionId,
        dataJson: '{}',
        recipients: [],
        messages: [],
        runs: [],
        start: { state: 'completed', stepIndex: 1, dueAt: null },
        sendAt: null,
        cancellationKey: null,
        createdAt: T0,
        idempotency: { key: 'k1', bodyHash: 'h', responseJson: '{"triggerId":"x"}' },
      };
      await store.commitTrigger(plan);
      expect(await store.findIdempotency(environmentId, 'k1', T0)).toEqual({
        bodyHash: 'h',
        responseJson: '{"triggerId":"x"}',
      });
      expect(await store.findIdempotency(environmentId, 'k1', T0 + 1)).toBeUndefined();
      // A second commit with a live key is refused, and nothing of it is written.
      const twin = { ...plan, triggerId: newId('trg', T0) };
      await expect(store.commitTrigger(twin)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT' });
      expect(await store.getTriggerData([twin.triggerId])).toEqual(new Map());
      expect(await store.pruneIdempotency(T0 + 1)).toBe(1);
      await close();
    });

    it('prunes finished messages past retention in bounded batches, and later those that were unfinished', async () => {
      const { store, environmentId: env, close } = await open();
      const DAY = 86_400_000;
      await seedMessages(store, env, 5, T0);
      await seedMessages(store, env, 1, T0 + 1);
      const [retrying, failed, ...sentJobs] = await store.claimJobs('w1', 5, T0, LEASE);
      await store.completeJobs([
        ...sentJobs.map((job) => sent(job, T0 + 5, '250 ok', 'old', 5)),
        {
          jobId: failed!.jobId,
          workerId: 'w1',
          messageId: failed!.messageId,
          at: T0 + 5,
          attempts: [{ outcome: 'failed', detail: '550 no such user', durationMs: 5 }],
          status: 'failed',
          reason: '550 no such user',
        },
        {
          jobId: retrying!.jobId,
          workerId: 'w1',
          messageId: retrying!.messageId,
          at: T0 + 5,
          attempts: [{ outcome: 'retry', detail: '451 later', durationMs: 5 }],
          status: 'retrying',
          reason: '451 later',
          retryAt: T0 + 2 * DAY,
        },
      ]);
      // A day later: the message made at T0 + 1 is in flight, a new one is sent.
      await seedMessages(store, env, 1, T0 + DAY);
      const [inFlight, recent] = await store.claimJobs('w1', 2, T0 + DAY, LEASE);
      await store.completeJobs([sent(recent!, T0 + DAY, '250 ok', 'new', 5)]);
      const mail = (messageId: string, at: number) => ({
        id: newId('mail', at),
        environmentId: env,
        messageId,
        from: 'a@example.com',
        to: 'b@example.com',
        subject: 's',
        html: null,
        text: 't',
        headers: {},
        createdAt: at,
      });
      await store.addDevMail(mail(sentJobs[0]!.messageId, T0 + 5));
      await store.addDevMail(mail(recent!.messageId, T0 + DAY));
      const finishedOld = [...sentJobs, failed!].map((job) => job.messageId);
      const prunedCount = async () =>
        (await Promise.all(finishedOld.map((id) => store.getMessage(env, id)))).filter((m) => m?.attempts.length === 0)
          .length;

      // Six messages were made before T0 + 1000; each batch walks at most two.
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await prunedCount()).toBeLessThanOrEqual(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(0);
      expect(await prunedCount()).toBe(4);

      for (const job of sentJobs) {
        expect(await store.getMessage(env, job.messageId)).toMatchObject({
          status: 'sent',
          recipient: null,
          subject: null,
          content: null,
          attempts: [],
          attemptCount: 1,
          sentAt: T0 + 5,
        });
      }
      expect(await store.getMessage(env, failed!.messageId)).toMatchObject({
        status: 'failed',
        reason: '550 no such user',
        attempts: [],
        attemptCount: 1,
      });
      // Unfinished and recent messages keep everything.
      expect((await store.getMessage(env, retrying!.messageId))?.attempts).toHaveLength(1);
      expect(await store.getMessage(env, inFlight!.messageId)).toMatchObject({ status: 'sending' });
      expect(await store.getMessage(env, recent!.messageId)).toMatchObject({
        subject: 'new',
        content: { html: null, text: 'body of new' },
        attempts: [{ outcome: 'sent' }],
      });
      expect((await store.listDevMail(env, 10)).items.map((m) => m.messageId)).toEqual([recent!.messageId]);

      // Once the messages the walk passed unfinished have finished, the next batch prunes them.
      const late = await store.claimJobs('w1', 5, T0 + 2 * DAY, LEASE);
      expect(late.map((job) => job.messageId).sort()).toEqual([inFlight!.messageId, retrying!.messageId].sort());
      await store.completeJobs(late.map((job) => sent(job, T0 + 2 * DAY, '250 ok', 'late', 5)));
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(2);
      expect(await store.pruneMessages(T0 + 1_000, 2)).toBe(0);
      for (const job of late) {
        expect(await store.getMessage(env, job.messageId)).toMatchObject({
          status: 'sent',
          content: null,
          attempts: [],
        });
      }
      expect((await store.getMessage(env, recent!.messageId))?.attempts).toHaveLength(1);
      await close();
    });

    it('lists messages newest first and pages without repeats', async () => {
      const { store, environmentId, close } = await open();
      await seedMessages(store, environmentId, 3, T0);
      await seedMessages(store, environmentId, 2, T0 + 1_000);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listMessages(environmentId, { limit: 2, cursor });
        seen.push(...page.items.map((m) => m.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toHaveLength(5);
      expect([...seen].sort().reverse()).toEqual(seen);
      await close();
    });

    it('lists messages by workflow and by channel, alone and combined, across pages', async () => {
      const { store, environmentId: env, close } = await open();
      const w = (await seedWorkflow(store, env)).versionId;
      const v = await store.putWorkflow(
        env,
        { key: 'v', name: 'V', steps: [{ type: 'sms', text: 't' }], versionId: newId('wfv', T0) },
        T0,
      );
      // Triggers of w (email) and v (sms, then in_app) alternate, so every filter skips rows between its own.
      for (let i = 0; i < 6; i++) {
        const [workflowKey, workflowVersionId] = i % 2 === 0 ? ['w', w] : ['v', v.versionId];
        const channels = i % 2 === 0 ? (['email'] as const) : (['sms', 'in_app'] as const);
        const at = T0 + i * 1_000;
        await store.commitTrigger({
          environmentId: env,
          triggerId: newId('trg', at),
          workflowKey,
          workflowVersionId,
          dataJson: '{}',
          recipients: ['s0', 's1'].map((subscriberId) => ({ subscriberId, fields: {} })),
          messages: ['s0', 's1'].flatMap((subscriberId) =>
            channels.map((channel, stepIndex) => ({
              id: newId('msg', at),
              subscriberId,
              stepIndex,
              channel,
              status: 'queued' as const,
            })),
          ),
          runs: [],
          start: { state: 'completed', stepIndex: channels.length, dueAt: null },
          sendAt: null,
          cancellationKey: null,
          createdAt: at,
        });
      }
      const all = (await store.listMessages(env, { limit: 100 })).items;
      expect(all).toHaveLength(18);
      const walk = async (filter: Omit<MessageFilter, 'limit' | 'cursor'>) => {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listMessages(env, { ...filter, limit: 2, cursor });
          seen.push(...page.items.map((m) => m.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return seen;
      };
      const cases: [Omit<MessageFilter, 'limit' | 'cursor'>, (m: Message) => boolean][] = [
        [{ workflow: 'w' }, (m) => m.workflowKey === 'w'],
        [{ workflow: 'v' }, (m) => m.workflowKey === 'v'],
        [{ channel: 'sms' }, (m) => m.channel === 'sms'],
        [{ channel: 'in_app', subscriberId: 's1' }, (m) => m.channel === 'in_app' && m.subscriberId === 's1'],
        [{ workflow: 'v', channel: 'in_app' }, (m) => m.workflowKey === 'v' && m.channel === 'in_app'],
        [{ workflow: 'v', status: 'queued' }, (m) => m.workflowKey === 'v'],
        [{ workflow: 'w', channel: 'sms' }, () => false],
        [{ workflow: 'v', status: 'sent' }, () => false],
      ];
      for (const [filter, wanted] of cases) {
        expect(await walk(filter), JSON.stringify(filter)).toEqual(all.filter(wanted).map((m) => m.id));
      }
      expect((await store.listMessages('env_other', { workflow: 'w', channel: 'email', limit: 10 })).items).toEqual([]);
      await close();
    });

    it('erases a deleted subscriber from the delivery log', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 1);
      const [job] = await store.claimJobs('w1', 1, T0, LEASE);
      await store.completeJobs([sent(job!, T0, '250 ok s0@example.com', 'secret', 1)]);
      expect(await store.deleteSubscriber(environmentId, 's0')).toBe(true);
      const message = await store.getMessage(environmentId, plan.messages[0]!.id);
      expect(message).toMatchObject({ recipient: null, subject: null, status: 'sent', content: null });
      expect(message?.attempts[0]?.detail).toBe('[erased]');
      expect(await store.getSubscriber(environmentId, 's0')).toBeUndefined();
      await close();
    });

    it('scopes data by environment', async () => {
      const { store, environmentId, close } = await open();
      const plan = await seedMessages(store, environmentId, 1);
      expect(await store.getMessage('env_other', plan.messages[0]!.id)).toBeUndefined();
      expect((await store.listMessages('env_other', { limit: 10 })).items).toEqual([]);
      expect(await store.getWorkflow('env_other', 'w')).toBeUndefined();
      await close();
    });

    it('registers API keys by hash, lists them without it, and never brings a revoked one back', async () => {
      const { store, environmentId, close } = await open();
      const a = keyInput(environmentId, 'a', T0);
      const b = keyInput(environmentId, 'b', T0 + 1);
      const added = await store.addApiKey(a);
      expect(added).toEqual({
        status: 'added',
        key: { id: a.id, environmentId, name: 'a', prefix: 'hk_a', createdAt: T0, lastUsedAt: null },
      });
      // The same hash again (HERALD_API_KEY on every start) keeps the first registration.
      expect(await store.addApiKey({ ...a, id: newId('key', T0 + 5), name: 'again' })).toEqual({
        status: 'exists',
        key: added.key,
      });
      await store.addApiKey(b);
      expect(await store.findApiKeyByHash(a.hash)).toEqual({ id: a.id, environmentId });
      expect((await store.listApiKeys(environmentId)).map((key) => key.id)).toEqual([a.id, b.id]);
      expect(JSON.stringify(await store.listApiKeys(environmentId))).not.toContain(a.hash);
      expect(await store.listApiKeys('env_other')).toEqual([]);

      expect(await store.revokeApiKey('env_other', a.id, T0 + 2)).toBe('not_found');
      expect(await store.revokeApiKey(environmentId, a.id, T0 + 2)).toBe('revoked');
      expect(await store.revokeApiKey(environmentId, a.id, T0 + 3)).toBe('not_found');
      expect(await store.findApiKeyByHash(a.hash)).toBeUndefined();
      expect((await store.listApiKeys(environmentId)).map((key) => key.id)).toEqual([b.id]);
      expect((await store.addApiKey({ ...a, id: newId('key', T0 + 4) })).status).toBe('revoked');
      expect(await store.findApiKeyByHash(a.hash)).toBeUndefined();
      await close();
    });

    it("never revokes an environment's last API key, even when revocations race", async () => {
      const { store, environmentId, close } = await open();
      const keys = Array.from({ length: 8 }, (_, i) => keyInput(environmentId, `k${i}`, T0 + i));
      for (const key of keys) await store.addApiKey(key);
      // Reads in parallel first, so a pooled store has a connection ready for each revocation.
      await Promise.all(keys.map(() => store.listApiKeys(environmentId)));
      const outcomes = await Promise.all(keys.map((key) => store.revokeApiKey(environmentId, key.id, T0 + 10)));
      expect(outcomes.filter((outcome) => outcome === 'revoked')).toHaveLength(7);
      expect(outcomes.filter((outcome) => outcome === 'last_key')).toHaveLength(1);
      expect(await store.listApiKeys(environmentId)).toHaveLength(1);
      expect(await store.revokeApiKey(environmentId, 'key_none', T0 + 11)).toBe('not_found');
      await close();
    });

    it('moves the last use of API keys forward, never back', async () => {
      const { store, environmentId, close } = await open();
      const a = keyInput(environmentId, 'a', T0);
      const b = keyInput(environmentId, 'b', T0);
      await store.addApiKey(a);
      await store.addApiKey(b);
      await store.recordApiKeyUse([]);
      await store.recordApiKeyUse([
        { id: a.id, at: T0 + 500 },
        { id: b.id, at: T0 + 100 },
        { id: 'key_gone', at: T0 },
      ]);
      await store.recordApiKeyUse([{ id: a.id, at: T0 + 200 }]);
      const lastUsed = Object.fromEntries((await store.listApiKeys(environmentId)).map((k) => [k.name, k.lastUsedAt]));
      expect(lastUsed).toEqual({ a: T0 + 500, b: T0 + 100 });
      await close();
    });

    it('keeps the first sealing key fingerprint it is given', async () => {
      const { store, close } = await open();
      expect(await store.claimSealingKey('key-one')).toBe('key-one');
      expect(await store.claimSealingKey('key-two')).toBe('key-one');
      expect(await store.claimSealingKey('key-one')).toBe('key-one');
      await close();
    });

    it('replaces an inbox secret only while it is still the one the caller read', async () => {
      const { store, environmentId, close } = await open();
      await store.getInboxSettings(environmentId, { secret: 'first', now: T0 });
      expect(await store.listInboxSecrets()).toEqual([{ environmentId, secret: 'first' }]);
      expect(await store.replaceInboxSecret(environmentId, 'not-it', 'sealed')).toBe(false);
      expect(await store.replaceInboxSecret('env_other', 'first', 'sealed')).toBe(false);
      expect(await store.replaceInboxSecret(environmentId, 'first', 'sealed')).toBe(true);
      expect((await store.findInboxSettings(environmentId))?.secret).toBe('sealed');
      await close();
    });
  });
}
