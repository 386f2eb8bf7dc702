import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWellFormed, headerChar, segment } from '../support/fuzz.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Whatever a client sends, Herald answers 2xx or a 4xx problem+json: never a 5xx, never a bare
 * error. fast-check prints the seed and the shrunk counterexample when a property fails.
 */
const RUNS = 300;

let h: TestHerald;
let prototypeBefore: Map<string, PropertyDescriptor>;
const acceptedMessageIds: string[] = [];

const describeObjectPrototype = () =>
  new Map(
    Reflect.ownKeys(Object.prototype).map((key) => [
      String(key),
      Object.getOwnPropertyDescriptor(Object.prototype, key)!,
    ]),
  );

beforeAll(async () => {
  prototypeBefore = describeObjectPrototype();
  h = await startTestHerald({ 'retry-schedule': '10ms' }); // no smtp-url: email goes to the dev mailbox
  const saved = await h.api('PUT', '/v1/workflows/fuzz', {
    steps: [
      {
        type: 'email',
        subject: '{{ data.a }} {{ subscriber.name | upcase }}',
        html: '<p>{{ data | json }}</p>{% for x in data.list %}<i>{{ x }}</i>{% endfor %}',
      },
    ],
  });
  expect(saved.status).toBe(200);
});
afterAll(async () => {
  await h.close();
});

// Bodies: any JSON value, anything JSON.stringify makes of a JS value, and raw text or bytes.
const anyJson = fc.jsonValue().map((value) => JSON.stringify(value));
const anythingAsJson = fc.anything().map((value) => JSON.stringify(value) ?? 'null');
const rawText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }));
const rawBytes = fc.uint8Array({ maxLength: 200 }); // mostly not UTF-8

/** A known id or key most of the time, so bodies get past the path, and any segment otherwise. */
const usually = (known: string, other: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(known) }, other);

/** Mostly a valid value, sometimes null, sometimes any JSON. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 8, arbitrary: valid }, fc.constant(null), fc.jsonValue() as fc.Arbitrary<unknown>);
/** Close to a valid subscriber, so the fuzz reaches past the schema into the store and the worker. */
const subscriberFields = {
  email: mostly(fc.oneof({ weight: 4, arbitrary: fc.emailAddress() }, fc.string({ unit: 'binary' }))),
  phone: mostly(fc.stringMatching(/^\+?[0-9 ()./-]{3,32}$/)),
  name: mostly(fc.string({ unit: 'binary', maxLength: 250 })),
  locale: mostly(fc.stringMatching(/^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8}){0,3}$/)),
  timezone: mostly(fc.constantFrom('Europe/Paris', 'UTC', 'America/Argentina/Buenos_Aires', 'Etc/GMT+1')),
  data: mostly(fc.dictionary(fc.string(), fc.jsonValue())),
};
const subscriberBody = fc.record(subscriberFields, { requiredKeys: [] });

// Templates: pieces of Liquid thrown together, mostly broken, and templates that parse.
const LIQUID_TAGS = ['{{', '}}', '{%', '%}', '{%-', '-%}', '|', ' = ', '<p>', '</p>', '\n'];
const LIQUID_KEYWORDS = [' if ', ' endif ', ' for x in ', ' endfor ', ' assign ', " include 'x' ", ' raw '];
const LIQUID_NAMES = ['data', 'data.a', 'subscriber', '__proto__', 'constructor', 'upcase', 'json'];
const brokenLiquid = fc
  .array(fc.oneof(fc.constantFrom(...LIQUID_TAGS, ...LIQUID_KEYWORDS, ...LIQUID_NAMES), fc.string({ maxLength: 6 })), {
    maxLength: 30,
  })
  .map((parts) => parts.join(''));
const workingLiquid = fc.constantFrom(
  '{{ data.a }}',
  '<p>{{ subscriber.name | default: "you" }}</p>',
  '{% for x in data.list %}{{ x | json }}{% endfor %}',
  '{% assign __proto__ = data %}{{ __proto__.a }}{{ constructor.prototype }}',
  '{% if data.constructor %}yes{% endif %}{{ subscriber.__proto__.polluted }}',
  '{% capture x %}{{ data | json }}{% endcapture %}{{ x | size }}',
);
const liquid = fc.oneof(brokenLiquid, workingLiquid, fc.string({ unit: 'binary' }));
const emailStep = fc.record(
  {
    type: fc.oneof({ weight: 8, arbitrary: fc.constant('email') }, fc.jsonValue()),
    subject: liquid,
    html: liquid,
    text: liquid,
  },
  { requiredKeys: ['type', 'subject'] },
);
const inAppStep = fc.record(
  {
    type: fc.constant('in_app'),
    body: liquid,
    title: liquid,
    actionUrl: fc.oneof(liquid, fc.constantFrom('javascript:{{ data.a }}', '{{ data.a }}', '//x.example/{{ data.a }}')),
    data: fc.dictionary(fc.string(), fc.oneof(liquid, fc.jsonValue())),
  },
  { requiredKeys: ['type', 'body'] },
);
const step = fc.oneof({ weight: 3, arbitrary: emailStep }, inAppStep);
const workflowBody = fc.record(
  { name: fc.string({ unit: 'binary', minLength: 1 }), steps: fc.array(step, { minLength: 1, maxLength: 3 }) },
  { requiredKeys: ['steps'] },
);

const recipient = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  fc.record(
    { subscriberId: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), ...subscriberFields },
    { requiredKeys: ['subscriberId'] },
  ),
);
const triggerBody = fc.record(
  {
    to: fc.oneof(recipient, fc.array(recipient, { minLength: 1, maxLength: 5 })),
    data: fc.oneof(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.record({ a: fc.string(), list: fc.array(fc.jsonValue()) }),
    ),
  },
  { requiredKeys: ['to'] },
);

/** A body to send: near-valid JSON most of the time, anything else the rest. */
const bodyFor = (nearValid: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: nearValid.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: anyJson },
    { weight: 1, arbitrary: anythingAsJson },
    { weight: 1, arbitrary: rawText },
    { weight: 1, arbitrary: rawBytes },
  );

const send = (method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}) =>
  h.api(method, path, body, { 'content-type': 'application/json', ...headers });

describe('any request gets a 2xx or a 4xx problem+json', () => {
  it('PUT /v1/subscribers/{id}', async () => {
    await fc.assert(
      fc.asyncProperty(usually('fuzz-subscriber', segment), bodyFor(subscriberBody), async (id, body) => {
        expectWellFormed(await send('PUT', `/v1/subscribers/${id}`, body));
      }),
      { numRuns: RUNS },
    );
  });

  it('GET and DELETE /v1/subscribers/{id}, GET /v1/messages/{id}', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'DELETE'), segment, async (method, id) => {
        expectWellFormed(await send(method, `/v1/subscribers/${id}`));
        expectWellFormed(await send('GET', `/v1/messages/${id}`));
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /v1/messages with any query', async () => {
    const query = fc.array(
      fc.tuple(
        fc.constantFrom('limit', 'cursor', 'status', 'triggerId', 'subscriberId', 'workflow', 'channel', 'since', 'x'),
        segment,
      ),
      {
        maxLength: 4,
      },
    );
    await fc.assert(
      fc.asyncProperty(query, async (pairs) => {
        expectWellFormed(await send('GET', `/v1/messages?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
      }),
      { numRuns: RUNS },
    );
  });

  it('PUT /v1/workflows/{key}', async () => {
    await fc.assert(
      fc.asyncProperty(usually('fuzz-workflow', segment), bodyFor(workflowBody), async (key, body) => {
        const res = await send('PUT', `/v1/workflows/${key}`, body);
        expectWellFormed(res);
        if (res.status !== 200) return;
        // Every template that saves is rendered too: the worker must end each message cleanly.
        const to = { subscriberId: 'template-fuzz', email: 'template-fuzz@example.com', name: '<b>&</b>' };
        const trigger = await h.api('POST', `/v1/workflows/${res.body.key}/trigger`, { to, data: { a: 1, list: [1] } });
        expect(trigger.status).toBe(202);
        acceptedMessageIds.push(...trigger.body.messageIds);
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /v1/workflows/{key}/versions and …/{n}, POST …/{n}/restore, with any number and query', async () => {
    const number = fc.oneof(
      fc.integer({ min: -2, max: 4 }).map(String),
      fc.constantFrom('2147483647', '2147483648', '1e3', '1e400', '0x1', '01', '%201', '1.0', 'NaN', 'Infinity'),
      segment,
    );
    const query = fc.array(fc.tuple(fc.constantFrom('limit', 'cursor', 'x'), segment), { maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(usually('fuzz', segment), number, query, async (key, n, pairs) => {
        const search = pairs.map(([k, v]) => `${k}=${v}`).join('&');
        expectWellFormed(await send('GET', `/v1/workflows/${key}/versions?${search}`));
        expectWellFormed(await send('GET', `/v1/workflows/${key}/versions/${n}`));
        expectWellFormed(await send('POST', `/v1/workflows/${key}/versions/${n}/restore`));
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /v1/api-keys and DELETE /v1/api-keys/{id}', async () => {
    const keyBody = fc.record({ name: fc.string({ unit: 'binary', maxLength: 120 }) }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(
        bodyFor(keyBody),
        fc.oneof(fc.stringMatching(/^key_[0-9a-z]{1,26}$/), segment),
        async (body, id) => {
          expectWellFormed(await send('POST', '/v1/api-keys', body));
          expectWellFormed(await send('DELETE', `/v1/api-keys/${id}`));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /v1/workflows/{key}/trigger', async () => {
    const idempotencyKey = fc.option(fc.string({ unit: headerChar, minLength: 1, maxLength: 300 }));
    await fc.assert(
      fc.asyncProperty(
        usually('fuzz', segment),
        bodyFor(triggerBody),
        idempotencyKey,
        async (key, body, idempotency) => {
          const headers: Record<string, string> = idempotency === null ? {} : { 'idempotency-key': idempotency };
          const res = await send('POST', `/v1/workflows/${key}/trigger`, body, headers);
          expectWellFormed(res);
          if (res.status === 202) acceptedMessageIds.push(...res.body.messageIds);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('after the fuzzing', () => {
  it('left Object.prototype as it was', () => {
    expect(describeObjectPrototype()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('finishes every accepted message', async () => {
    expect(acceptedMessageIds.length).toBeGreaterThan(0);
    await waitFor(
      async () => {
        const unfinished = await Promise.all(
          ['queued', 'sending', 'retrying'].map(
            async (status) => (await h.api('GET', `/v1/messages?status=${status}`)).body.items,
          ),
        );
        return unfinished.every((items) => items.length === 0);
      },
      { timeoutMs: 20_000, what: 'every fuzzed message to be sent, skipped or failed' },
    );
    const health = await h.api('GET', '/readyz');
    expect(health.status).toBe(200);
  });
});
