import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  heraldMessageId: string;
  messageIdHeader: string;
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

export interface SmtpSinkOptions {
  /**
   * Decides the reply to each message before accepting it: return an SMTP error like
   * `{ code: 451, message: 'try later' }`, or undefined to accept. `attempt` counts deliveries of
   * the same X-Herald-Message-Id, starting at 1.
   */
  reject?: (heraldMessageId: string, attempt: number) => { code: number; message: string } | undefined;
  /** Milliseconds to hold a message (counted as an attempt already) before answering; 0 by default. */
  holdMs?: (heraldMessageId: string, envelopeTo: string[]) => number;
}

export interface SmtpSink {
  url: string;
  port: number;
  /** Accepted messages, in arrival order. */
  received: ReceivedMail[];
  /** Every delivery attempt per X-Herald-Message-Id, accepted or not. */
  attempts: Map<string, number>;
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 (smtp-server), parsing each message with mailparser. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const attempts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          async (parsed) => {
            const heraldMessageId = String(parsed.headers.get('x-herald-message-id') ?? '');
            const attempt = (attempts.get(heraldMessageId) ?? 0) + 1;
            attempts.set(heraldMessageId, attempt);
            const envelopeTo = session.envelope.rcptTo.map((rcpt) => rcpt.address);
            const holdMs = options.holdMs?.(heraldMessageId, envelopeTo) ?? 0;
            if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
            const rejection = options.reject?.(heraldMessageId, attempt);
            if (rejection) {
              const error = new Error(rejection.message) as Error & { responseCode: number };
              error.responseCode = rejection.code;
              callback(error);
              return;
            }
            received.push({
              heraldMessageId,
              messageIdHeader: parsed.messageId ?? '',
              envelopeTo,
              raw,
              parsed,
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  // A client killed mid-session resets its socket; smtp-server reports that as an 'error' event,
  // which would be thrown as unhandled without a listener. Crash tests kill clients on purpose.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
