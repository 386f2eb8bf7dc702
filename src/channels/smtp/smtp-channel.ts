import type { Socket } from 'node:net';
import { createTransport, type Transporter } from 'nodemailer';
import type { DeliveryOutcome, EmailChannel, EmailMessage } from '../../core/types.js';
import { composeEmail } from '../email/compose-email.js';
import type { Mailbox } from '../email/mime.js';
import type { OpenSocket } from '../outbound/guarded-socket.js';
import { hostOf, SMTP } from '../outbound/ssrf.js';
import { classifySmtpError } from './classify-smtp-error.js';

export interface SmtpChannelOptions {
  /** `smtp://user:pass@host:port` or `smtps://…` */
  url: string;
  from: Mailbox;
  /** Pooled connections kept open to the server. */
  maxConnections: number;
  /** Per-step socket timeout; keep it below the job lease so a hung send cannot outlive it. */
  timeoutMs: number;
  /**
   * Opens each pooled connection through the SSRF guard (integrations saved through the API).
   * null for the server an operator configured (HERALD_SMTP_URL): nodemailer connects itself.
   */
  openSocket: OpenSocket | null;
}

type GetSocket = (options: unknown, callback: (error: Error | null, socket?: { connection: Socket }) => void) => void;

/** Sends over SMTP through a nodemailer pool, with MIME composed by Herald (see compose-email). */
export function createSmtpChannel(options: SmtpChannelOptions): EmailChannel {
  const url = new URL(options.url);
  // The host as the SSRF guard reads it (an IPv4 address in any spelling written out).
  const host = hostOf(url) ?? url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587;
  const { openSocket } = options;
  // Each new pooled connection: resolved, vetted and connected here; nodemailer then speaks SMTP
  // over it (TLS for smtps:// and STARTTLS still check the certificate against `host`).
  const getSocket: GetSocket | null =
    openSocket &&
    ((_options, callback) => {
      openSocket({ host, port, urlPort: url.port, protocol: SMTP }).then(
        (connection) => callback(null, { connection }),
        (error: Error) => callback(error),
      );
    });
  const transport: Transporter = createTransport({
    host,
    port,
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: true,
    maxConnections: options.maxConnections,
    maxMessages: Infinity,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    ...(getSocket && { getSocket }),
  } as Parameters<typeof createTransport>[0]);

  return {
    provider: 'smtp',

    async send(email: EmailMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      const { raw, headers } = composeEmail(email, options.from);
      // The signal cancels the send inside nodemailer too (dequeued, or its connection closed):
      // a send merely abandoned here would still go out later and then again on retry.
      // `signal` is nodemailer ≥ 10.5; @types/nodemailer does not declare it yet. `messageId` is the
      // one in `raw`: nodemailer reports it back instead of making up (and drawing random bytes
      // for) one of its own that the email does not carry.
      const envelope = { from: options.from.address, to: [email.to] };
      const mail = { envelope, raw, messageId: headers['Message-ID'], signal };
      const sending = transport.sendMail(mail as Parameters<Transporter['sendMail']>[0]);
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<DeliveryOutcome>((resolve) => {
        onAbort = () => resolve({ status: 'retry', reason: 'timed out waiting for the SMTP server' });
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const info = await Promise.race([sending.then((sent) => ({ sent })), aborted]);
        if (!('sent' in info)) return info;
        const detail = String((info.sent as { response?: string }).response ?? 'accepted').slice(0, 500);
        return { status: 'sent', providerMessageId: String(info.sent.messageId ?? ''), detail };
      } catch (error) {
        return classifySmtpError(error);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
        sending.catch(() => undefined); // a send abandoned on timeout must not become an unhandled rejection
      }
    },

    async close() {
      // Callers close the channel once they stop waiting for sends (shutdown): connections still
      // delivering are ended too, or a stalled server would hold the process until socket timeout.
      // `force` is nodemailer ≥ 10.4; @types/nodemailer does not declare it yet.
      (transport as unknown as { close(options: { force: boolean }): void }).close({ force: true });
    },
  };
}
