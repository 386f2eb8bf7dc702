import type { DeliveryOutcome } from '../../core/types.js';
import { OutboundRefused } from '../outbound/ssrf.js';

interface SmtpErrorLike {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
  /** The SMTP phase nodemailer was in: CONN (connecting, the greeting), EHLO, AUTH …, RCPT TO, DATA. */
  command?: string;
}

/** Connection-level failures: the message may not have reached the server, so try again. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'EPROTOCOL', 'ETLS']);

/**
 * Phases in which the peer has not yet shown itself to be an SMTP server: it has not greeted with
 * 220 and answered EHLO/HELO. What such a peer sent is never repeated in an outcome (the delivery
 * log, the /test answer): an SMTP URL pointed at another service (SSH, Redis, an internal HTTP
 * API) would otherwise make Herald a banner grabber for whoever holds an API key.
 */
const BEFORE_SMTP = new Set(['CONN', 'EHLO', 'HELO', 'LHLO']);

/**
 * Maps an SMTP failure to an outcome: 4xx replies and connection problems are transient, 5xx
 * replies are permanent (RFC 5321 §4.2.1), except authentication failures, which are Herald's
 * configuration rather than the message's. An address the SSRF guard refused fails for good.
 * Anything unrecognised is treated as transient.
 */
export function classifySmtpError(error: unknown): DeliveryOutcome {
  if (error instanceof OutboundRefused) return { status: 'failed', reason: `refused: ${error.message}` };
  const e = (error ?? {}) as SmtpErrorLike;
  if (e.command !== undefined && BEFORE_SMTP.has(e.command) && e.response !== undefined) {
    return { status: 'retry', reason: unspokenReason(e) };
  }
  const reply = (e.response ?? e.message ?? String(error)).slice(0, 500);
  // Rejected credentials (535, 534, 530) are about Herald's configuration, not this message:
  // retrying gives the operator the retry schedule to fix HERALD_SMTP_URL without losing mail.
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') {
    return { status: 'retry', reason: `SMTP authentication failed (check the credentials in the SMTP URL): ${reply}` };
  }
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return { status: 'failed', reason: `SMTP ${e.responseCode}: ${reply}` };
    if (e.responseCode >= 400) {
      return { status: 'retry', reason: `SMTP ${e.responseCode}: ${reply}`, providerAnswered: true };
    }
  }
  if (e.code && TRANSIENT_CODES.has(e.code)) return { status: 'retry', reason: `${e.code}: ${reply}` };
  if (e.code === 'EENVELOPE') return { status: 'failed', reason: `invalid envelope: ${reply}` };
  return { status: 'retry', reason: e.code ? `${e.code}: ${reply}` : reply };
}

/** What went wrong before the peer spoke SMTP, in Herald's words only. */
function unspokenReason(e: SmtpErrorLike): string {
  if (e.command === 'CONN' && e.code === 'EPROTOCOL') {
    return 'the server did not greet as an SMTP server (no 220 greeting); what it sent is not shown';
  }
  if (e.command === 'CONN') return `${e.code ?? 'ECONNECTION'}: the server closed the connection`;
  return `the server greeted but did not accept ${e.command}; what it sent is not shown`;
}
