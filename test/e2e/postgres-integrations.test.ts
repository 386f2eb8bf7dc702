import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { dropSchemas, testDatabaseUrl, testSchema } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

// Integrations saved through one process's API are used by another process's workers: the
// credentials are sealed in PostgreSQL with the shared HERALD_SECRET_KEY, and changes reach the
// worker's cache within its 2 s TTL (no restart).
const schema = testSchema();
const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'cross-process-token';
const shared = {
  database: testDatabaseUrl(schema),
  'secret-key': 'postgres-integrations-secret-key-0123456789',
  'allow-private-networks': '127.0.0.0/8',
  'retry-schedule': '50ms,50ms,50ms',
};

let api: TestHerald;
let worker: TestHerald;
let first: FakeHttp;
let second: FakeHttp;

/** Twilio's Messages API; answers only with the right credentials, naming which fake took it. */
const twilioFake = (name: string) =>
  startFakeHttp((request) => {
    const expected = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expected)
      return { status: 401, body: { code: 20003, message: 'Authenticate' } };
    return { status: 201, body: { sid: `SM-${name}`, status: 'queued' } };
  });

beforeAll(async () => {
  [first, second] = await Promise.all([twilioFake('first'), twilioFake('second')]);
  api = await startTestHerald({ ...shared, role: 'api' });
  worker = await startTestHerald({ ...shared, role: 'worker' });
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await Promise.all([first?.close(), second?.close()]);
  await dropSchemas(schema);
});

const sms = (fake: FakeHttp) => ({
  channel: 'sms',
  provider: 'twilio',
  config: { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: fake.url },
});

async function deliver(to: string): Promise<any> {
  const res = await api.api('POST', '/v1/workflows/code/trigger', { to: { subscriberId: to, phone: to } });
  expect(res.status).toBe(202);
  return waitFor(async () => {
    const message = (await api.api('GET', `/v1/messages/${res.body.messageIds[0]}`)).body;
    return message.status === 'sent' ? message : undefined;
  });
}

it("sends through an integration saved on another process's API, and follows a change within seconds", async () => {
  expect((await api.api('PUT', '/v1/integrations/sms', sms(first))).status).toBe(201);
  await api.api('PUT', '/v1/workflows/code', { steps: [{ type: 'sms', text: 'Code 42' }] });
  const one = await deliver('+14155550100');
  expect(one).toMatchObject({
    providerMessageId: 'SM-first',
    attempts: [{ integrationId: 'sms', provider: 'twilio' }],
  });

  expect((await api.api('PUT', '/v1/integrations/sms', sms(second))).status).toBe(200);
  // The worker's cached list expires within 2 s: keep sending until a message goes the new way.
  const moved = await waitFor(
    async () => {
      const message = await deliver(`+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`);
      return message.providerMessageId === 'SM-second' ? message : undefined;
    },
    { what: 'a message through the changed integration' },
  );
  expect(moved.attempts).toMatchObject([{ integrationId: 'sms', outcome: 'sent' }]);
  expect(second.requests.length).toBeGreaterThan(0);
});
