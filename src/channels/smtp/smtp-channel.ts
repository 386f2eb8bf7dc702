import { createTransport, type Transporter } from 'nodemailer';
import type { DeliveryOutcome, EmailChannel, EmailMessage } from '../../core/types.js';
import { composeEmail } from '../email/compose-email.js';
import type { Mailbox } from '../email/mime.js';
import { classifySmtpError } from './classify-smtp-error.js';

export interface SmtpChannelOptions {
  /** `smtp://user:pass@host:port` or `smtps://…` */
  url: string;
  from: Mailbox;
  /** Pooled connections kept open to the server. */
  maxConnections: number;
  /** Per-step socket timeout; keep it below the job lease so a hung send cannot outlive it. */
  timeoutMs: number;
}

/** Sends over SMTP through a nodemailer pool, with MIME composed by Herald (see compose-email). */
export function createSmtpChannel(options: SmtpChannelOptions): EmailChannel {
  const url = new URL(options.url);
  const transport: Transporter = createTransport({
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: true,
    maxConnections: options.maxConnections,
    maxMessages: Infinity,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });

  return {
    provider: 'smtp',

    async send(email: EmailMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      const { raw } = composeEmail(email, options.from);
      // The signal cancels the send inside nodemailer too (dequeued, or its connection closed):
      // a send merely abandoned here would still go out later and then again on retry.
      // `signal` is nodemailer ≥ 10.5; @types/nodemailer does not declare it yet.
      const mail = { envelope: { from: options.from.address, to: [email.to] }, raw, signal };
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
