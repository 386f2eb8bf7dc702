import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestHerald, TEST_API_KEY, type TestHerald } from '../support/herald.js';
import { deliverInApp, inboxClient } from '../support/inbox.js';
import { bodyOf, openRaw, statusOf, type RawConnection } from '../support/raw-http.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';

// Slow and silent clients, against a real server over raw sockets. No assertion is about time:
// each waits (with a deadline) for the server to answer and close, well before the client would
// have finished on its own.

const auth = `Authorization: Bearer ${TEST_API_KEY}\r\n`;
const heralds: TestHerald[] = [];
const sockets: RawConnection[] = [];
const streams: SseClient[] = [];

async function start(settings: Record<string, string>) {
  const h = await startTestHerald(settings);
  heralds.push(h);
  return h;
}

async function raw(h: TestHerald) {
  const connection = await openRaw(h.url);
  sockets.push(connection);
  return connection;
}

const closedByServer = (connection: RawConnection) =>
  waitFor(() => connection.closed(), { what: 'the server to close the connection' });

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const stream of streams) stream.close();
  for (const h of heralds) await h.close();
});

describe('--request-timeout', () => {
  let h: TestHerald;
  beforeAll(async () => {
    h = await start({ 'request-timeout': '500ms', 'inbox-heartbeat': '100ms' });
    await h.api('PUT', '/v1/workflows/note', { steps: [{ type: 'in_app', title: 'Note', body: 'Hi' }] });
  });

  it('answers 408 and disconnects a client that trickles its body, and nothing is written', async () => {
    const body = JSON.stringify({ email: 'slow@example.com', name: 'x'.repeat(2000) });
    const connection = await raw(h);
    connection.write(
      `PUT /v1/subscribers/trickled HTTP/1.1\r\nHost: herald\r\n${auth}Content-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    connection.trickle(body, 20); // all of it would take 40 s
    await closedByServer(connection);
    expect(statusOf(connection.received())).toBe(408);
    expect(connection.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(bodyOf(connection.received())).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect((await h.api('GET', '/v1/subscribers/trickled')).status).toBe(404);
  });

  it('answers 408 and disconnects a client that trickles its headers', async () => {
    const connection = await raw(h);
    connection.trickle(`GET /healthz HTTP/1.1\r\nHost: herald\r\nX-Padding: ${'p'.repeat(2000)}\r\n\r\n`, 20);
    await closedByServer(connection);
    expect(statusOf(connection.received())).toBe(408);
  });

  it('disconnects a client that connects and sends nothing', async () => {
    const connection = await raw(h);
    await closedByServer(connection);
    expect(statusOf(connection.received())).toBe(408);
  });

  it('does not cut an inbox stream: it is a long answer, not a slow request', async () => {
    await h.api('PUT', '/v1/subscribers/streamer', {});
    const inbox = await inboxClient(h, 'streamer');
    const stream = await openSse(`${h.url}/v1/inbox/stream`, inbox.headers);
    streams.push(stream);
    expect(stream.status).toBe(200);
    // Ten heartbeats, 100 ms apart: the stream has outlived the 500 ms limit twice over.
    await waitFor(() => stream.comments >= 10, { what: 'ten heartbeats' });
    await deliverInApp(h, 'note', 'streamer');
    await stream.waitFor(1, 'item.created');
  });
});

describe('closing connections whose request body was not read', () => {
  let h: TestHerald;
  beforeAll(async () => {
    // The default --request-timeout (30 s): a close seen within the test's deadline is not a timeout.
    h = await start({});
  });

  it.each([
    ['401 before the body', `POST /v1/workflows/w/trigger HTTP/1.1\r\nContent-Type: application/json\r\n`, 401],
    ['415', `POST /v1/workflows/w/trigger HTTP/1.1\r\n${auth}Content-Type: text/plain\r\n`, 415],
    ['413', `POST /v1/workflows/w/trigger HTTP/1.1\r\n${auth}Content-Type: application/json\r\n`, 413],
  ])('answers %s with Connection: close and ends the connection', async (_name, head, status) => {
    const length = status === 413 ? 2 * 1024 * 1024 : 100_000;
    const connection = await raw(h);
    connection.write(`${head}Host: herald\r\nContent-Length: ${length}\r\n\r\n{"to":`);
    connection.trickle('"a"'.padEnd(1000, ' '), 50); // the rest comes slowly, and never in full
    await closedByServer(connection);
    expect(statusOf(connection.received())).toBe(status);
    expect(connection.received()).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('keeps a connection open when the whole body had arrived before the answer', async () => {
    const connection = await raw(h);
    const body = '{"to":"a"}';
    connection.write(
      `POST /v1/workflows/w/trigger HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    );
    await waitFor(() => connection.received().endsWith('}'), { what: 'the 401' });
    expect(statusOf(connection.received())).toBe(401);
    connection.write('GET /healthz HTTP/1.1\r\nHost: herald\r\n\r\n');
    await waitFor(() => /HTTP\/1\.1 200 /.test(connection.received()), {
      what: 'the /healthz answer on the same connection',
    });
    expect(connection.closed()).toBe(false);
  });
});

describe('--max-connections', () => {
  it('keeps /healthz answering through a flood of slow sockets: the longest waiting are closed for room', async () => {
    const cap = 200;
    const h = await start({ 'max-connections': String(cap) });
    const flood: RawConnection[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const opened = await Promise.all(Array.from({ length: 100 }, () => raw(h)));
      for (const connection of opened) connection.write('GET /healthz HTTP/1.1\r\nHost: herald\r\n'); // never ends
      flood.push(...opened);
    }
    // 2,000 sockets against a cap of 200: the oldest were closed to let the newer in.
    await waitFor(() => flood.filter((c) => !c.closed()).length <= cap, { what: 'the flood to be cut to the cap' });
    expect(flood.slice(0, 1000).every((c) => c.closed())).toBe(true);
    expect(flood.every((c) => statusOf(c.received()) === undefined)).toBe(true);

    const health = await call(h.url + '/healthz', 'GET');
    expect(health.status).toBe(200);
    const metrics = await call(h.url + '/metrics', 'GET');
    const evicted = Number(/^herald_http_connections_shed_total\{reason="evicted"\} (\d+)$/m.exec(metrics.text)?.[1]);
    expect(evicted).toBeGreaterThanOrEqual(2000 - cap);
    expect(Number(/^herald_http_connections (\d+)$/m.exec(metrics.text)?.[1])).toBeLessThanOrEqual(cap);
  });

  it('never closes an inbox stream for room: with every connection busy, a newcomer is refused', async () => {
    const h = await start({ 'max-connections': '3' });
    await h.api('PUT', '/v1/workflows/note', { steps: [{ type: 'in_app', title: 'Note', body: 'Hi' }] });
    const subscribers = [];
    for (const id of ['s1', 's2', 's3']) {
      await h.api('PUT', `/v1/subscribers/${id}`, {});
      subscribers.push(await inboxClient(h, id));
    }
    const open: SseClient[] = [];
    for (const subscriber of subscribers) {
      // Each stream takes the place of an idle connection (the test's own, kept alive).
      const stream = await openSse(`${h.url}/v1/inbox/stream`, subscriber.headers);
      streams.push(stream);
      open.push(stream);
      expect(stream.status).toBe(200);
      await stream.waitFor(1, 'counts');
    }
    const refused = await raw(h);
    refused.write('GET /healthz HTTP/1.1\r\nHost: herald\r\n\r\n');
    await closedByServer(refused);
    expect(refused.received()).toBe('');

    // Room again once a stream ends; the other two are still delivering.
    open[2]!.close();
    const id = await waitFor(
      async () => {
        const res = await h.api('POST', '/v1/workflows/note/trigger', { to: 's1' }).catch(() => undefined);
        return res?.status === 202 ? (res.body.messageIds[0] as string) : undefined;
      },
      { what: 'a trigger accepted once a stream closed' },
    );
    expect(id).toMatch(/^msg_/);
    const [item] = await open[0]!.waitFor(1, 'item.created');
    expect(item?.data).toBeDefined();
    const metrics = await call(h.url + '/metrics', 'GET');
    expect(metrics.text).toMatch(/^herald_http_connections_shed_total\{reason="refused"\} [1-9]\d*$/m);
  });
});
