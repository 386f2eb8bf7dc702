/**
 * The inbox bench's ceiling: the least a Node server can do to fan one event out to a thousand
 * Server-Sent Events streams. Plain `node:http`, no framework, nothing durable: it keeps the open
 * responses in a Map and, on POST /publish, answers 200 and then writes one `item.created` frame to
 * every stream, shaped and sized like Herald's (an item and the subscriber's counts, serialised
 * per stream). Run as `node bench/inbox-ceiling-process.js`; it prints `listening on <url>`.
 *
 *   GET  /stream?subscriberId=…  an SSE stream; `counts` (id 0) on connect, as Herald sends
 *   POST /publish {round, title, body}  200, then one frame to every open stream
 *   GET  /memory                  process.memoryUsage() of this process
 */
import { createServer } from 'node:http';

const WORKFLOW_KEY = 'bench-inbox';

/** subscriberId → { response, seq }: all the state there is. */
const streams = new Map();

function frame(type, data, id) {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function openStream(request, response, subscriberId) {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
  });
  request.socket.setNoDelay(true);
  response.write('retry: 2000\n\n');
  const stream = { response, seq: 0 };
  streams.set(subscriberId, stream);
  response.write(frame('counts', { counts: { total: 0, unread: 0, unseen: 0 } }, 0));
  response.on('close', () => {
    if (streams.get(subscriberId) === stream) streams.delete(subscriberId);
  });
}

function publish({ round, title, body }) {
  const createdAt = Date.now();
  let n = 0;
  for (const stream of streams.values()) {
    stream.seq++;
    // An id as long as Herald's message ids (prefix and 26 characters).
    const id = `msg_${String(round).padStart(6, '0')}${String(n++).padStart(20, '0')}`;
    const item = {
      id,
      workflowKey: WORKFLOW_KEY,
      title,
      body,
      actionUrl: null,
      avatarUrl: null,
      data: { round },
      createdAt,
      seenAt: null,
      readAt: null,
      archivedAt: null,
    };
    const counts = { total: stream.seq, unread: stream.seq, unseen: stream.seq };
    stream.response.write(frame('item.created', { item, counts }, stream.seq));
  }
}

function readJson(request) {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

function answerJson(response, status, value) {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://localhost');
  if (request.method === 'GET' && url.pathname === '/stream') {
    openStream(request, response, url.searchParams.get('subscriberId') ?? '');
  } else if (request.method === 'POST' && url.pathname === '/publish') {
    readJson(request).then(
      (message) => {
        // Answered first, as Herald answers 202 before its delivery: the latency is the fan-out.
        answerJson(response, 200, { streams: streams.size });
        publish(message);
      },
      () => answerJson(response, 400, { error: 'invalid JSON' }),
    );
  } else if (request.method === 'GET' && url.pathname === '/memory') {
    answerJson(response, 200, process.memoryUsage());
  } else {
    answerJson(response, 404, { error: 'not found' });
  }
});
// Streams idle for the whole run: never time them out.
server.requestTimeout = 0;
server.keepAliveTimeout = 60_000;
server.on('error', (error) => console.error(`inbox ceiling: ${error.message}`));
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
