import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { InboxEvent, InboxEventRef } from '../../src/core/inbox.js';
import { newId } from '../../src/core/ids.js';
import type { Store } from '../../src/core/store.js';
import type { WorkflowStep } from '../../src/core/types.js';
import { withCachedTemplateAssets } from '../../src/store/cached-template-assets.js';
import { inboxChannel } from '../../src/store/postgres/notifications.js';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { sqlLiteral, withLiterals } from '../../src/store/postgres/sql-literals.js';
import { waitFor } from '../support/wait-for.js';
import { claimInApp, inAppSent } from './contracts/inbox.js';
import { describeStoreContracts } from './contracts/index.js';
import { describeRepeatedVersionNumbers } from './contracts/workflows.js';
import { claimRuns, decide, saveWorkflow, trigger } from './contracts/runs.js';

const DATABASE_URL = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Drops the schemas the tests create; also the first connection, which turns an unreachable
// server into one clear failure message instead of a skip.
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
admin.on('error', () => undefined);
let reachable: Promise<void> | undefined;
function ensureReachable(): Promise<void> {
  reachable ??= admin.query('SELECT 1').then(
    () => undefined,
    (error: Error) => {
      throw new Error(
        `PostgreSQL is not reachable at ${DATABASE_URL} (${error.message}). The store tests need a real ` +
          'server: start it (.ci/run does) or point HERALD_TEST_DATABASE_URL at one.',
      );
    },
  );
  return reachable;
}

afterAll(() => admin.end());

/** A store on a schema of its own, dropped on close. */
async function openOnFreshSchema(poolSize?: number) {
  await ensureReachable();
  const schema = `herald_test_${randomBytes(6).toString('hex')}`;
  const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolSize });
  return {
    store,
    schema,
    environmentId: await store.defaultEnvironmentId(),
    async close() {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

describeStoreContracts('postgres', () => openOnFreshSchema());

describeRepeatedVersionNumbers(
  'postgres',
  () => openOnFreshSchema(),
  async ({ schema }, row) => {
    await admin.query(
      `INSERT INTO ${schema}.workflow_versions (id, environment_id, key, name, version, steps, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [row.id, row.environmentId, row.key, row.name, row.version, row.steps, row.createdAt],
    );
    await admin.query(
      `INSERT INTO ${schema}.workflows (environment_id, key, name, version, version_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6)`,
      [row.environmentId, row.key, row.name, row.version, row.id, row.createdAt],
    );
  },
);

describe('postgres statements sent with literals', () => {
  // Text PostgreSQL can store: anything but NUL, which Herald refuses before it gets here.
  const text = fc.string({ unit: 'binary' }).map((value) => value.replace(/\u0000/g, ''));

  it('reads back every text and array exactly as given', async () => {
    await ensureReachable();
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.array(fc.option(text, { nil: null }), { maxLength: 8 }),
        fc.array(fc.option(fc.integer(), { nil: null }), { maxLength: 8 }),
        async (one, many, numbers) => {
          const sql = withLiterals(
            'SELECT $1::text AS one, $2::text[] AS many, $3::bigint[] AS numbers, $4::int AS n',
            [one, many, numbers, -7],
          );
          const { rows } = await admin.query(sql);
          expect(rows[0].one).toBe(one);
          expect(rows[0].many).toEqual(many);
          expect(rows[0].numbers.map((v: string | null) => (v === null ? null : Number(v)))).toEqual(numbers);
          expect(rows[0].n).toBe(-7);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps what looks like SQL, quotes and array syntax inside the literal', async () => {
    await ensureReachable();
    for (const value of ["'; DROP TABLE x; --", '\\', '"', '{a,b}', 'NULL', '$1', "E'\\'", '\\"}']) {
      const { rows } = await admin.query(`SELECT ${sqlLiteral(value)}::text AS v, ${sqlLiteral([value])}::text[] AS a`);
      expect(rows[0]).toEqual({ v: value, a: [value] });
    }
    expect(() => sqlLiteral(Number.NaN)).toThrow();
  });
});

describe('postgres store across processes', () => {
  const T0 = 1_800_000_000_000;

  async function seed(store: Store, env: string, count: number) {
    const workflow = await store.putWorkflow(
      env,
      { key: 'w', name: 'W', steps: [{ type: 'email', subject: 's', text: 't' }], versionId: newId('wfv', T0) },
      T0,
    );
    await store.commitTrigger({
      environmentId: env,
      triggerId: newId('trg', T0),
      workflowKey: 'w',
      workflowVersionId: workflow.versionId,
      dataJson: '{}',
      recipients: Array.from({ length: count }, (_, i) => ({ subscriberId: `s${i}`, fields: {} })),
      messages: Array.from({ length: count }, (_, i) => ({
        id: newId('msg', T0),
        subscriberId: `s${i}`,
        stepIndex: 0,
        channel: 'email' as const,
        status: 'queued' as const,
      })),
      runs: Array.from({ length: count }, (_, i) => ({ id: newId('run', T0), subscriberId: `s${i}` })),
      start: { state: 'completed', stepIndex: 1, dueAt: null },
      sendAt: null,
      cancellationKey: null,
      createdAt: T0,
    });
  }

  it('never hands the same job to two stores with their own pools', async () => {
    const first = await openOnFreshSchema(4);
    // A second process: its own pool on the same schema (its migration finds nothing to do).
    const second = await createPostgresStore({ connectionString: DATABASE_URL, schema: first.schema, poolSize: 4 });
    try {
      await seed(first.store, first.environmentId, 200);
      const claimed: string[] = [];
      for (let round = 0; round < 10; round++) {
        const batches = await Promise.all([
          first.store.claimJobs('a1', 7, T0, 30_000),
          first.store.claimJobs('a2', 7, T0, 30_000),
          second.claimJobs('b1', 7, T0, 30_000),
          second.claimJobs('b2', 7, T0, 30_000),
        ]);
        claimed.push(...batches.flat().map((job) => job.jobId));
      }
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.length).toBe(200);
      expect((await second.queueStats(T0)).oldestDueAgeMs).toBe(0);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('runs one retention batch at a time across processes, each message walked once', async () => {
    const first = await openOnFreshSchema(4);
    const second = await createPostgresStore({ connectionString: DATABASE_URL, schema: first.schema, poolSize: 4 });
    try {
      await seed(first.store, first.environmentId, 300);
      const jobs = await first.store.claimJobs('w', 300, T0, 30_000);
      await first.store.completeJobs(
        jobs.map((job) => ({
          jobId: job.jobId,
          workerId: 'w',
          messageId: job.messageId,
          at: T0,
          attempts: [{ outcome: 'sent' as const, detail: '250 ok', durationMs: 1 }],
          status: 'sent' as const,
          reason: null,
        })),
      );
      let walked = 0;
      for (let round = 0; round < 10; round++) {
        const batches = await Promise.all([
          first.store.pruneMessages(T0 + 1, 50),
          first.store.pruneMessages(T0 + 1, 50),
          second.pruneMessages(T0 + 1, 50),
        ]);
        walked += batches.reduce((sum, batch) => sum + batch, 0);
      }
      expect(walked).toBe(300);
      const message = await second.getMessage(first.environmentId, jobs[299]!.messageId);
      expect(message).toMatchObject({ status: 'sent', attempts: [], attemptCount: 1 });
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('has the default environment after migration and answers ping', async () => {
    const { store, close } = await openOnFreshSchema();
    try {
      await store.ping();
      expect(await store.defaultEnvironmentId()).toBe('env_development');
    } finally {
      await close();
    }
  });
});

describe('postgres inbox across processes', () => {
  const T0 = 1_800_000_000_000;
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  it('gives gapless seqs, in commit order, to concurrent batches for the same subscribers', async () => {
    const first = await openOnFreshSchema(4);
    const second = await createPostgresStore({ connectionString: DATABASE_URL, schema: first.schema, poolSize: 4 });
    try {
      const env = first.environmentId;
      const subscribers = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`);
      const jobs = await claimInApp(
        first.store,
        env,
        [0, 1, 2, 3].flatMap(() => subscribers),
      );
      // Four batches with an item for each subscriber, two of them in reverse order: the feeds are
      // locked in one order whatever the batch's, or these would deadlock.
      const batches = [0, 1, 2, 3].map((b) => jobs.slice(b * 30, (b + 1) * 30));
      batches[1]!.reverse();
      batches[3]!.reverse();
      const returned = await Promise.all(
        batches.map((batch, i) =>
          (i % 2 === 0 ? first.store : second).completeJobs(batch.map((job) => inAppSent(job, T0 + 100 + i))),
        ),
      );
      for (const subscriberId of subscribers) {
        const events = await second.listInboxEvents(env, subscriberId, 0, 100);
        expect(events.map((event) => event.seq)).toEqual(upTo(4));
        expect(events.map((event) => event.counts.total)).toEqual(upTo(4));
        expect(await first.store.getInboxCounts(env, subscriberId)).toEqual({
          counts: { total: 4, unread: 4, unseen: 4 },
          seq: 4,
        });
        // Each batch held the feed until it committed: its events for one subscriber are consecutive.
        const mine = returned.map((batch) => batch.filter((event) => event.subscriberId === subscriberId));
        for (const batch of mine) {
          expect(batch.map((event) => event.seq - batch[0]!.seq)).toEqual(upTo(batch.length).map((n) => n - 1));
        }
        expect(mine.flat().sort((a, b) => a.seq - b.seq)).toEqual(events);
      }
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('announces inbox events to another process in seq order, a large one as a ref', async () => {
    const first = await openOnFreshSchema(4);
    const second = await createPostgresStore({ connectionString: DATABASE_URL, schema: first.schema, poolSize: 4 });
    try {
      const heard: (InboxEvent | InboxEventRef)[] = [];
      second.onInboxEvents!((event) => event && heard.push(event)); // undefined: "may have missed"
      const channel = inboxChannel(first.schema);
      const notify = (payload: string) => admin.query('SELECT pg_notify($1, $2)', [channel, payload]);
      const probe = (seq: number) => JSON.stringify({ environmentId: 'probe', subscriberId: 'probe', seq });
      const heardProbe = (seq: number) => heard.some((event) => event.environmentId === 'probe' && event.seq === seq);
      // The listener connects in the background: probe until it hears.
      let probes = 0;
      await waitFor(
        async () => {
          await notify(probe(++probes));
          return heard.length > 0;
        },
        { what: 'the second store to listen' },
      );
      // Not events: ignored.
      await notify('not json');
      await notify('{"seq":"1"}');

      const env = first.environmentId;
      const jobs = await claimInApp(first.store, env, ['alice', 'alice', 'bob']);
      const created = await first.store.completeJobs(
        jobs.map((job, i) => inAppSent(job, T0 + 100, i === 1 ? 'x'.repeat(20_000) : 'Hello')),
      );
      const read = await first.store.changeInboxItem(env, 'alice', jobs[0]!.messageId, 'read', T0 + 200);
      const readAll = await first.store.changeAllInboxItems(env, 'alice', 'read', T0 + 300);
      // Notifications from one session arrive in commit order: once this one is heard, all are.
      await notify(probe(0));
      await waitFor(() => heardProbe(0), { what: 'the last probe' });

      const events = heard.filter((event) => event.environmentId !== 'probe');
      expect(events).toEqual([
        created[0],
        { environmentId: env, subscriberId: 'alice', seq: 2 },
        created[2],
        read!.event,
        readAll.event,
      ]);
      expect(created.map((event) => [event.subscriberId, event.seq])).toEqual([
        ['alice', 1],
        ['alice', 2],
        ['bob', 1],
      ]);
      // The ref is enough to read the event.
      expect(await second.listInboxEvents(env, 'alice', 1, 1)).toEqual([created[1]]);
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('postgres template assets across processes', () => {
  const T0 = 1_800_000_000_000;

  it("tells another process's template cache at once when an environment's assets change", async () => {
    const first = await openOnFreshSchema(4);
    const second = await createPostgresStore({ connectionString: DATABASE_URL, schema: first.schema, poolSize: 4 });
    try {
      const heard: (string | undefined)[] = [];
      second.onTemplateAssetsChanged!((env) => heard.push(env));
      // A cache that would keep what it read for an hour: only the announcement can refresh it.
      const cached = withCachedTemplateAssets(second, 3_600_000);
      const env = first.environmentId;
      // The listener connects in the background: write until it hears.
      let n = 0;
      await waitFor(
        async () => {
          await first.store.putPartial(env, 'probe', { name: 'probe', template: `${++n}` }, T0);
          return heard.includes(env);
        },
        { what: 'the second store to listen' },
      );
      expect((await cached.getTemplateAssets(env)).partials.probe).toBe(`${n}`);
      await first.store.putPartial(env, 'probe', { name: 'probe', template: 'changed' }, T0);
      await waitFor(async () => (await cached.getTemplateAssets(env)).partials.probe === 'changed', {
        what: 'the cache to see the change made by the other process',
      });
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('postgres runs across processes', () => {
  const T0 = 1_800_000_000_000;
  const HOUR = 3_600_000;

  /** Two stores on one schema, as two processes: 20 pooled connections between them. */
  async function twoProcesses() {
    const first = await openOnFreshSchema(10);
    const second = await createPostgresStore({ connectionString: DATABASE_URL, schema: first.schema, poolSize: 10 });
    const count = async (sql: string, values: unknown[] = []) =>
      Number((await admin.query(sql.replaceAll('{schema}', first.schema), values)).rows[0].n);
    return {
      ...first,
      second,
      count,
      async close() {
        await second.close();
        await first.close();
      },
    };
  }

  /** 20 triggers for one recipient, their runs claimed by `w` for long enough. */
  async function twentyRuns(store: Store, env: string, steps: WorkflowStep[]) {
    const workflow = await saveWorkflow(store, env, 'w', steps);
    for (let i = 0; i < 20; i++) await trigger(store, env, workflow, ['a'], T0 + i, { data: { n: i } });
    const runs = (await store.claimTimers('w', 100, T0 + 100, 10 * HOUR)).filter((t) => t.kind === 'run');
    expect(runs).toHaveLength(20);
    return Promise.all(runs.map((run) => decide(store, run, 'w', T0 + 100)));
  }

  const email: WorkflowStep = { type: 'email', subject: 's', text: 't' };

  it('opens one digest for runs of one scope advanced at once, every run in it', async () => {
    const { store, second, environmentId: env, count, close } = await twoProcesses();
    try {
      const advances = await twentyRuns(store, env, [{ type: 'digest', window: '1h' }, email]);
      // Each call its own transaction on its own connection, half of them in the other process.
      await Promise.all(advances.map((a, i) => (i % 2 === 0 ? store : second).advanceRuns([a], T0 + 100)));
      expect(await count('SELECT COUNT(*) AS n FROM {schema}.digests')).toBe(1);
      expect(
        await count(
          `SELECT COUNT(*) AS n FROM {schema}.runs r JOIN {schema}.digests d ON d.id = r.digest_id
           WHERE r.state = 'digesting'`,
        ),
      ).toBe(20);
    } finally {
      await close();
    }
  });

  it('loses no run that joins a digest while it closes: each is in the closed one or a new one', async () => {
    const { store, second, environmentId: env, count, close } = await twoProcesses();
    try {
      const workflow = await saveWorkflow(store, env, 'w', [{ type: 'digest', window: '1h' }, email]);
      const opener = await trigger(store, env, workflow, ['a'], T0 - 1, { data: { n: -1 } });
      const [first] = await claimRuns(store, 'w0', T0);
      await store.advanceRuns([await decide(store, first!, 'w0', T0)], T0);
      const advances = await twentyRuns(store, env, [{ type: 'digest', window: '1h' }, email]);
      const [closing] = (await second.claimTimers('c', 10, T0 + HOUR, 30_000)).filter((t) => t.kind === 'digest');
      expect(closing).toBeDefined();
      await Promise.all([
        second.closeDigests([{ ...closing!, workerId: 'c' }], T0 + HOUR),
        ...advances.map((a, i) => (i % 2 === 0 ? store : second).advanceRuns([a], T0 + 100)),
      ]);
      const carrier = (await store.getTrigger(env, opener.triggerId, { limit: 1 }))!.runs.items[0]!;
      expect(carrier.state).toBe('active');
      const joinedBefore = carrier.digest!.count - 1;
      expect(await count(`SELECT COUNT(*) AS n FROM {schema}.runs WHERE state = 'digested'`)).toBe(joinedBefore);
      const waiting = await count(`SELECT COUNT(*) AS n FROM {schema}.runs WHERE state = 'digesting'`);
      expect(joinedBefore + waiting).toBe(20);
      expect(await count('SELECT COUNT(*) AS n FROM {schema}.digests')).toBe(waiting > 0 ? 1 : 0);
    } finally {
      await close();
    }
  });

  it('does not count as canceled a message whose job a claim holds: the cancel waits for the claim', async () => {
    const { store, schema, environmentId: env, close } = await twoProcesses();
    const claim = await admin.connect();
    try {
      const workflow = await saveWorkflow(store, env, 'w', [email, { type: 'delay', for: '1h' }, email]);
      const plan = await trigger(store, env, workflow, ['a'], T0, { cancellationKey: 'k' });
      const [first, second] = plan.messages;
      // A claim as claim-jobs.ts makes one, caught between its two steps: the job is locked, its
      // message not yet `sending`.
      await claim.query('BEGIN');
      await claim.query(`SELECT id FROM ${schema}.jobs WHERE id = $1 FOR UPDATE`, [first!.id]);
      let settled = false;
      const canceling = store.cancelRuns(env, 'k', undefined, T0 + 1).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      await claim.query(`UPDATE ${schema}.messages SET status = 'sending' WHERE id = $1`, [first!.id]);
      await claim.query('COMMIT');
      // The send under way is left to finish; the pending email after the delay is canceled.
      expect(await canceling).toEqual({ runs: 1, messages: 1, byChannel: { email: 1 } });
      const statuses = (await store.getTrigger(env, plan.triggerId, { limit: 1 }))!.runs.items[0]!.messages;
      expect(statuses.map((m) => [m.id, m.status])).toEqual([
        [first!.id, 'sending'],
        [second!.id, 'canceled'],
      ]);
    } finally {
      await claim.query('ROLLBACK').catch(() => undefined);
      claim.release();
      await close();
    }
  });

  it('lets exactly the limit through a throttle when runs of one scope are advanced at once', async () => {
    const { store, second, environmentId: env, count, close } = await twoProcesses();
    try {
      const advances = await twentyRuns(store, env, [{ type: 'throttle', limit: 3, window: '1h' }, email]);
      const results = await Promise.all(
        advances.map((a, i) => (i % 2 === 0 ? store : second).advanceRuns([a], T0 + 100)),
      );
      expect(results.filter((r) => r.statuses.length > 0)).toHaveLength(17);
      expect(await count(`SELECT COUNT(*) AS n FROM {schema}.runs WHERE state = 'active' AND step_index = 1`)).toBe(3);
      expect(await count(`SELECT COUNT(*) AS n FROM {schema}.runs WHERE state = 'throttled'`)).toBe(17);
      expect(await count('SELECT COUNT(*) AS n FROM {schema}.throttle_hits')).toBe(3);
    } finally {
      await close();
    }
  });
});
