/**
 * The webhook bench's HTTP receiver, run in its own process (child_process.fork) so its CPU is not
 * charged to the process under test. It takes every POST with keep-alive, reads the whole body,
 * answers 200 at once, and records when each `webhook-id` first arrived. One request in
 * VERIFY_EVERY has its Standard Webhooks signature checked against the secret the parent gave, so
 * a run proves its signatures are real without the sink spending a core on HMACs.
 *
 * IPC: the parent sends { id, cmd: 'stats' | 'reset' | 'arrivals', secret? } and gets
 * { id, ...answer }; `reset` takes the signing secret of the next run. At start the sink sends
 * { ready: true, port }. It exits when the parent goes away.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { wallClockMs } from './support/measure.js';

/** The first request and then one in this many is verified. */
const VERIFY_EVERY = 100;

let key = null; // the secret's bytes
let arrivals = new Map(); // webhook-id → first arrival, wall-clock ms
let requests = 0;
let duplicates = 0;
let withoutId = 0;
let verified = 0;
let badSignatures = 0;
let firstAt = null;
let lastAt = null;

function reset(secret) {
  key = secret ? Buffer.from(secret.replace(/^whsec_/, ''), 'base64') : null;
  arrivals = new Map();
  requests = duplicates = withoutId = verified = badSignatures = 0;
  firstAt = lastAt = null;
}

/** Standard Webhooks: any `v1,<base64 HMAC-SHA256 of id.timestamp.body>` in the header matches. */
function signatureMatches(headers, body) {
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`)
    .update(body)
    .digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .some((entry) => {
      const given = Buffer.from(entry.replace(/^v1,/, ''), 'base64');
      return entry.startsWith('v1,') && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

function record(headers, body) {
  const at = wallClockMs();
  requests++;
  firstAt ??= at;
  lastAt = at;
  const id = headers['webhook-id'];
  if (!id) withoutId++;
  else if (arrivals.has(id)) duplicates++;
  else arrivals.set(id, at);
  if (key && (requests - 1) % VERIFY_EVERY === 0) {
    verified++;
    if (!signatureMatches(headers, body)) badSignatures++;
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    record(req.headers, Buffer.concat(chunks));
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
});
// Senders keep their connections for the whole run: never close an idle one under them.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.on('error', (error) => console.error(`webhook sink: ${error.message}`));

function answer({ cmd, secret }) {
  switch (cmd) {
    case 'stats':
      return {
        messages: requests,
        distinct: arrivals.size,
        duplicates,
        withoutId,
        verified,
        badSignatures,
        firstAt,
        lastAt,
      };
    case 'reset':
      reset(secret);
      return { ok: true };
    case 'arrivals':
      return { arrivals: Object.fromEntries(arrivals) };
    default:
      return { error: `unknown command ${cmd}` };
  }
}

process.on('message', (message) => process.send({ id: message.id, ...answer(message) }));
process.on('disconnect', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1_000); // clients that keep their connection open do not hold us
});

server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
