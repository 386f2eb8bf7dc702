/**
 * The Vonage SMS API answers HTTP 200 whatever happened; each message part's `status` says how it
 * went. This sorts the documented statuses (https://developer.vonage.com/en/api-errors/sms) into
 * those that pass with time and those that retrying cannot fix.
 *
 * Transient: the platform is busy or failing (1 throttled, 5 internal error, 10 too many binds),
 * or the account is the problem rather than the message (4 bad credentials, 8 account barred,
 * 9 out of credit, 11 account not enabled for HTTP, 14 invalid signature, 32 signature and secret
 * both sent): like an HTTP 401, fixing the integration lets the same message through, so the
 * retry policy keeps it until then.
 *
 * Permanent: this message or its recipient is refused (2 missing and 3 invalid parameters,
 * 6 unroutable number, 7 barred number, 12 too long, 15 sender not allowed for the destination,
 * 22 invalid network code, 23 invalid callback URL, 29 destination not on a trial account's
 * whitelist, 33 number deactivated). Unknown statuses count as permanent, as an unknown 4xx does.
 */
const TRANSIENT_STATUSES = new Set(['1', '4', '5', '8', '9', '10', '11', '14', '32']);

export function isTransientVonageStatus(status: string): boolean {
  return TRANSIENT_STATUSES.has(status);
}

/**
 * GSM 03.38 basic set plus its extension table. Text outside it must be sent as `type=unicode`,
 * or Vonage replaces the characters it cannot encode.
 */
const GSM_7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\fÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;

export function needsUnicode(text: string): boolean {
  return !GSM_7.test(text);
}
