/**
 * Micro-benchmark: CPU per message of Herald's MIME composer (src/channels/email/mime.ts, through
 * composeEmail) against nodemailer's MailComposer building the same message, in one process.
 *
 *   npm run build && node bench/mime-compose.js [--rounds 9] [--messages 2000]
 *
 * Two emails: the e2e bench's (rendered once with Herald's renderer: 5.3 KB HTML with a few
 * non-ASCII characters, its derived text part, a 47 B subject) and a short all-ASCII one (Herald
 * sends its parts as 7bit). Rounds alternate between the composers, so a disturbance of the machine
 * lands on both; the figure is the median of the rounds with min–max. CPU is this process's
 * (process.cpuUsage), steadier than wall-clock time while other work shares the machine.
 * Writes bench/results/mime-compose.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import MailComposer from 'nodemailer/lib/mail-composer';
import { composeEmail } from '../dist/channels/email/compose-email.js';
import { parseMailbox } from '../dist/channels/email/mime.js';
import { ceilingEmail } from './e2e.js';
import { machineInfo, round } from './support/measure.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '9' }, messages: { type: 'string', default: '2000' } },
});
const ROUNDS = Number(values.rounds);
const MESSAGES = Number(values.messages);

const from = parseMailbox(ceilingEmail().email.from);
const emails = {
  'e2e bench email': { ...ceilingEmail().email, toName: 'Alex Example' },
  'short ASCII email': {
    to: 'ada@example.com',
    toName: 'Ada Lovelace',
    subject: 'Your report is ready',
    text: 'Hello Ada,\n\nYour weekly report is ready: https://example.com/reports/42\n',
    html: '<p>Hello Ada,</p>\n<p>Your weekly <a href="https://example.com/reports/42">report</a> is ready.</p>\n',
  },
};

/** Herald: the wire form the SMTP channel hands to nodemailer's pool. */
function herald(email, i) {
  const message = { ...email, messageId: `msg_${i}`, environmentId: 'env' };
  return composeEmail(message, from).raw.length;
}

/** nodemailer: what sendMail composes for the same message (headers, ids and date given, as Herald's). */
async function nodemailer(email, i) {
  const raw = await new MailComposer({
    from: { name: from.name, address: from.address },
    to: { name: email.toName, address: email.to },
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: `<msg_${i}@${from.address.split('@')[1]}>`,
    date: new Date(),
    headers: { 'X-Herald-Message-Id': `msg_${i}` },
  })
    .compile()
    .build();
  return raw.length;
}

/** CPU microseconds per message over one round of MESSAGES compositions. */
async function round_(compose, email) {
  let bytes = 0;
  const before = process.cpuUsage();
  for (let i = 0; i < MESSAGES; i++) bytes += await compose(email, i);
  const used = process.cpuUsage(before);
  return { usPerMessage: (used.user + used.system) / MESSAGES, bytesPerMessage: bytes / MESSAGES };
}

function summary(samples) {
  const sorted = samples.map((s) => s.usPerMessage).sort((a, b) => a - b);
  return {
    medianUs: round(sorted[Math.floor(sorted.length / 2)], 1),
    minUs: round(sorted[0], 1),
    maxUs: round(sorted.at(-1), 1),
    bytes: round(samples[0].bytesPerMessage),
  };
}

const machine = machineInfo();
console.log(`MIME composer micro-bench · ${machine.cpus} cores (${machine.cpuModel}) · node ${machine.node}`);
console.log(`${ROUNDS} rounds of ${MESSAGES} messages per composer, alternating; CPU µs per message, median (min–max)`);
const results = {};
for (const [name, email] of Object.entries(emails)) {
  // Warm-up: JIT both paths before measuring.
  await round_(herald, email);
  await round_(nodemailer, email);
  const samples = { herald: [], nodemailer: [] };
  for (let r = 0; r < ROUNDS; r++) {
    samples.herald.push(await round_(herald, email));
    samples.nodemailer.push(await round_(nodemailer, email));
  }
  const h = summary(samples.herald);
  const n = summary(samples.nodemailer);
  results[name] = { herald: h, nodemailer: n, ratio: round(n.medianUs / h.medianUs, 1) };
  console.log(`  ${name}`);
  console.log(`    herald      ${h.medianUs} µs (${h.minUs}–${h.maxUs}) · ${h.bytes} B`);
  console.log(`    nodemailer  ${n.medianUs} µs (${n.minUs}–${n.maxUs}) · ${n.bytes} B`);
  console.log(`    nodemailer ÷ herald: ${results[name].ratio}×`);
}

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL('mime-compose.json', dir);
writeFileSync(
  file,
  JSON.stringify(
    { name: 'mime-compose', machine, settings: { rounds: ROUNDS, messages: MESSAGES }, results },
    null,
    2,
  ) + '\n',
);
console.log(`written: bench/results/mime-compose.json`);
