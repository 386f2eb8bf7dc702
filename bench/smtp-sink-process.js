/**
 * The benches' SMTP server, run in its own process (child_process.fork) so its CPU is not
 * charged to the process under test. It accepts every message, reads only the header block to
 * find X-Herald-Message-Id (no MIME parsing), and records when each id first arrived.
 *
 * IPC: the parent sends { id, cmd: 'stats' | 'reset' | 'arrivals' } and gets { id, ...answer };
 * at start the sink sends { ready: true, port }. It exits when the parent goes away.
 */
import { SMTPServer } from 'smtp-server';
import { wallClockMs } from './support/measure.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const MESSAGE_ID_HEADER = /^x-herald-message-id:[ \t]*([^\r\n]+)/im;
/** Header blocks longer than this are not scanned further (the id header comes early). */
const MAX_HEADER_BYTES = 64 * 1024;

let arrivals = new Map(); // X-Herald-Message-Id → first arrival, wall-clock ms
let messages = 0;
let duplicates = 0;
let withoutId = 0;
let firstAt = null;
let lastAt = null;

function reset() {
  arrivals = new Map();
  messages = duplicates = withoutId = 0;
  firstAt = lastAt = null;
}

function record(heraldMessageId) {
  const at = wallClockMs();
  messages++;
  firstAt ??= at;
  lastAt = at;
  if (!heraldMessageId) withoutId++;
  else if (arrivals.has(heraldMessageId)) duplicates++;
  else arrivals.set(heraldMessageId, at);
}

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    let head = Buffer.alloc(0);
    let scanning = true;
    stream.on('data', (chunk) => {
      if (!scanning) return;
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end >= 0) {
        head = head.subarray(0, end);
        scanning = false;
      } else if (head.length > MAX_HEADER_BYTES) {
        scanning = false;
      }
    });
    stream.on('end', () => {
      record(MESSAGE_ID_HEADER.exec(head.toString('latin1'))?.[1]?.trim());
      callback();
    });
  },
});
server.on('error', (error) => console.error(`smtp sink: ${error.message}`));

function answer(cmd) {
  switch (cmd) {
    case 'stats':
      return { messages, distinct: arrivals.size, duplicates, withoutId, firstAt, lastAt };
    case 'reset':
      reset();
      return { ok: true };
    case 'arrivals':
      return { arrivals: Object.fromEntries(arrivals) };
    default:
      return { error: `unknown command ${cmd}` };
  }
}

process.on('message', (message) => process.send({ id: message.id, ...answer(message.cmd) }));
process.on('disconnect', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1_000); // clients that keep their connection open do not hold us
});

server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.server.address().port }));
