import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plivo } from '../../src/channels/plivo/plivo-provider.js';
import { FAULTS, startFakeHttp, type FakeHttp } from '../support/fake-http.js';
import { answerPlivo, PLIVO_ACCOUNT } from '../support/fakes/plivo-fake.js';
import { expectFaultOutcome, sendSignal, testProviderContext } from '../support/provider-harness.js';

const { authId: AUTH_ID, authToken: TOKEN } = PLIVO_ACCOUNT;

describe('Plivo SMS provider', () => {
  let fake: FakeHttp;
  const context = testProviderContext();
  const adapter = (authToken = TOKEN) =>
    plivo.create({ authId: AUTH_ID, authToken, from: '+14155550000', baseUrl: fake.url }, context);
  const send = (to = '+14155550100', authToken?: string) =>
    adapter(authToken).send(
      { messageId: 'msg_1', environmentId: 'env', to, text: 'Your code is 123456' },
      sendSignal(),
    );

  beforeAll(async () => {
    fake = await startFakeHttp(answerPlivo);
  });
  afterAll(async () => {
    await fake.close();
    await context.http.close();
  });

  it('posts src, dst and text as JSON with basic auth and logs the message uuid', async () => {
    const outcome = await send();
    expect(outcome).toMatchObject({ status: 'sent', providerMessageId: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196' });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({
      src: '+14155550000',
      dst: '+14155550100',
      text: 'Your code is 123456',
    });
  });

  it('fails an invalid number for good, with Plivo’s explanation', async () => {
    expect(await send('+1415')).toEqual({ status: 'failed', reason: 'plivo: HTTP 400: invalid dst number' });
  });

  it('retries refused credentials', async () => {
    expect(await send('+14155550100', 'wrong')).toMatchObject({
      status: 'retry',
      reason: expect.stringContaining('HTTP 401: Could not verify'),
    });
  });

  it('reads plivo:// URLs', () => {
    expect(plivo.fromUrl!(new URL(`plivo://${AUTH_ID}@${TOKEN}/%2B1%20415%20555%200000/14155550100`))).toEqual({
      authId: AUTH_ID,
      authToken: TOKEN,
      from: '+14155550000',
    });
    expect(plivo.fromUrl!(new URL(`plivo://14155550000?id=${AUTH_ID}&token=${TOKEN}`))).toEqual({
      authId: AUTH_ID,
      authToken: TOKEN,
      from: '+14155550000',
    });
    expect(() => plivo.fromUrl!(new URL(`plivo://${AUTH_ID}@${TOKEN}`))).toThrow(/FromPhoneNo/);
    expect(() => plivo.fromUrl!(new URL(`plivo://${AUTH_ID}@${TOKEN}/sender`))).toThrow(/not a phone number/);
  });

  it.each(FAULTS)('ends %s in its documented state', async (fault) => {
    await expectFaultOutcome(fake, fault, () => send());
  });
});
