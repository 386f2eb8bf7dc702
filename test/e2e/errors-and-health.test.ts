import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../src/http/app.js';
import { expectProblem } from '../support/expect-problem.js';
import { call, startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';
import { waitFor } from '../support/wait-for.js';

let h: TestHerald;
beforeAll(async () => {
  h = await startTestHerald(); // no smtp-url: email goes to the dev mailbox
  await h.api('PUT', '/v1/workflows/w', { steps: [{ type: 'email', subject: 'Hi {{ data.n }}', text: 'Hello' }] });
});
afterAll(async () => {
  await h.close();
});

/** Sends `body` exactly as given (no JSON encoding) with the test key. */
const raw = (method: string, path: string, body: string | Uint8Array, contentType = 'application/json') =>
  h.api(method, path, body, { 'content-type': contentType });

describe('authentication', () => {
  const routes: [string, string][] = [
    ['GET', '/v1/workflows'],
    ['PUT', '/v1/workflows/w'],
    ['POST', '/v1/workflows/w/trigger'],
    ['GET', '/v1/subscribers/a'],
    ['DELETE', '/v1/subscribers/a'],
    ['GET', '/v1/messages'],
    ['GET', '/v1/dev/mail'],
    ['GET', '/v1/no-such-route'],
    // The router decodes %76 to "v": these reach the /v1 routes and must be authenticated too.
    ['GET', '/%761/workflows'],
    ['PUT', '/%761/subscribers/sneaky'],
  ];

  it.each(routes)('%s %s needs an API key', async (method, path) => {
    const body = method === 'PUT' || method === 'POST' ? {} : undefined;
    expectProblem(await call(h.url + path, method, body), 401, 'UNAUTHORIZED');
    for (const authorization of ['Bearer hk_wrong_key_0000000000', `Basic ${TEST_API_KEY}`, 'Bearer', TEST_API_KEY]) {
      expectProblem(await call(h.url + path, method, body, { authorization }), 401, 'UNAUTHORIZED');
    }
  });

  it('accepts the key case-insensitively on the scheme', async () => {
    const res = await call(h.url + '/v1/workflows', 'GET', undefined, { authorization: `bearer ${TEST_API_KEY}` });
    expect(res.status).toBe(200);
  });
});

describe('health and descriptions', () => {
  it('answers /healthz and /readyz without a key', async () => {
    const health = await call(h.url + '/healthz', 'GET');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await call(h.url + '/readyz', 'GET');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });

  it('serves the OpenAPI document with the trigger path', async () => {
    const res = await call(h.url + '/openapi.json', 'GET');
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.text);
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/v1/workflows/{key}/trigger');
    expect(doc.paths['/v1/workflows/{key}/trigger'].post).toBeDefined();
  });

  it('answers an unknown route with 404 problem+json', async () => {
    expectProblem(await call(h.url + '/no-such-thing', 'GET'), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await h.api('GET', '/v1/no-such-thing'), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await h.api('PATCH', '/v1/workflows/w', {}), 404, 'ROUTE_NOT_FOUND');
  });
});

describe('malformed requests', () => {
  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    for (const body of ['{', '{"to": }', 'undefined', "{'to':'a'}", '']) {
      expectProblem(await raw('POST', '/v1/workflows/w/trigger', body), 400, 'INVALID_JSON');
    }
  });

  it('refuses bytes that are not UTF-8 instead of storing replacement characters', async () => {
    const body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expectProblem(await raw('PUT', '/v1/subscribers/bad-utf8', body), 400, 'INVALID_JSON');
    expect((await h.api('GET', '/v1/subscribers/bad-utf8')).status).toBe(404);
  });

  it('ignores a leading byte-order mark, as RFC 8259 allows', async () => {
    const response = await raw('PUT', '/v1/subscribers/bom', '\ufeff{"name":"B"}');
    expect(response.status).toBe(200);
    expect(response.body.name).toBe('B');
  });

  it('answers a body that is not JSON with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      expectProblem(await raw('POST', '/v1/workflows/w/trigger', '{"to":"a"}', type), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('accepts JSON media types with parameters and +json suffixes', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.herald+json']) {
      expect((await raw('PUT', '/v1/subscribers/media-type', '{"name":"M"}', type)).status).toBe(200);
    }
  });

  it('answers a body over 1 MiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ to: 'a', data: { big: 'x'.repeat(BODY_LIMIT) } });
    const res = await raw('POST', '/v1/workflows/w/trigger', body);
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(res.body.detail).toBe('The request body is larger than 1 MiB');
  });

  it('answers wrong types with 422 and one error per field', async () => {
    const res = await h.api('PUT', '/v1/subscribers/typed', { email: 5, name: [], data: 'x' });
    expectProblem(res, 422, 'VALIDATION_FAILED');
    const paths = new Set(res.body.errors.map((e: any) => e.path));
    expect(paths).toEqual(new Set(['/email', '/name', '/data']));
    const trigger = await h.api('POST', '/v1/workflows/w/trigger', { to: 5, data: [] });
    expectProblem(trigger, 422, 'VALIDATION_FAILED');
    expect(trigger.body.errors.map((e: any) => e.path)).toEqual(expect.arrayContaining(['/to', '/data']));
    for (const body of ['[]', 'null', '"text"', '42']) {
      expectProblem(await raw('POST', '/v1/workflows/w/trigger', body), 422, 'VALIDATION_FAILED');
    }
  });

  it.each([
    ['a lone surrogate', '{"to":"a","data":{"s":"\\ud800"}}'],
    ['a lone surrogate in a key', '{"to":"a","data":{"\\udc00":1}}'],
    ['a NUL character', '{"to":"a\\u0000b"}'],
    ['a __proto__ key', '{"to":"a","data":{"__proto__":{"polluted":true}}}'],
    ['a constructor key', '{"to":"a","data":{"constructor":{"prototype":{"polluted":true}}}}'],
  ])('answers 400 INVALID_JSON for %s', async (_name, body) => {
    expectProblem(await raw('POST', '/v1/workflows/w/trigger', body), 400, 'INVALID_JSON');
    expect(({} as any).polluted).toBeUndefined();
  });

  it('refuses extreme nesting with a 4xx', async () => {
    for (const body of [
      '['.repeat(10_000) + ']'.repeat(10_000),
      '{"to":"a","data":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_001),
      '['.repeat(500_000) + ']'.repeat(500_000),
    ]) {
      const res = await raw('POST', '/v1/workflows/w/trigger', body);
      expectProblem(res);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });

  it('refuses malformed URLs and over-long path segments with 400 problem+json', async () => {
    expectProblem(await h.api('GET', '/v1/subscribers/%E0%A4%A'), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', '/v1/subscribers/%ED%A0%80'), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', '/v1/subscribers/a%00b'), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', `/v1/subscribers/${'a'.repeat(256)}`), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', `/v1/subscribers/${'a'.repeat(5000)}`), 400, 'INVALID_REQUEST');
    expectProblem(await h.api('GET', `/v1/workflows/${'k'.repeat(101)}`), 400, 'INVALID_REQUEST');
  });
});

describe('after all the bad requests', () => {
  it('still delivers an accepted trigger and counts it in /metrics', async () => {
    const res = await h.api('POST', '/v1/workflows/w/trigger', {
      to: { subscriberId: 'survivor', email: 'survivor@example.com' },
      data: { n: 7 },
    });
    expect(res.status).toBe(202);
    const message = await waitFor(
      async () => {
        const m = await h.api('GET', `/v1/messages/${res.body.messageIds[0]}`);
        return m.body.status === 'sent' ? m.body : undefined;
      },
      { what: 'the trigger to be delivered' },
    );
    expect(message.subject).toBe('Hi 7');
    // Nothing refused was accepted: the only trigger in the log is this one.
    const log = await h.api('GET', '/v1/messages');
    expect(log.body.items.map((m: any) => m.id)).toEqual(res.body.messageIds);

    const metrics = await call(h.url + '/metrics', 'GET');
    expect(metrics.status).toBe(200);
    for (const name of [
      'herald_triggers_total',
      'herald_messages_total',
      'herald_delivery_duration_seconds',
      'herald_queue_depth',
      'herald_oldest_due_job_age_seconds',
    ]) {
      expect(metrics.text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(metrics.text).toMatch(/^herald_triggers_total 1$/m);
    expect(metrics.text).toMatch(/^herald_messages_total\{channel="email",status="sent"\} 1$/m);
    expect(metrics.text).toMatch(/^herald_delivery_duration_seconds_count\{channel="email",outcome="sent"\} 1$/m);
    expect(metrics.text).toMatch(/^herald_queue_depth 0$/m);
  });
});
