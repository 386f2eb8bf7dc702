/**
 * The inbox bench's subscribers, run in their own process (child_process.fork) so the server under
 * test — Herald or the ceiling — shares the two cores with the same client work. It holds one
 * Server-Sent Events stream per subscriber, each on its own TCP connection (raw `node:http`, no
 * agent, a small SSE parser here), and sends the publishing request itself, so the moment its
 * answer arrived and the moment each stream's event arrived are read from one clock.
 *
 * IPC: the parent sends { id, cmd, ... } and gets { id, ...answer }; at start the process sends
 * { ready: true }. Commands:
 *   open  { origin, paths, concurrency }  opens one stream per path; answers once each has had its
 *                                         first event (the server's hello: `counts`)
 *   close {}                              closes every stream
 *   round { round, request, deadlineMs }  sends `request` ({ path, headers, body, status }), then
 *                                         waits for this round's `item.created` on every stream;
 *                                         answers the latency of each (ms from the answer to it)
 *                                         and how long the request took to be answered
 *   check {}                              what the streams saw: duplicates, gaps, strays, errors
 * It exits when the parent goes away.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';

/** The event every round waits for; every other named event only checks the id sequence. */
const ROUND_EVENT = 'item.created';

let origin;
let streams = [];
let current = null; // the round in progress
const totals = { duplicates: 0, gaps: 0, strays: 0, unparsable: 0, eventBytes: 0, events: 0 };
const errors = [];

/** Open-file limit of this process: one descriptor per stream, plus a few. */
function openFileLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

/**
 * An incremental Server-Sent Events parser (the WHATWG rules this bench needs: `id`, `event`,
 * `data`, comments, blank line dispatches). `onEvent(type, data, id, bytes)` per event.
 */
function sseParser(onEvent) {
  let buffer = '';
  let type = '';
  let data = [];
  let id;
  let bytes = 0;
  return (chunk) => {
    buffer += chunk;
    let start = 0;
    for (;;) {
      const end = buffer.indexOf('\n', start);
      if (end === -1) break;
      const line = buffer.charCodeAt(end - 1) === 13 ? buffer.slice(start, end - 1) : buffer.slice(start, end);
      bytes += end + 1 - start;
      start = end + 1;
      if (line === '') {
        if (data.length > 0) onEvent(type || 'message', data.join('\n'), id, bytes);
        type = '';
        data = [];
        bytes = 0;
        continue;
      }
      if (line.charCodeAt(0) === 58) continue; // ':' comment (heartbeat)
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    buffer = buffer.slice(start);
  };
}

/** Which round an event belongs to: the bench puts it in the item's data. */
function roundOf(data) {
  try {
    const round = JSON.parse(data)?.item?.data?.round;
    return typeof round === 'number' ? round : undefined;
  } catch {
    return undefined;
  }
}

function onStreamEvent(stream, type, data, idText, bytes) {
  const at = performance.now();
  if (!stream.opened) {
    stream.opened = true;
    stream.lastId = idText === undefined ? null : Number(idText);
    stream.onOpen();
    return;
  }
  if (idText !== undefined && stream.lastId !== null) {
    const id = Number(idText);
    if (id <= stream.lastId) totals.duplicates++;
    else if (id !== stream.lastId + 1) totals.gaps++;
    stream.lastId = Math.max(stream.lastId, id);
  }
  if (type !== ROUND_EVENT) return;
  totals.events++;
  totals.eventBytes += bytes;
  const round = roundOf(data);
  if (round === undefined) {
    totals.unparsable++;
    return;
  }
  if (current === null || round !== current.round) {
    totals.strays++;
    return;
  }
  if (!Number.isNaN(current.arrivals[stream.index])) {
    totals.duplicates++;
    return;
  }
  current.arrivals[stream.index] = at;
  current.received++;
  current.settle();
}

function openStream(path, index) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const stream = { index, path, opened: false, lastId: null, request: null, closing: false, onOpen: resolve };
    // agent: false — a connection of its own, as every browser tab holding an inbox has.
    const request = http.request({ hostname, port, path, agent: false, headers: { accept: 'text/event-stream' } });
    stream.request = request;
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET ${path}: HTTP ${response.statusCode}`));
        response.resume();
        return;
      }
      response.setEncoding('utf8');
      response.on(
        'data',
        sseParser((type, data, id, bytes) => onStreamEvent(stream, type, data, id, bytes)),
      );
      response.on('end', () => {
        if (!stream.closing) errors.push(`stream ${index} ended by the server`);
      });
    });
    request.on('error', (error) => {
      if (stream.closing) return;
      if (!stream.opened) reject(error);
      else errors.push(`stream ${index}: ${error.message}`);
    });
    request.end();
    streams[index] = stream;
  });
}

async function open({ origin: base, paths, concurrency }) {
  const limit = openFileLimit();
  if (limit < paths.length + 64) {
    throw new Error(
      `the open-file limit is ${limit}, too low for ${paths.length} streams: raise it (ulimit -n 4096) and rerun`,
    );
  }
  origin = base;
  streams = new Array(paths.length);
  const startedAt = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, paths.length) }, async () => {
      while (next < paths.length) {
        const index = next++;
        await openStream(paths[index], index);
      }
    }),
  );
  return { opened: paths.length, ms: Math.round(performance.now() - startedAt) };
}

function close() {
  for (const stream of streams) {
    if (!stream) continue;
    stream.closing = true;
    stream.request.destroy();
  }
  const closed = streams.length;
  streams = [];
  return { closed };
}

const publisher = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** Sends the round's publishing request; resolves with its status when the whole answer is in. */
function publish({ path, headers, body }) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent: publisher,
        hostname,
        port,
        path,
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode, text, at: performance.now() }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function round({ round: number, request, deadlineMs }) {
  const arrivals = new Float64Array(streams.length).fill(NaN);
  let done;
  const complete = new Promise((resolve) => (done = resolve));
  current = {
    round: number,
    arrivals,
    received: 0,
    acceptedAt: null,
    settle() {
      if (this.acceptedAt !== null && this.received === arrivals.length) done(true);
    },
  };
  const sentAt = performance.now();
  const answer = await publish(request);
  if (answer.status !== request.status) {
    current = null;
    throw new Error(`POST ${request.path}: expected HTTP ${request.status}, got ${answer.status}: ${answer.text}`);
  }
  current.acceptedAt = answer.at;
  current.settle();
  const timer = setTimeout(() => done(false), deadlineMs);
  const completed = await complete;
  clearTimeout(timer);
  const { acceptedAt, received } = current;
  current = null;
  // Rounded to µs: enough for the figures, and a shorter IPC message.
  const latencies = Array.from(arrivals, (at) =>
    Number.isNaN(at) ? null : Math.round((at - acceptedAt) * 1000) / 1000,
  );
  const answerMs = Math.round((acceptedAt - sentAt) * 1000) / 1000;
  return { completed, received, missing: arrivals.length - received, answerMs, latencies };
}

function check() {
  const notOpen = streams.filter((stream) => stream && !stream.opened).length;
  return { ...totals, notOpen, errors: errors.slice(0, 20), errorCount: errors.length };
}

async function answer(message) {
  switch (message.cmd) {
    case 'open':
      return open(message);
    case 'close':
      return close();
    case 'round':
      return round(message);
    case 'check':
      return check();
    default:
      throw new Error(`unknown command ${message.cmd}`);
  }
}

process.on('message', (message) => {
  answer(message).then(
    (result) => process.send({ id: message.id, ...result }),
    (error) => process.send({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => {
  close();
  process.exit(0);
});
process.send({ ready: true });
