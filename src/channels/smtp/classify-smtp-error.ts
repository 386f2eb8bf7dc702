import type { DeliveryOutcome } from '../../core/types.js';

interface SmtpErrorLike {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** Connection-level failures: the message may not have reached the server, so try again. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'EPROTOCOL', 'ETLS']);

/**
 * Maps an SMTP failure to an outcome: 4xx replies and connection problems are transient, 5xx
 * replies are permanent (RFC 5321 §4.2.1), except authentication failures, which are Herald's
 * configuration rather than the message's. Anything unrecognised is treated as transient.
 */
export function classifySmtpError(error: unknown): DeliveryOutcome {
  const e = (error ?? {}) as SmtpErrorLike;
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
